"""The weighted split of a campaign's contacts between its accounts (dialer/split.py)."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.errors import InputError
from dialer.split import (
    BUCKETS,
    Share,
    bucket,
    intervals,
    parse_shares,
    route,
    shares_from_json,
    weighted_account,
)


@pytest.mark.parametrize("first_id", [1, 777, 123_456, 5_000_000])
@pytest.mark.parametrize("weights", [(70, 30), (50, 50), (10, 90), (1, 1, 1), (60, 25, 15)])
def test_2000_consecutive_contacts_split_within_3_percent_of_the_weights(
    first_id: int, weights: tuple[int, ...]
) -> None:
    shares = tuple(Share(f"a{i}", w) for i, w in enumerate(weights))
    split = Counter(weighted_account(shares, i) for i in range(first_id, first_id + 2000))
    total = sum(weights)
    for share in shares:
        assert abs(split[share.account] / 2000 - share.weight / total) <= 0.03


def test_every_other_id_still_splits_by_weight() -> None:
    # Two campaigns imported together interleave their ids.
    shares = parse_shares(["libby-main=70", "allomia-trial=30"])
    split = Counter(weighted_account(shares, i) for i in range(2, 4002, 2))
    assert abs(split["libby-main"] / 2000 - 0.7) <= 0.03


def test_the_choice_is_deterministic_and_the_same_in_every_process() -> None:
    shares = parse_shares(["a=70", "b=30"])
    assert [weighted_account(shares, i) for i in range(1, 20)] == [
        weighted_account(shares, i) for i in range(1, 20)
    ]
    assert bucket(1) == 648_055


@given(st.lists(st.integers(1, 1000), min_size=1, max_size=6))
def test_the_intervals_cover_every_bucket_once(weights: list[int]) -> None:
    shares = [Share(f"a{i}", w) for i, w in enumerate(weights)]
    cut = list(intervals(shares).values())
    assert cut[0][0] == 0 and cut[-1][1] == BUCKETS
    assert all(a[1] == b[0] for a, b in itertools.pairwise(cut))


def test_failover_sends_a_contact_elsewhere_only_when_its_account_cannot_take_it() -> None:
    shares = parse_shares(["a=1", "b=1", "c=1"])
    ids = range(1, 3001)
    assert all(route(shares, i, {"a", "b", "c"}) == weighted_account(shares, i) for i in ids)
    moved = Counter(route(shares, i, {"b", "c"}) for i in ids if weighted_account(shares, i) == "a")
    # a's contacts split between b and c by their weights.
    assert set(moved) == {"b", "c"} and abs(moved["b"] - moved["c"]) <= 0.03 * 1000
    assert route(shares, 1, set()) is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["a=0"], "the weight must be a whole number of at least 1"),
        (["a=x"], "the weight must be a whole number of at least 1"),
        (["a", "a=3"], "--account 'a' is given twice"),
        (["=3"], "name the account"),
    ],
)
def test_bad_account_options_are_one_line_errors(values: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_shares(values)


def test_a_single_account_weighs_100_and_old_campaigns_read_as_theirs() -> None:
    assert parse_shares(["gym"]) == (Share("gym", 100),)
    assert shares_from_json(None, "gym") == (Share("gym", 100),)
    assert shares_from_json([{"name": "a", "weight": 7, "out": "401"}], "a") == (
        Share("a", 7, "401"),
    )
