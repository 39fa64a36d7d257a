"""The account gate in Redis: global across every worker and machine (see :mod:`.gate`).

Per account: a sorted set of places (attempt keys scored by lease expiry, in microseconds of
the server's clock), a hash with the hold and the breaker, and the rate limiter's own GCRA
key (:mod:`dialer.ratelimit`). Each step is one Lua script, so :meth:`RedisGate.admit` takes
places and rate slots in one round trip: prune expired places, count, add, then reserve the
slots of the places granted, as :class:`~dialer.capacity.gate.LocalGate` does in process.
This is the sorted-set semaphore of redis.io and dograh's call_concurrency limiter. Any Redis
error becomes ServiceUnavailable: nothing granted, the claims go back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast

import redis

from dialer.capacity.gate import (
    BREAKER_FAILURES,
    FIRST_PROBE,
    LAST_PROBE,
    AccountState,
    Admission,
    Limits,
    Verdict,
)
from dialer.errors import ServiceUnavailable
from dialer.ratelimit import GcraStep, gcra_params, slot_waits

_US = 1_000_000

# KEYS: places, state, rate. ARGV: count, cap (-1: none), lease, interval (0: no rate),
# tolerance (microseconds), then the keys to place. Reply: {granted, tat, now, probe}.
_ADMIT_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local count = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local interval = tonumber(ARGV[4])
local fmt = function(n) return string.format('%d', n) end
local held = tonumber(redis.call('HGET', KEYS[2], 'held_until') or '0')
if now < held then return {'0', '0', fmt(now), '0'} end
local probe = 0
if tonumber(redis.call('HGET', KEYS[2], 'open_since') or '0') > 0 then
  if now < tonumber(redis.call('HGET', KEYS[2], 'next_probe') or '0') then
    return {'0', '0', fmt(now), '0'}
  end
  count = math.min(count, 1)
  probe = 1
  local every = tonumber(redis.call('HGET', KEYS[2], 'probe_every'))
  redis.call('HSET', KEYS[2], 'next_probe', fmt(now + every))
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', fmt(now))
if cap >= 0 then
  count = math.max(0, math.min(count, cap - redis.call('ZCARD', KEYS[1])))
  for i = 1, count do
    redis.call('ZADD', KEYS[1], fmt(now + lease), ARGV[5 + i])
  end
  if count > 0 then redis.call('PEXPIRE', KEYS[1], fmt(math.ceil(lease / 1000) + 1000)) end
end
if count == 0 then probe = 0 end
local tat = 0
if interval > 0 and count > 0 then
  local due = math.max(tonumber(redis.call('GET', KEYS[3])) or 0, now)
  tat = due + count * interval
  local ttl = math.ceil((tat - now) / 1000)
  redis.call('SET', KEYS[3], fmt(tat), 'PX', fmt(ttl))
end
return {fmt(count), fmt(tat), fmt(now), fmt(probe)}
"""

# KEYS: state. ARGV: ok (1/0), probe (1/0), hold (-1: none), failures to open, first probe,
# last probe (microseconds). Reply: {breaker open, held}.
_REPORT_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local fmt = function(n) return string.format('%d', n) end
local held = tonumber(redis.call('HGET', KEYS[1], 'held_until') or '0')
if ARGV[1] == '1' then
  if redis.call('HEXISTS', KEYS[1], 'failures') == 1 then
    redis.call('HDEL', KEYS[1], 'failures', 'open_since', 'next_probe', 'probe_every')
  end
  return {0, now < held and 1 or 0}
end
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local hold = tonumber(ARGV[3])
if hold >= 0 and now + hold > held then
  local gained = now + hold - math.max(held, now)
  redis.call('HINCRBY', KEYS[1], 'held_total', fmt(gained))
  held = now + hold
  redis.call('HSET', KEYS[1], 'held_until', fmt(held))
end
local opened = tonumber(redis.call('HGET', KEYS[1], 'open_since') or '0') > 0
if opened then
  if ARGV[2] == '1' then
    local every = tonumber(redis.call('HGET', KEYS[1], 'probe_every')) * 2
    every = math.min(every, tonumber(ARGV[6]))
    redis.call('HSET', KEYS[1], 'probe_every', fmt(every), 'next_probe', fmt(now + every))
  end
elseif failures >= tonumber(ARGV[4]) then
  opened = true
  redis.call('HSET', KEYS[1], 'open_since', fmt(now), 'probe_every', ARGV[5],
    'next_probe', fmt(now + tonumber(ARGV[5])))
