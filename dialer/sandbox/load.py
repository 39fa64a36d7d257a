"""The sandbox's account limits: a cap on calls in progress at once, and an outage.

Each provider API of the sandbox is one account. A call placed (a 2xx to a call-placing
request) is in progress for the config's ``call_duration_ms``, as its status and outcome say.
With ``max_concurrent_calls`` set, a call-placing request beyond it is refused ``429`` (no
``Retry-After``, as Vapi and Retell do); during an outage (``POST /_sandbox/outage``) every
call-placing request is refused ``503``. Counted for tests: the most calls ever in progress
at once per account, and every refusal.
"""

from __future__ import annotations

import heapq
from collections import Counter


class AccountLoad:
    def __init__(self) -> None:
        self._ends: dict[str, list[float]] = {}
        self.most: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.outage_refused: Counter[str] = Counter()
        self.outage_until = 0.0

    def in_progress(self, kind: str, now: float) -> int:
        ends = self._ends.setdefault(kind, [])
        while ends and ends[0] <= now:
            heapq.heappop(ends)
        return len(ends)

    def refusal(self, kind: str, now: float, cap: int | None) -> int | None:
        """The status refusing a call-placing request now (503 outage, 429 over the cap), or
        None: it may go on."""
        if now < self.outage_until:
            self.outage_refused[kind] += 1
            return 503
        if cap is not None and self.in_progress(kind, now) >= cap:
            self.refused[kind] += 1
            return 429
        return None

    def started(self, kind: str, now: float, seconds: float) -> None:
        heapq.heappush(self._ends.setdefault(kind, []), now + seconds)
        self.most[kind] = max(self.most[kind], self.in_progress(kind, now))

    def to_json(self, now: float) -> dict[str, object]:
        return {
            "in_progress": {kind: self.in_progress(kind, now) for kind in list(self._ends)},
            "most": dict(self.most),
            "refused": dict(self.refused),
            "outage_refused": dict(self.outage_refused),
            "outage_for": max(0.0, self.outage_until - now),
        }

    def clear(self) -> None:
        """Forget the counts, the calls counted against the cap (their status still reads
        ``calling`` until they end) and any outage: a reset starts the cap afresh."""
        self._ends.clear()
        self.most.clear()
        self.refused.clear()
        self.outage_refused.clear()
        self.outage_until = 0.0
