"""Capacity: what an account may start now, beyond its rate (issue 12).

- :mod:`~dialer.capacity.gate` the account gate: concurrent-call places with leases, the
  Retry-After hold and the outage breaker, in process (embedded mode)
- :mod:`~dialer.capacity.redis_gate` the same gate shared by every worker and machine, one
  Lua script per step, rate slots included
"""
