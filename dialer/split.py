"""A campaign over several accounts: how its contacts split between them by weight, and where
a contact not yet attempted goes when its account cannot take it (failover). Pure functions.

Each contact's share is a *bucket*: ``contact id * STEP mod BUCKETS``, ``STEP`` being
``BUCKETS`` times the golden ratio's fraction (Fibonacci hashing). Consecutive ids spread
evenly over the buckets (a Weyl sequence: a run of n ids lands within about ``log n`` of its
expected count in any interval), so an import's contacts split by weight far inside ±1 %,
with no state and the same answer in every worker. The accounts' weights cut the buckets into
consecutive intervals, in the order given; a contact's account is the one whose interval
holds its bucket. The ledger computes the same bucket in SQL (:func:`bucket_column`), so the
scheduler can claim only the contacts of the accounts that may take calls now.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from dialer.errors import InputError

BUCKETS = 1 << 20
STEP = 648_055
"""round(BUCKETS * (sqrt(5) - 1) / 2), odd: every block of BUCKETS consecutive ids covers every
bucket once."""

DEFAULT_WEIGHT = 100


@dataclass(frozen=True, slots=True)
class Share:
    """One account of a campaign and its weight; ``out`` says why it takes no new contacts
    (its credentials were refused while the campaign fails over)."""

    account: str
    weight: int
    out: str = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.account, "weight": self.weight}
        if self.out:
            data["out"] = self.out
        return data


def parse_shares(values: Sequence[str]) -> tuple[Share, ...]:
    """``--account NAME`` or ``NAME=WEIGHT``, repeated, in order (a name alone weighs
    :data:`DEFAULT_WEIGHT`). InputError when a weight is not a positive whole number or an
    account is named twice."""
    shares: list[Share] = []
    for value in values:
        name, sep, weight_text = value.partition("=")
        name = name.strip()
        weight = DEFAULT_WEIGHT
        if sep:
            try:
                weight = int(weight_text.strip())
            except ValueError:
                weight = 0
            if weight < 1:
                raise InputError(
                    f"--account {value!r}: the weight must be a whole number of at least 1"
                )
        if not name:
            raise InputError(f"--account {value!r}: name the account")
        if any(share.account == name for share in shares):
            raise InputError(f"--account {name!r} is given twice")
        shares.append(Share(name, weight))
    if not shares:
        raise InputError("--account is required")
    return tuple(shares)


def shares_from_json(accounts: list[dict[str, Any]] | None, account: str) -> tuple[Share, ...]:
    """A campaign's shares from its ``accounts`` column (None: ``account`` alone)."""
    if not accounts:
        return (Share(account, DEFAULT_WEIGHT),)
    return tuple(Share(str(a["name"]), int(a["weight"]), str(a.get("out", ""))) for a in accounts)


def bucket(contact_id: int) -> int:
    """The contact's place in ``range(BUCKETS)``."""
    return (contact_id * STEP) % BUCKETS


def intervals(shares: Sequence[Share]) -> dict[str, tuple[int, int]]:
    """Each account's buckets, ``[low, high)``, cut by weight in order."""
    total = sum(share.weight for share in shares)
    cut: dict[str, tuple[int, int]] = {}
    running = 0
    for share in shares:
        low = running * BUCKETS // total
        running += share.weight
        cut[share.account] = (low, running * BUCKETS // total)
    return cut


def weighted_account(shares: Sequence[Share], contact_id: int) -> str:
    """The account ``contact_id`` is assigned by weight."""
    return _pick(shares, bucket(contact_id))


def route(shares: Sequence[Share], contact_id: int, available: Collection[str]) -> str | None:
    """Failover: the contact's weighted account if ``available``, else one of the other
    available accounts, split by their weights (the bucket's place within its account's
    interval, cut again by them); None when none is."""
    place = bucket(contact_id)
    preferred = _pick(shares, place)
    if preferred in available:
        return preferred
    others = [share for share in shares if share.account in available]
    if not others:
        return None
    low, high = intervals(shares)[preferred]
    return _pick(others, (place - low) * BUCKETS // max(high - low, 1))


def _pick(shares: Sequence[Share], place: int) -> str:
    for account, (_low, high) in intervals(shares).items():
        if place < high:
            return account
    return shares[-1].account
