"""The ``dialer`` command run as a user runs it: its exit code and output.

:func:`dialer` starts a real process (``python -m dialer``). :func:`dialer_here` runs the same
command in this process, as that process would: same arguments, directory, environment and
program name, output captured as bytes and decoded as :mod:`subprocess` decodes a pipe, an
uncaught exception a traceback on stderr and exit code 1. A command costs ~1.4 CPU-seconds as
a process, nearly all of it imports; here, after the first, tens of milliseconds. A test whose
subject is the command's logic and output uses :func:`dialer_here`; one whose subject is the
process (start-up imports, signals, exit on Ctrl-C, what logging writes to stderr, servers,
child processes) uses :func:`dialer`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import locale
import logging
import os
import runpy
import signal
import subprocess
import sys
import threading
import time
import traceback
import types
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

EXIT_USER_ERROR = 1
EXIT_SERVICE_DOWN = 3
EXIT_INTERRUPTED = 130


def environment(**extra: str) -> dict[str, str]:
    """This process's environment without DIALER_* settings, 200 columns wide."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALER_")}
    env.update({"COLUMNS": "200", **extra})
    return env


def dialer(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``dialer ARGS`` in ``cwd`` (``python -m dialer``), its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "dialer", *args],
        cwd=cwd,
        env=environment(**(env or {})),
        capture_output=True,
        text=True,
        timeout=120,
    )


# Read by typer (and so by the help's look) when it is first imported, not when a command runs:
# a command given one of these must run as a process.
_READ_AT_IMPORT = frozenset(
    {
        "TERMINAL_WIDTH",
        "_TYPER_FORCE_DISABLE_TERMINAL",
        "GITHUB_ACTIONS",
        "FORCE_COLOR",
        "PY_COLORS",
        "TYPER_USE_RICH",
        "TYPER_STANDARD_TRACEBACK",
        "_TYPER_STANDARD_TRACEBACK",
    }
)


def dialer_here(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``dialer ARGS`` in ``cwd`` run in this process, with :func:`dialer`'s result.

    What a fresh process would start from is set up for the command and put back after it:
    the environment (:func:`environment`), working directory, ``sys.argv`` and ``__main__``
    (the help's program name is ``python -m dialer``), standard streams, the two rich consoles
    of :mod:`dialer.cli.context` (rich reads the width and terminal when one is made), the
    root logger and log record factory, warning filters (Python's defaults, not pytest's),
    SIGINT and SIGTERM handlers, and the dialer's process-wide memories (secrets to mask,
    ledgers already migrated, token sources). Engines the command opened are disposed, a phone
    pool it started is shut down, and its non-daemon threads joined, as at a process's exit;
    a daemon thread still running afterwards is an error (the command needs a process).
    """
    extra = env or {}
    if _READ_AT_IMPORT & extra.keys():
        raise ValueError(f"run as a process: {sorted(_READ_AT_IMPORT & extra.keys())}")
    from dialer.cli.app import main

    stdout, stderr = _stream("strict"), _stream("backslashreplace")
    threads = set(threading.enumerate())
    with _fresh_process(cwd, [_MAIN_FILE, *args], environment(**extra), stdout, stderr):
        with _phone_pool_shut():
            try:
                main()
                code = 0
            except SystemExit as exc:
                code = _exit_code(exc.code, stderr)
            except BaseException:  # as the interpreter does with what reaches the top
                traceback.print_exc(file=stderr)
                code = 1
        _end_threads(threads)
    return subprocess.CompletedProcess(["dialer", *args], code, _decoded(stdout), _decoded(stderr))


def one_line_error(result: subprocess.CompletedProcess[str], code: int = EXIT_USER_ERROR) -> str:
    """The one ``error: ...`` line of a failed command, which exited with ``code``."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


_MAIN_FILE = str(importlib.util.find_spec("dialer.__main__").origin)  # type: ignore[union-attr]


def _stream(errors: str) -> io.TextIOWrapper:
    """A standard stream as Python makes one on a pipe (this process's encoding)."""
    encoding = getattr(sys.__stdout__, "encoding", None) or locale.getpreferredencoding(False)
    if errors == "strict":
        errors = getattr(sys.__stdout__, "errors", None) or errors
    return io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors=errors, write_through=True)


