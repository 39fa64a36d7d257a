"""The embedded runner: scheduler tick and dispatcher in one process, no broker needed.

``dialer run`` uses it. Ticks claim at most twice ``threads`` contacts beyond those already
claimed, so nothing waits long in ``queued``; each dispatch batch goes to
:func:`dialer.dispatch.protocol.place_calls` on one of ``threads`` threads. Stopping (Ctrl-C, or
``drain`` finding nothing left to do) stops claiming, lets requests already on the wire
finish, and hands every claim that never began back to ``pending`` — nothing is left in
``queued`` or ``dialing``.
Every ``poll_seconds`` (and at the first tick) it also polls placed calls for their outcome.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from dialer.dispatch.protocol import Results, place_calls
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger.engine import session_scope
from dialer.models import CampaignStatus
from dialer.polling import POLL_SECONDS, poll_outcomes
from dialer.scheduler import tick
from dialer.service import CallService
from dialer.webhooks.thread import DeliveryThread

log = logging.getLogger("dialer.runner")


@dataclass(frozen=True)
class Progress:
    """Contact counts across the campaigns being run, by state."""

    counts: dict[str, int]
    ticks: int


class EmbeddedRunner:
    """Runs the named campaigns (all running ones when none are named) in this process."""

    def __init__(
        self,
        service: CallService,
        names: Sequence[str] = (),
        *,
        threads: int = 32,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.service = service
        self.names = tuple(names)
        self.threads = threads
        self.poll_seconds = poll_seconds
        self.stop_event = service.stopping
        self._lock = threading.Lock()
        self._waiting: set[int] = set()
        self._futures: set[Future[Results]] = set()
        self._claimed = 0  # contacts in batches submitted and not yet done

    def stop(self) -> None:
        """Ask the loop to finish (thread-safe; what a signal handler calls)."""
        self.stop_event.set()

    def run(self, *, drain: bool, on_progress: Callable[[Progress], None] | None = None) -> None:
        """Tick until stopped; with ``drain``, until nothing is in flight or due now."""
        settings = self.service.settings
        clock = self.service.clock
        pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="dial")
        ticks = 0
        polled_at: datetime | None = None
        delivery = DeliveryThread.start(self.service.engine, settings.webhooks, clock.now)
        try:
            while not self.stop_event.is_set():
                now = clock.now()
                if polled_at is None or (now - polled_at).total_seconds() >= self.poll_seconds:
                    poll_outcomes(self.service, now)
                    polled_at = now
                # Idle before the tick: every answer was recorded before it looked, so a
                # campaign with nothing left open was completed by it. Idle only after it, an
                # answer recorded meanwhile would leave a finished campaign "running".
                idle = self._idle()
                report = tick(
                    self.service.engine,
                    settings,
                    now=now,
                    enqueue=lambda ids: self._submit(pool, ids),
                    names=self.names,
                    capacity=lambda _account: self._free_slots(),
                    gate=self.service.gate,
                )
                ticks += 1
                if on_progress is not None:
                    on_progress(Progress(counts=self._counts(), ticks=ticks))
                done = report.claimed == 0 and not report.held_back
                if drain and done and idle and self._nothing_left(now):
                    break
                # Tick again soon while work flows; rest a full tick when idle.
                clock.wait(self.stop_event, 0.05 if report.claimed else settings.tick_seconds)
        finally:
            self._shutdown(pool)
            delivery.stop()
        if on_progress is not None:
            on_progress(Progress(counts=self._counts(), ticks=ticks))

    def _submit(self, pool: ThreadPoolExecutor, ids: list[int]) -> None:
        with self._lock:
            self._waiting.update(ids)
            self._claimed += len(ids)
        future = pool.submit(self._dial, ids)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(lambda done: self._done(done, len(ids)))

    def _dial(self, ids: list[int]) -> Results:
        with self._lock:
            if self.stop_event.is_set():
                return {}
            self._waiting.difference_update(ids)
        return place_calls(self.service, ids)

    def _done(self, future: Future[Results], size: int) -> None:
        with self._lock:
            self._futures.discard(future)
            self._claimed -= size
        if not future.cancelled() and future.exception() is not None:
            log.error("place_calls failed", exc_info=future.exception())

    def _free_slots(self) -> int:
        with self._lock:
            return max(0, self.threads * 2 - self._claimed)

    def _idle(self) -> bool:
        with self._lock:
            return not self._futures

    def _nothing_left(self, now: datetime) -> bool:
        """No contact in flight and none waiting out a retry backoff (DESIGN.md §4, --drain).

        ``now`` is the tick's: a backoff that ends between the tick and this check must count
        as still running, or the drain would exit with that retry half-done.
        """
        with session_scope(self.service.engine) as session:
            ids = self._campaign_ids(session)
            backlog = ledger_dispatch.backlog(session, campaign_ids=ids, now=now)
        return backlog.in_flight == 0 and backlog.backing_off == 0

    def _campaign_ids(self, session: Session) -> list[int]:
        campaigns = ledger_campaigns.campaigns_with_status(
            session, statuses=[CampaignStatus.RUNNING]
        )
        wanted = [c for c in campaigns if not self.names or c.name in self.names]
        return [c.id for c in wanted if c.id is not None]

    def _counts(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        with session_scope(self.service.engine) as session:
            for campaign in ledger_campaigns.list_campaigns(session):
                if campaign.id is None or (self.names and campaign.name not in self.names):
                    continue
                for state, count in ledger_campaigns.state_counts(
                    session, campaign_id=campaign.id
                ).items():
                    totals[state] = totals.get(state, 0) + count
        return totals

    def _shutdown(self, pool: ThreadPoolExecutor) -> None:
        """Let in-flight requests finish; hand back claims that never began."""
        self.stop_event.set()
        pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            never_began = sorted(self._waiting)
            self._waiting.clear()
        if never_began:
            with session_scope(self.service.engine) as session:
                ledger_dispatch.release_claims(
                    session, contact_ids=never_began, now=self.service.clock.now()
                )
        self.service.close()
        # Every batch has ended: the service may run again (a test, a later ``run``).
        self.stop_event.clear()
