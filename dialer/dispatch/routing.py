"""Which account dials each contact of a batch (:mod:`dialer.split`).

A contact assigned an account (its first attempt began there, or it was dialed before the
campaign had several) goes to that account, always: a call whose fate is ``unknown`` can never
be followed by one from another vendor. A contact not assigned yet goes to its weighted
account; when its campaign fails over and that account can take no call now (its breaker is
open, it is held by a Retry-After or at its concurrent-call cap, or its credentials were
refused), to another of the campaign's accounts that can. The gate is read once per account
per batch, and only for campaigns that fail over.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dialer import split
from dialer.capacity import accounts as capacity
from dialer.ledger.dispatch import Begin, Dispatchable
from dialer.service import CallService


def by_account(
    service: CallService, items: Sequence[Dispatchable]
) -> dict[str, list[Dispatchable]]:
    """``items`` grouped by the account that dials each, in order."""
    groups: dict[str, list[Dispatchable]] = {}
    startable: dict[str, bool] = {}

    def can_start(name: str) -> bool:
        if name not in startable:
            free = capacity.startable(service.gate, service.settings.account(name))
            startable[name] = free is None or free > 0
        return startable[name]

    for item in items:
        groups.setdefault(account_of(item, can_start), []).append(item)
    return groups


def account_of(item: Dispatchable, can_start: Callable[[str], bool] | None = None) -> str:
    """The account that dials ``item`` (``can_start(name)``: whether an account can take a
    call now; asked only when the campaign fails over)."""
    campaign, contact = item.campaign, item.contact
    shares = split.shares_from_json(campaign.accounts, campaign.account)
    if len(shares) == 1:
        return shares[0].account
    if contact.account is not None:
        return contact.account
    if not campaign.failover or can_start is None:
        return split.weighted_account(shares, item.contact_id)
    available = [s.account for s in shares if not s.out and can_start(s.account)]
    chosen = split.route(shares, item.contact_id, available)
    return chosen or split.weighted_account(shares, item.contact_id)


def begin_of(item: Dispatchable, key: str, wait_ms: int, account: str) -> Begin:
    """The begin of ``item``'s attempt ``key`` on ``account``, marked reassigned when it is
    its first and ``account`` is not its weighted one."""
    campaign = item.campaign
    shares = split.shares_from_json(campaign.accounts, campaign.account)
    moved = (
        len(shares) > 1
        and item.contact.account is None
        and split.weighted_account(shares, item.contact_id) != account
    )
    return Begin(item.contact_id, key, wait_ms, moved)