def _decoded(stream: io.TextIOWrapper) -> str:
    """What ``subprocess.run(text=True)`` makes of the bytes: universal newlines."""
    stream.flush()
    data = stream.buffer.getvalue()  # type: ignore[attr-defined]
    text: str = data.decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _exit_code(code: object, stderr: io.TextIOWrapper) -> int:
    """The exit status of ``sys.exit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=stderr)
    return 1


@contextlib.contextmanager
def _fresh_process(
    cwd: Path,
    argv: list[str],
    env: dict[str, str],
    stdout: io.TextIOWrapper,
    stderr: io.TextIOWrapper,
) -> Iterator[None]:
    saved_env = dict(os.environ)
    saved_argv, saved_main = sys.argv, sys.modules["__main__"]
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    saved_signals = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    before = os.getcwd()
    os.environ.clear()
    os.environ.update(env)
    time.tzset()
    os.chdir(cwd)
    sys.argv = argv
    sys.modules["__main__"] = _as_python_dash_m()
    sys.stdin = io.TextIOWrapper(io.BytesIO())
    sys.stdout, sys.stderr = stdout, stderr
    try:
        with (
            warnings.catch_warnings(),
            _fresh_consoles(),
            _fresh_logging(),
            _fresh_memories(),
            _engines_disposed(),
        ):
            _default_warning_filters()
            yield
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        sys.argv = saved_argv
        sys.modules["__main__"] = saved_main
        for number, handler in saved_signals.items():
            if signal.getsignal(number) is not handler:
                signal.signal(number, handler)
        os.chdir(before)
        os.environ.clear()
        os.environ.update(saved_env)
        time.tzset()


def _as_python_dash_m() -> types.ModuleType:
    """A ``__main__`` module as ``python -m dialer`` has one, as far as click's program name
    and multiprocessing's start methods look (no file for a child to run again)."""
    module = types.ModuleType("__main__")
    module.__package__ = "dialer"
    return module


def _default_warning_filters() -> None:
    """Python's filters in a process started without -W or PYTHONWARNINGS."""
    warnings.resetwarnings()
    for action, category, module in (
        ("ignore", ResourceWarning, ""),
        ("ignore", ImportWarning, ""),
        ("ignore", PendingDeprecationWarning, ""),
        ("ignore", DeprecationWarning, ""),
        ("default", DeprecationWarning, "__main__"),
    ):
        warnings.filterwarnings(action, category=category, module=module)  # type: ignore[arg-type]


@contextlib.contextmanager
def _fresh_consoles() -> Iterator[None]:
    """The consoles as dialer.cli.context makes them, now that the environment and streams are
    the command's: its code is run again and the new consoles' state put in the ones every
    command module imported."""
    from dialer.cli import context

    fresh = runpy.run_path(context.__file__)
    consoles = {name: getattr(context, name) for name in ("console", "err_console")}
    saved = {name: dict(vars(console)) for name, console in consoles.items()}
    for name, console in consoles.items():
        vars(console).update(vars(fresh[name]))
    try:
        yield
    finally:
        for name, console in consoles.items():
            vars(console).clear()
            vars(console).update(saved[name])


@contextlib.contextmanager
def _fresh_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    factory = logging.getLogRecordFactory()
    root.handlers.clear()
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.setLogRecordFactory(factory)


@contextlib.contextmanager
def _fresh_memories() -> Iterator[None]:
    """The dialer's process-wide state a fresh process starts without."""
    from dialer import logredaction, redaction
    from dialer.ledger import engine

    known, installed = redaction._known, logredaction._installed
    migrated = set(engine._migrated)
    redaction._known, logredaction._installed = (), False
    engine._migrated.clear()
    sources: dict[Any, Any] = {}
    legacy = sys.modules.get("dialer.providers.libby_legacy")
    if legacy is not None:
        sources = dict(legacy._sources)
        legacy._sources.clear()
    try:
        yield
    finally:
        redaction._known, logredaction._installed = known, installed
        engine._migrated.clear()
        engine._migrated.update(migrated)
        legacy = sys.modules.get("dialer.providers.libby_legacy")
        if legacy is not None:
            legacy._sources.clear()
            legacy._sources.update(sources)


@contextlib.contextmanager
def _engines_disposed() -> Iterator[None]:
    opened: set[Engine] = set()

    def connected(connection: Connection) -> None:
        opened.add(connection.engine)

    event.listen(Engine, "engine_connect", connected)
    try:
        yield
    finally:
        event.remove(Engine, "engine_connect", connected)
        for engine in opened:
            engine.dispose()


@contextlib.contextmanager
def _phone_pool_shut() -> Iterator[None]:
    phones = sys.modules.get("dialer.leads.phones")
    had_pool = phones is not None and phones._pool is not None
    try:
        yield
    finally:
        phones = sys.modules.get("dialer.leads.phones")
        if phones is not None and not had_pool:
            phones.shutdown_pool()


def _end_threads(before: set[threading.Thread]) -> None:
    """Join the command's threads as the interpreter does at exit; a daemon thread it left
    running would outlive a process but keeps running here."""
    for thread in set(threading.enumerate()) - before:
        if not thread.daemon:
            thread.join(timeout=60)
    left = [t.name for t in set(threading.enumerate()) - before if t.is_alive()]
    if left:
        raise AssertionError(f"the command left threads running: {left}; run it as a process")