end
return {opened and 1 or 0, now < held and 1 or 0}
"""

# KEYS: places, state. Reply: {in progress, now, open_since, next_probe, held_until, held_total,
# paused_at}.
_STATE_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local fmt = function(n) return string.format('%d', n) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', fmt(now))
local get = function(f) return redis.call('HGET', KEYS[2], f) or '0' end
return {redis.call('ZCARD', KEYS[1]), fmt(now), get('open_since'), get('next_probe'),
  get('held_until'), get('held_total'), get('paused_at')}
"""


# KEYS: state. Marks the campaigns paused for the outage now (server time).
_PAUSE_LUA = """
local clock = redis.call('TIME')
redis.call('HSET', KEYS[1], 'paused_at', clock[1] .. string.format('%06d', tonumber(clock[2])))
return 1
"""


class RedisGate:
    """The global gate (see :class:`~dialer.capacity.gate.Gate`). ``rate_prefix`` must be
    the rate limiter's, so dispatch and the limiter share each account's pace."""

    def __init__(
        self,
        client: redis.Redis[bytes] | redis.Redis[str],
        *,
        prefix: str = "dialer:capacity:",
        rate_prefix: str = "dialer:rate:",
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._rate_prefix = rate_prefix
        self._admit = client.register_script(_ADMIT_LUA)
        self._report = client.register_script(_REPORT_LUA)
        self._state = client.register_script(_STATE_LUA)
        self._pause = client.register_script(_PAUSE_LUA)

    def _keys(self, account: str) -> list[str]:
        return [f"{self._prefix}places:{account}", f"{self._prefix}state:{account}"]

    def admit(self, account: str, keys: Sequence[str], limits: Limits) -> Admission:
        interval, tolerance = (0, 0) if limits.rate is None else gcra_params(limits.rate)
        args: list[str | int] = [
            len(keys),
            -1 if limits.cap is None else limits.cap,
            math.ceil(limits.lease * _US),
            interval,
            tolerance,
        ]
        reply = self._run(
            self._admit, [*self._keys(account), self._rate_prefix + account], [*args, *keys]
        )
        granted, tat, now, probe = (int(value) for value in cast(list[bytes], reply))
        if granted == 0:
            return Admission([], False)
        if limits.rate is None:
            return Admission([0.0] * granted, bool(probe))
        step = GcraStep(granted=True, wait=0, tat=tat)
        waits = slot_waits(now, step, interval=interval, tolerance=tolerance, count=granted)
        return Admission([wait / _US for wait in waits], bool(probe))

    def give_back(self, account: str, keys: Sequence[str]) -> None:
        if keys:
            try:
                self._client.zrem(self._keys(account)[0], *keys)
            except redis.RedisError as exc:
                raise ServiceUnavailable(_failure(exc)) from exc

    def report(
        self, account: str, *, ok: bool, probe: bool = False, hold_for: float | None = None
    ) -> Verdict:
        hold = -1 if hold_for is None else max(0, math.ceil(hold_for * _US))
        args = [int(ok), int(probe), hold, BREAKER_FAILURES, int(FIRST_PROBE * _US)]
        reply = self._run(self._report, self._keys(account)[1:], [*args, int(LAST_PROBE * _US)])
        breaker_open, held = cast(list[int], reply)
        return Verdict(breaker_open=bool(breaker_open), held=bool(held))

    def state(self, account: str, limits: Limits) -> AccountState:
        reply = self._run(self._state, self._keys(account), [])
        in_progress, now, opened, probe, held, total, paused = (
            int(v) for v in cast(list[bytes], reply)
        )
        return AccountState(
            in_progress=in_progress,
            cap=limits.cap,
            open_for=(now - opened) / _US if opened else None,
            next_probe_in=(probe - now) / _US if opened else None,
            held_for=(held - now) / _US if now < held else None,
            held_seconds_total=total / _US,
            outage_for=(now - max(opened, paused)) / _US if opened else None,
        )

    def note_pause(self, account: str) -> None:
        self._run(self._pause, self._keys(account)[1:], [])

    def _run(
        self, script: redis.commands.core.Script, keys: list[str], args: list[str | int]
    ) -> object:
        try:
            return script(keys=keys, args=args)
        except redis.RedisError as exc:
            raise ServiceUnavailable(_failure(exc)) from exc


def _failure(exc: redis.RedisError) -> str:
    # redis-py messages name host and port, never the password; keep the first line.
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"account gate: Redis failed: {detail}"
