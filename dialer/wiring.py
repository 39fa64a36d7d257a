"""Building a :class:`~dialer.service.CallService` from settings: the one place that chooses
the rate limiter (Redis-backed and global whenever a broker is configured, in-process
otherwise)."""

from __future__ import annotations

import redis
from sqlalchemy.engine import Engine

from dialer.clients import TransportFactory
from dialer.clock import Clock
from dialer.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter
from dialer.service import CallService
from dialer.settings import Settings
from dialer.webhooks.subscriptions import subscribe


def make_limiter(settings: Settings) -> RateLimiter:
    if settings.broker_url is None:
        return LocalRateLimiter()
    client = redis.Redis.from_url(settings.broker_url, socket_timeout=5, socket_connect_timeout=5)
    return RedisRateLimiter(client)


def build_service(
    settings: Settings,
    engine: Engine,
    *,
    transport: TransportFactory | None = None,
    clock: Clock | None = None,
) -> CallService:
    subscribe(engine, settings.webhooks)
    return CallService(engine, settings, make_limiter(settings), transport=transport, clock=clock)
