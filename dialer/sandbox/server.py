"""The sandbox server: an asyncio loop serving :class:`SandboxApp`, in a background thread
(tests, the demo) or in the foreground (``dialer sandbox``, ``python -m dialer.sandbox``).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable
from types import TracebackType

from dialer.sandbox.app import SandboxApp
from dialer.sandbox.config import SandboxConfig
from dialer.sandbox.http import serve_connection
from dialer.sandbox.state import SandboxState
from dialer.settings import SANDBOX_PORT

# Hundreds of clients connect at once in the benchmarks; the default backlog of 100 would make
# some of them wait for a SYN retry (a second or more).
_BACKLOG = 4096
_START_TIMEOUT = 10.0


class SandboxServer:
    """A local server speaking every provider API, plus the ``/_sandbox/`` control API.

    ``port=0`` picks a free port (see :attr:`url`). Keyword options are config keys
    (:class:`~dialer.sandbox.config.SandboxConfig`); ValueError if one is unknown or invalid.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, latency_ms: int = 0, **options: object
    ) -> None:
        self.host = host
        self.port = port
        self.config = SandboxConfig().updated({"latency_ms": latency_ms, **options})
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Serve from a daemon thread; return once listening. Raises OSError if it cannot bind."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def main() -> None:
            try:
                asyncio.run(self._serve(on_listening=ready.set))
            except BaseException as exc:  # reported to start() below; the thread just ends
                failure.append(exc)
            finally:
                ready.set()

        self._thread = threading.Thread(target=main, name="dialer-sandbox", daemon=True)
        self._thread.start()
        if not ready.wait(_START_TIMEOUT):
            raise TimeoutError(f"sandbox did not start listening on {self.url}")
        if failure:
            raise failure[0]

    def stop(self) -> None:
        """Stop serving: open connections (hanging ones too) are closed. Idempotent."""
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def serve_forever(self) -> None:
        """Serve in the foreground until Ctrl-C or SIGTERM, then stop cleanly."""
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(self._serve(on_listening=self._announce, handle_sigterm=True))

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _announce(self) -> None:
        print(f"dialer sandbox listening on {self.url}", flush=True)

    async def _serve(
        self, *, on_listening: Callable[[], None], handle_sigterm: bool = False
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if handle_sigterm:
            self._loop.add_signal_handler(signal.SIGTERM, self._stop.set)
        state = SandboxState(self.config)
        app = SandboxApp(state)
        connections: set[asyncio.Task[object]] = set()

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            connections.add(task)
            try:
                await serve_connection(reader, writer, app)
            except asyncio.CancelledError:
                # Cancelled only by the shutdown below. Ending normally instead matters: on
                # Python 3.11, asyncio's stream callback calls exception() on this task, which
                # raises for a cancelled one and prints a traceback.
                pass
            finally:
                connections.discard(task)

        server = await asyncio.start_server(on_connect, self.host, self.port, backlog=_BACKLOG)
        self.port = server.sockets[0].getsockname()[1]
        on_listening()
        try:
            await self._stop.wait()
        finally:
            server.close()
            for task in list(connections):
                task.cancel()
            await asyncio.gather(*connections, return_exceptions=True)
            await state.aclose()


def run(port: int = SANDBOX_PORT, latency_ms: int = 0, *, host: str = "127.0.0.1") -> None:
    """Serve in the foreground until Ctrl-C or SIGTERM: the ``dialer sandbox`` command.

    Prints one line once listening. OSError if the address cannot be bound (e.g. port in use).
    """
    SandboxServer(host, port, latency_ms=latency_ms).serve_forever()
