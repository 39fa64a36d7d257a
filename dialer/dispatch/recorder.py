"""Step 5 of dispatch: the answers to a batch's requests, written to the ledger as they come
back from the sending threads.

Answers that arrive within :data:`RECORD_GATHER` of each other share one transaction (each
transaction costs about what a dozen answers in it cost). An answer showing the account
itself cannot call pauses every campaign on the account in that same transaction; one
showing a number cannot be called puts it on the global do-not-call list (source
``provider``), and cancels the pending contacts of every campaign with that number, in it too.
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import Future
from queue import Empty, SimpleQueue

from dialer.dispatch.answers import Answer, unknown_after_bug
from dialer.dispatch.pacing import sleep_until
from dialer.dispatch.results import DispatchResult
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger.dispatch import AttemptResult, Dispatchable
from dialer.ledger.engine import session_scope
from dialer.service import CallService
from dialer.settings import AccountConfig

log = logging.getLogger("dialer.dialing")

RECORD_GATHER = 0.05
"""How long answers are gathered after the first one, in seconds, to be recorded together."""

_Sent = tuple[int, Dispatchable, "Future[Answer]"]


class Recorder:
    """Records the answers of one account's requests of a batch; :attr:`results` says what
    each recorded one led to."""

    def __init__(self, service: CallService, account: AccountConfig) -> None:
        self._service = service
        self._clock = service.clock
        self._account = account
        self._answers: SimpleQueue[_Sent] = SimpleQueue()
        self._pending = 0
        self.results: dict[int, DispatchResult] = {}

    def expect(self, future: Future[Answer], attempt_id: int, item: Dispatchable) -> None:
        """Record ``future``'s answer once it comes (attempt ``attempt_id`` of ``item``)."""
        self._pending += 1
        future.add_done_callback(lambda done: self._answers.put((attempt_id, item, done)))

    def record_until(self, deadline: float) -> None:
        """Record answers as they arrive until ``deadline`` (the clock's monotonic time)."""
        while self._pending:
            timeout = deadline - self._clock.monotonic()
            if timeout <= 0:
                return
            try:
                first = self._answers.get(timeout=timeout)
            except Empty:
                return
            self._record(first, deadline)
        sleep_until(self._clock, deadline)

    def record_all(self) -> None:
        """Record every answer still to come."""
        while self._pending:
            self._record(self._answers.get(), math.inf)

    def _record(self, first: _Sent, deadline: float) -> None:
        """Record ``first`` and what else arrives within RECORD_GATHER, not past ``deadline``."""
        sent = [first]
        until = min(self._clock.monotonic() + RECORD_GATHER, deadline)
        while len(sent) < self._pending:
            try:
                wait = max(until - self._clock.monotonic(), 0)
                sent.append(self._answers.get(timeout=wait))
            except Empty:
                break
        self._pending -= len(sent)
        finishes: list[ledger_dispatch.Finish] = []
        broken: AttemptResult | None = None
        bad_numbers: dict[str, str] = {}
        for attempt_id, item, done in sent:
            answer = _answer_of(done)
            finishes.append(ledger_dispatch.Finish(attempt_id, item.contact_id, answer.result))
            if answer.account_problem:
                broken = answer.result
            if answer.bad_number is not None:
                bad_numbers[item.contact.phone] = answer.bad_number
        now = self._clock.now()
        with session_scope(self._service.engine) as session:
            ledger_dispatch.finish_attempts(session, finishes=finishes, now=now)
            if bad_numbers:
                ledger_dispatch.list_bad_numbers(session, reasons=bad_numbers, now=now)
            if broken is not None:
                paused = ledger_campaigns.pause_account(
                    session, account=self._account.name, reason=broken.error, now=now
                )
        if bad_numbers:
            log.warning("the provider refused %d number(s) as bad: listed", len(bad_numbers))
        if broken is not None:
            log.error(
                "account %s refused our credentials: paused %d campaign(s)",
                self._account.name,
                paused,
            )
        for (_, item, _), finish in zip(sent, finishes, strict=True):
            result = finish.result
            self.results[finish.contact_id] = DispatchResult.after_request(result.state)
            log.info(
                "attempt campaign=%s contact=%s account=%s result=%s status=%s latency_ms=%s",
                item.campaign.name,
                finish.contact_id,
                self._account.name,
                result.state,
                result.http_status,
                result.latency_ms,
            )


def _answer_of(done: Future[Answer]) -> Answer:
    exc = done.exception()
    if exc is None:
        return done.result()
    # A bug around the send: the request may have left, so the honest state is unknown.
    log.error("unexpected error sending a request", exc_info=exc)
    return Answer(unknown_after_bug(exc))
