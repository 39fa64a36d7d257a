"""``dialer campaign compare``: a campaign's accounts side by side, so a buyer can tell
whether one vendor is really better.

Per account: contacts (assigned on their first attempt), placed, the outcome mix, the
``unknown`` rate, provider errors, median request latency, and its completed rate (completed
contacts of those assigned) against the first account's, with a 95 % confidence interval by
the two-proportion normal approximation: ``d = p2 - p1``, ``se = sqrt(p1 (1 - p1) / n1 +
p2 (1 - p2) / n2)``, interval ``d ± 1.96 se``. An interval that holds 0 does not show a
difference. It is an approximation: with fewer than ~10 completed (or not) on a side, read
it as rough. Computed on demand by grouped reads (:mod:`dialer.ledger.compare`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from dialer import split
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger.compare import tally_accounts
from dialer.ledger.engine import session_scope
from dialer.outcomes import Outcome

Z_95 = 1.959964
"""The standard normal's 97.5th percentile: a two-sided 95 % interval."""

OUTCOMES = tuple(outcome.value for outcome in Outcome)


@dataclass(frozen=True)
class Difference:
    """An account's completed rate minus the first account's, with its 95 % interval (in
    fractions: 0.05 is five points)."""

    versus: str
    difference: float
    low: float
    high: float


@dataclass(frozen=True)
class AccountComparison:
    account: str
    weight: int
    contacts: int
    placed: int
    outcomes: dict[str, int]
    unknown: int
    unknown_rate: float | None
    requests: int
    provider_errors: int
    median_latency_ms: int | None
    completed_rate: float | None
    difference: Difference | None = None


@dataclass(frozen=True)
class Comparison:
    campaign: str
    accounts: list[AccountComparison]
    not_yet_attempted: int
    reassigned: int
    method: str = field(
        default="completed rate = completed / contacts assigned; difference vs the first "
        "account, 95 % CI by the two-proportion normal approximation"
    )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def completed_difference(
    completed: tuple[int, int], versus: tuple[int, int]
) -> tuple[float, float, float] | None:
    """``(difference, low, high)`` of the completed rate ``completed`` (completed, of n)
    minus ``versus``'s, with its 95 % interval; None when either side has no contacts."""
    (c2, n2), (c1, n1) = completed, versus
    if not n1 or not n2:
        return None
    p1, p2 = c1 / n1, c2 / n2
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    d = p2 - p1
    return d, d - Z_95 * se, d + Z_95 * se


def compare(engine: Engine, name: str) -> Comparison:
    """Campaign ``name``'s accounts compared. UnknownCampaign if there is none."""
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=name)
        assert campaign.id is not None
        shares = split.shares_from_json(campaign.accounts, campaign.account)
        tallies, unassigned = tally_accounts(
            session, campaign_id=campaign.id, accounts=[s.account for s in shares]
        )
    weights = {s.account: s.weight for s in shares}
    rows: list[AccountComparison] = []
    first: tuple[str, tuple[int, int]] | None = None
    for account, tally in tallies.items():
        completed = (tally.outcomes.get(Outcome.COMPLETED.value, 0), tally.contacts)
        difference = None
        if first is None:
            first = (account, completed)
        elif (found := completed_difference(completed, first[1])) is not None:
            difference = Difference(first[0], *found)
        rows.append(
            AccountComparison(
                account=account,
                weight=weights.get(account, 0),
                contacts=tally.contacts,
                placed=tally.placed,
                outcomes={o: tally.outcomes.get(o, 0) for o in OUTCOMES},
                unknown=tally.unknown,
                unknown_rate=tally.unknown / tally.contacts if tally.contacts else None,
                requests=tally.requests,
                provider_errors=tally.provider_errors,
                median_latency_ms=tally.median_latency_ms,
                completed_rate=completed[0] / completed[1] if completed[1] else None,
                difference=difference,
            )
        )
    return Comparison(campaign.name, rows, unassigned, campaign.reassigned)
