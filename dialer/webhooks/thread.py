"""The embedded runner's webhook delivery: a thread of its own, apart from the dialing threads,
running :func:`~dialer.webhooks.deliver.deliver_due` every second until stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.engine import Engine

from dialer.webhooks.deliver import DELIVER_SECONDS, Courier, deliver_due
from dialer.webhooks.endpoints import WebhookEndpoint

log = logging.getLogger("dialer.webhooks")


class DeliveryThread:
    """Delivery passes every ``every`` seconds; :meth:`stop` makes one last pass, so what the
    run made true is sent before it returns (what an endpoint refuses waits in the outbox)."""

    def __init__(self, courier: Courier, every: float = DELIVER_SECONDS) -> None:
        self.courier = courier
        self.every = every
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="webhooks", daemon=True)

    @classmethod
    def start(
        cls,
        engine: Engine,
        endpoints: Sequence[WebhookEndpoint],
        clock: Callable[[], datetime],
    ) -> DeliveryThread:
        """A running delivery thread for ``endpoints`` (idle when there are none)."""
        found = cls(Courier(engine, endpoints, clock=clock))
        if endpoints:
            found._thread.start()
        return found

    def _loop(self) -> None:
        while not self._stopping.wait(self.every):
            self._pass()

    def _pass(self) -> None:
        try:
            deliver_due(self.courier)
        except Exception:  # a ledger hiccup must not end delivery for the rest of the run
            log.exception("webhook delivery pass failed")

    def stop(self) -> None:
        if self._thread.is_alive():
            self._stopping.set()
            self._thread.join()
            self._pass()
        self.courier.close()
