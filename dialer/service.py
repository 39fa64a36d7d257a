"""The call service: what dispatch, polling and the embedded runner share in one process."""

from __future__ import annotations

import random
import threading

from sqlalchemy.engine import Engine

from dialer.capacity.gate import Gate, LocalGate
from dialer.clients import ProviderPool, TransportFactory
from dialer.clock import Clock, SystemClock
from dialer.ratelimit import RateLimiter
from dialer.settings import Settings


class CallService:
    """The ledger, the settings, the account rate limiter and gate (places, hold, breaker:
    by default in process), the providers' HTTP clients and the clock of one process
    (:func:`dialer.wiring.build_service` builds it from settings).

    ``transport`` builds each HTTP client's transport (default: the real one, see
    :class:`~dialer.clients.ProviderPool`); ``clock`` is every time read and sleep of
    dispatch, the runner and polling. Both are seams for tests. Setting ``stopping`` makes
    dispatch batches hand back every claim not yet begun.
    """

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        limiter: RateLimiter,
        *,
        transport: TransportFactory | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        gate: Gate | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.limiter = limiter
        self.providers = ProviderPool(transport)
        self.clock: Clock = clock or SystemClock()
        self.gate: Gate = gate or LocalGate(limiter, self.clock.monotonic)
        self.rng = rng or random.Random()  # noqa: S311 (backoff jitter, not a secret)
        self.stopping = threading.Event()

    def close(self) -> None:
        """Wait for requests in flight, then close every HTTP client."""
        self.providers.close()
