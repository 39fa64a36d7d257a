"""Building a :class:`~dialer.service.CallService` from settings: the one place that chooses
the rate limiter and the account gate (Redis-backed and global whenever a broker is configured,
in-process otherwise)."""

from __future__ import annotations

import redis
from sqlalchemy.engine import Engine

from dialer.capacity.redis_gate import RedisGate
from dialer.clients import TransportFactory
from dialer.clock import Clock
from dialer.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter
from dialer.service import CallService
from dialer.settings import Settings
from dialer.webhooks.subscriptions import subscribe


def make_limiter(settings: Settings) -> RateLimiter:
    if settings.broker_url is None:
        return LocalRateLimiter()
    return RedisRateLimiter(_redis(settings.broker_url))


def make_gate(settings: Settings) -> RedisGate | None:
    """The global account gate when a broker is configured; None: each process keeps its
    own (:class:`~dialer.capacity.gate.LocalGate`, embedded mode)."""
    return None if settings.broker_url is None else RedisGate(_redis(settings.broker_url))


def _redis(url: str) -> redis.Redis[bytes]:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def build_service(
    settings: Settings,
    engine: Engine,
    *,
    transport: TransportFactory | None = None,
    clock: Clock | None = None,
) -> CallService:
    subscribe(engine, settings.webhooks)
    limiter, gate = make_limiter(settings), make_gate(settings)
    return CallService(engine, settings, limiter, transport=transport, clock=clock, gate=gate)
