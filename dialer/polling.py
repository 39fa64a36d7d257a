"""Outcome polling: ask the providers that keep a call's status what became of placed calls.

Run every ``poll_seconds`` (settings) by the Celery beat task ``dialer.poll_outcomes`` (distributed
mode) and by the embedded runner's loop. A provider that also sends webhooks (AlloMia) is polled
too: a webhook that never arrived is caught up here, and one that did makes the poll's record a
no-op. Status requests do not take rate-limit tokens: those pace calls, and a poll places none.
"""

from __future__ import annotations

import logging
from datetime import datetime

from dialer.capacity import accounts as capacity
from dialer.errors import ConfigError, MalformedOutcome, ProviderError, RejectedByProvider
from dialer.ledger import outcomes as ledger_outcomes
from dialer.ledger.engine import session_scope
from dialer.ledger.outcomes import PollTarget, Recorded
from dialer.providers import PROVIDERS
from dialer.providers.base import ProviderOutcome
from dialer.service import CallService

log = logging.getLogger("dialer.polling")

POLL_SECONDS = 30.0
"""How often placed calls are polled for their outcome by default (``poll_seconds``): an
account with ``concurrent_calls`` and no webhooks gets its places back at the next poll."""
BATCH = 100
"""Attempts read from the ledger at a time."""
MAX_PER_ROUND = 2000
"""Status requests one round sends at most; the rest wait for the next round."""


def poll_outcomes(service: CallService, now: datetime, *, limit: int = MAX_PER_ROUND) -> int:
    """Poll up to ``limit`` placed calls whose outcome is unknown, oldest first, and record
    every final outcome (re-calling no-answer/busy contacts as the campaign allows). Returns
    how many outcomes were recorded.

    Only accounts whose provider has a status to poll take part, and only for calls started
    within that provider's retention before ``now``. When a provider cannot answer (transport
    failure, 429, 5xx) or refuses the account's credentials, its account is skipped for the
    rest of the round; a refusal or an unreadable answer about one call skips that call. Each
    is logged in one line, never with a phone number or a secret.
    """
    windows = {
        name: now - window
        for name, account in service.settings.accounts.items()
        if (window := PROVIDERS[account.provider].capabilities.poll_window) is not None
    }
    skipped: set[str] = set()
    recorded = polled = after = 0
    while polled < limit:
        wanted = {name: since for name, since in windows.items() if name not in skipped}
        with session_scope(service.engine) as session:
            targets = ledger_outcomes.attempts_to_poll(
                session, started_after=wanted, after_id=after, limit=min(BATCH, limit - polled)
            )
        if not targets:
            break
        for target in targets:
            after, polled = target.attempt_id, polled + 1
            if target.account in skipped:
                continue
            try:
                found = _ask(service, target)
            except (ProviderError, ConfigError) as exc:
                log.warning("outcome poll: account %s skipped this round: %s", target.account, exc)
                skipped.add(target.account)
                continue
            if found is not None and _record(service, target, found):
                recorded += 1
    if polled:
        log.info("outcome poll: %d calls asked, %d outcomes recorded", polled, recorded)
    return recorded


def _ask(service: CallService, target: PollTarget) -> ProviderOutcome | None:
    """The call's final outcome, or None: not final, forgotten by the provider, or an answer
    about this call that cannot be used (logged). Raises the ProviderError or ConfigError
    that makes its account sit out the rest of the round."""
    account = service.settings.accounts[target.account]
    try:
        return service.providers.provider(account).poll(target.provider_call_id)
    except (MalformedOutcome, RejectedByProvider) as exc:
        log.warning("outcome poll: attempt %d: %s", target.attempt_id, exc)
    return None


def _record(service: CallService, target: PollTarget, found: ProviderOutcome) -> bool:
    """Record ``found`` on the target's attempt; True unless it was known already."""
    with session_scope(service.engine) as session:
        result = ledger_outcomes.record_outcome(
            session,
            attempt_id=target.attempt_id,
            outcome=found.outcome,
            payload=found.payload,
            now=service.clock.now(),
        )
    if result is not Recorded.NOT_PLACED:
        capacity.call_over(service.gate, service.settings.accounts[target.account], target.key)
    return result in (Recorded.RECORDED, Recorded.RECALLED)
