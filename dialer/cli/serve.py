"""``dialer serve``: the HTTP API and the upload page, served by uvicorn.

With no broker configured the server dials too: the embedded runner (as ``dialer run``) runs
on a thread of this process, started and stopped with the server (``--no-dial`` to opt out).
With a broker, the Celery workers dial. SIGTERM stops the server as Ctrl-C does: uvicorn
finishes its requests, the runner lets calls in flight finish, the phone pool stops, exit 0.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from dialer.cli.context import context, err_console

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from dialer.runner import EmbeddedRunner
    from dialer.settings import Settings

DIALS_HERE = "this server (embedded runner)"
NOT_DIALING = (
    "nobody: this server was started with --no-dial and no broker is configured; "
    "run `dialer run` next to it, or restart it without --no-dial"
)


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    no_dial: Annotated[
        bool,
        typer.Option("--no-dial", help="With no broker, do not dial here (default: dial)."),
    ] = False,
) -> None:
    """Serve the HTTP API and the console at /; with no broker configured, dial here too."""
    # Imported here: the web stack costs every other command a second of startup.
    import uvicorn

    from dialer.api.app import create_app
    from dialer.api.auth import keys_for_serving

    cli = context(ctx)
    settings, generated = keys_for_serving(cli.settings, host=host)
    dials_here = settings.embedded and not no_dial
    dialing = None if not settings.embedded else DIALS_HERE if dials_here else NOT_DIALING
    runner = _runner(settings, cli.engine) if dials_here else None
    # The API shares the runner's gate: an outcome a webhook reports frees its place at once.
    gate = None if runner is None else runner.service.gate
    app = create_app(settings, cli.engine, dialing=dialing, gate=gate)
    if generated is not None:
        err_console.print("No api_keys configured: this run's API key is", markup=False)
        err_console.print(generated, markup=False, soft_wrap=True)
    err_console.print(f"Upload page: http://{host}:{port}/", markup=False)
    err_console.print(f"Dialing: {app.state.dialer.dialing}", markup=False, soft_wrap=True)
    # uvicorn stops gracefully on SIGTERM, then sends it again to the handler found before it
    # started: this one ends the command as Ctrl-C does, instead of the default killing the
    # process before the runner and the phone pool have stopped.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with _dialing(runner):
            uvicorn.run(app, host=host, port=port, log_level="info")
    except KeyboardInterrupt:
        pass  # uvicorn has shut down; so has the runner, on the way out of `_dialing`
    finally:
        _stop_phone_pool()


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _runner(settings: Settings, engine: Engine) -> EmbeddedRunner:
    from dialer.runner import EmbeddedRunner
    from dialer.wiring import build_service

    return EmbeddedRunner(build_service(settings, engine))


@contextmanager
def _dialing(runner: EmbeddedRunner | None) -> Iterator[None]:
    """``runner`` on a thread while the block runs (nothing without one)."""
    if runner is None:
        yield
        return
    thread = threading.Thread(target=runner.run, kwargs={"drain": False}, name="dialer-runner")
    thread.start()
    try:
        yield
    finally:
        err_console.print("stopping the dialer: letting calls in flight finish...", markup=False)
        runner.stop()
        thread.join()


def _stop_phone_pool() -> None:
    """Stop the import's phone-normalization processes, if an upload started them."""
    from dialer.leads.phones import shutdown_pool

    shutdown_pool()
