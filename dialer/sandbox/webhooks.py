"""Best-effort webhook delivery: one POST per call when it reaches a terminal state.

Like a real provider, the sandbox does not retry and does not care what the receiver answers;
a receiver that is down simply misses the event (the caller can still poll the status).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import httpx

TIMEOUT_SECONDS = 5.0


class Webhooks:
    """Pending deliveries of the running server; :meth:`aclose` cancels those not yet sent."""

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def schedule(self, url: str, *, delay: float, payload: Callable[[], dict[str, Any]]) -> None:
        """POST ``payload()`` (built at send time) to ``url`` after ``delay`` seconds.

        Must be called from the server's event loop.
        """
        task = asyncio.get_running_loop().create_task(self._deliver(url, delay, payload))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _deliver(self, url: str, delay: float, payload: Callable[[], dict[str, Any]]) -> None:
        await asyncio.sleep(delay)
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=TIMEOUT_SECONDS)
        with contextlib.suppress(httpx.HTTPError, httpx.InvalidURL):
            await self._client.post(url, json=payload())

    async def aclose(self) -> None:
        for task in list(self._pending):
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
