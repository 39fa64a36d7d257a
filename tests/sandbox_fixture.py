"""Drive the sandbox from tests: a client for its control API, and a way to run it as a process.

    with SandboxServer() as server, SandboxControl(server.url) as sandbox:
        sandbox.add_rule("+15555550100", "503", times=1, retry_after="2")
        ...  # point an adapter at server.url
        assert sandbox.requests(phone="+15555550100")[0]["status"] == 503

:class:`SandboxControl` speaks HTTP only, so it works the same against a server in this process
and against ``python -m dialer.sandbox`` in another (:func:`sandbox_process`).
"""

from __future__ import annotations

import functools
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import httpx

_STOP_TIMEOUT = 10.0


@functools.cache
def _tls() -> ssl.SSLContext:
    """The TLS context every control client of this process shares: loading the CA bundle
    into a new one takes ~15 ms of CPU, and tests make a client or two each."""
    return httpx.create_ssl_context()


class SandboxControl:
    """Client of ``/_sandbox/``. Raises ``httpx.HTTPStatusError`` when the sandbox refuses."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(base_url=f"{self.url}/_sandbox", timeout=timeout, verify=_tls())

    def add_rule(
        self,
        phone: str,
        action: str,
        times: int | None = None,
        retry_after: str | None = None,
    ) -> dict[str, Any]:
        """Fault requests dialing ``phone`` ("*" for any): an HTTP status, "hang" or "drop";
        for the first ``times`` such requests only, when given."""
        rule = {"phone": phone, "action": action, "times": times, "retry_after": retry_after}
        added: dict[str, Any] = self._call("POST", "/rules", json=rule)
        return added

    def clear_rules(self, phone: str | None = None) -> int:
        params = {"phone": phone} if phone else None
        deleted: int = self._call("DELETE", "/rules", params=params)["deleted"]
        return deleted

    def requests(self, phone: str | None = None, route: str | None = None) -> list[dict[str, Any]]:
        """Records of the requests received, oldest first; ``route`` is a provider kind.
        Credentials shown: these tests assert on exact requests."""
        params = {key: value for key, value in (("phone", phone), ("route", route)) if value}
        params["credentials"] = "show"
        records: list[dict[str, Any]] = self._call("GET", "/requests", params=params)
        return records

    def clear(self) -> None:
        """Forget rules and request records and restore the sandbox's startup config."""
        self._call("POST", "/reset")

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change config keys (``latency_ms=200``, ``token_ttl=2``...); returns the new config."""
        config: dict[str, Any] = self._call("POST", "/config", json=changes)
        return config

    def healthy(self) -> bool:
        try:
            return self._client.get("/health").status_code == 200
        except httpx.TransportError:
            return False

    def wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.healthy():
            if time.monotonic() > deadline:
                raise TimeoutError(f"sandbox at {self.url} not ready after {timeout}s")
            time.sleep(0.05)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> SandboxControl:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._client.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()


@contextmanager
def sandbox_process(*, port: int = 0, latency_ms: int = 0) -> Iterator[SandboxControl]:
    """Run ``python -m dialer.sandbox`` for the duration; port 0 picks a free one.

    The process announces its URL on its first line of output; it is stopped by SIGTERM.
    """
    command = [sys.executable, "-m", "dialer.sandbox", "--port", str(port)]
    command += ["--latency-ms", str(latency_ms)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"sandbox process exited with {process.wait()} before listening")
        with SandboxControl(line.split()[-1]) as control:
            control.wait_ready()
            yield control
    finally:
        process.terminate()
        try:
            process.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
