"""The installed ``dialer`` script's entry point: light on purpose.

multiprocessing's forkserver and spawn workers (the import's phone pool) run the program's
main module again before their first task. For the installed script that module imports
this one, so the command-line app, and with it pandas, SQLModel and typer, is imported when
``main`` runs rather than here: each worker then costs ~20 MiB and a fraction of a second
instead of ~180 MiB and ~3 s of CPU. (``python -m dialer`` needs no such care: workers never
re-run a ``__main__`` module.)
"""

from __future__ import annotations


def main() -> None:
    """Run the ``dialer`` command (:func:`dialer.cli.app.main`)."""
    from dialer.cli.app import main as run

    run()
