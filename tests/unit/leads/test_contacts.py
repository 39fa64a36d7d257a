"""Splitting a chunk of leads: skipping the parse of plain repeats changes nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.leads.contacts import normalize_new, phone_cells, split_chunk
from dialer.leads.headers import LeadColumns

ACCEPTED = "+12125552674"
SHAPES = [
    "(212) 555-2674",
    "212-555-2674",
    "+1 212 555 2674",
    "2125552674.0",
    "212-555-2674 x9",
    "+44 20 7946 0958",
    "020 7946 0958",
    "(646) 555-0101",
    "n/a",
]
COUNTRIES = ["US", "GB", "CA", "gb", "", "XX"]


def _frame(phones: list[str], countries: list[str] | None) -> tuple[pd.DataFrame, LeadColumns]:
    data = {"row": np.arange(1, len(phones) + 1), "phone": phones}
    if countries is not None:
        data["country"] = countries
    frame = pd.DataFrame(data)
    columns = LeadColumns.detect(list(frame.columns), "phone", "country" if countries else None)
    return frame, columns


def test_plain_repeats_of_an_accepted_number_are_not_parsed() -> None:
    frame, columns = _frame(
        ["(212) 555-2674", "212-555-2674", "+1 212 555 2674", "2125552674.0"],
        ["US", "GB", "GB", "US"],
    )
    cells = phone_cells(frame, columns=columns, region="US")
    normalized = normalize_new(cells, seen={ACCEPTED})
    # Read as +1 in the US, and with its +1 anywhere; not without it in GB, nor a float.
    assert normalized.parsed is not None
    assert [cells.pairs[i] for i in normalized.parsed] == [
        ("212-555-2674", "GB"),
        ("2125552674.0", "US"),
    ]


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.tuples(st.sampled_from(SHAPES), st.sampled_from(COUNTRIES)), max_size=30),
    seen=st.sets(st.sampled_from([ACCEPTED, "+16465550101", "+442079460958"])),
    by_country=st.booleans(),
)
def test_skipping_plain_repeats_splits_a_chunk_as_parsing_everything_does(
    rows: list[tuple[str, str]], seen: set[str], by_country: bool
) -> None:
    phones = [phone for phone, _ in rows]
    frame, columns = _frame(phones, [country for _, country in rows] if by_country else None)
    cells = phone_cells(frame, columns=columns, region="US")
    skipping = split_chunk(
        frame,
        columns=columns,
        region="US",
        seen=set(seen),
        suppressed=set(),
        normalized=(cells, normalize_new(cells, seen=seen)),
    )
    parsing = split_chunk(frame, columns=columns, region="US", seen=set(seen), suppressed=set())
    pd.testing.assert_frame_equal(skipping.contacts, parsing.contacts)
    pd.testing.assert_frame_equal(skipping.rejects, parsing.rejects)
