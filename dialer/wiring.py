"""Building a :class:`~dialer.dialing.Dialer` from settings: the one place that chooses the
rate limiter (Redis-backed and global whenever a broker is configured, in-process otherwise)."""

from __future__ import annotations

import redis
from sqlalchemy.engine import Engine

from dialer.dialing import Dialer
from dialer.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter
from dialer.settings import Settings


def make_limiter(settings: Settings) -> RateLimiter:
    if settings.broker_url is None:
        return LocalRateLimiter()
    client = redis.Redis.from_url(settings.broker_url, socket_timeout=5, socket_connect_timeout=5)
    return RedisRateLimiter(client)


def build_dialer(settings: Settings, engine: Engine) -> Dialer:
    return Dialer(engine=engine, settings=settings, limiter=make_limiter(settings))
