"""Splitting a chunk of leads: skipping the parse of plain repeats changes nothing."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.leads.contacts import normalize_new, phone_cells, split_chunk
from dialer.leads.headers import LeadColumns
from dialer.leads.phones import PhoneNumber, normalize_phone
from dialer.leads.seen import SeenNumbers

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
    normalized = normalize_new(cells, seen=SeenNumbers.of({ACCEPTED: 0}))
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
        seen=SeenNumbers.of(dict.fromkeys(seen, 0)),
        suppressed=set(),
        normalized=(cells, normalize_new(cells, seen=SeenNumbers.of(dict.fromkeys(seen, 0)))),
    )
    parsing = split_chunk(
        frame,
        columns=columns,
        region="US",
        seen=SeenNumbers.of(dict.fromkeys(seen, 0)),
        suppressed=set(),
    )
    pd.testing.assert_frame_equal(skipping.contacts, parsing.contacts)
    pd.testing.assert_frame_equal(skipping.rejects, parsing.rejects)


def _two_phone_columns(rows: list[tuple[str, str]]) -> tuple[pd.DataFrame, LeadColumns]:
    frame = pd.DataFrame(
        {
            "row": np.arange(1, len(rows) + 1),
            "phone": [phone for phone, _ in rows],
            "mobile": [mobile for _, mobile in rows],
        }
    )
    return frame, LeadColumns.detect(["phone", "mobile"], ("phone", "mobile"), None)


def test_with_several_phone_columns_a_row_is_its_first_valid_number() -> None:
    frame, columns = _two_phone_columns(
        [
            ("n/a", "(212) 555-2671"),
            ("212 555 2672", "212 555 2673"),
            ("asdf", ""),
            ("", ""),
            ("2125552672", "2125552674"),
            ("2125552675", "(212) 555-2675"),
            ("", "+1 099 555 0123"),
        ]
    )
    result = split_chunk(frame, columns=columns, region="US", seen=SeenNumbers(), suppressed=set())
    contacts = result.contacts
    assert contacts["row"].tolist() == [1, 2, 6]
    assert contacts["phone"].tolist() == ["+12125552671", "+12125552672", "+12125552675"]
    assert contacts["raw_phone"].tolist() == ["(212) 555-2671", "212 555 2672", "2125552675"]
    assert [json.loads(v)["alternate_phones"] for v in contacts["variables"]] == [
        "",
        "+12125552673",
        "",
    ]
    assert json.loads(contacts["variables"].iloc[1]) == {
        "phone": "212 555 2672",
        "mobile": "212 555 2673",
        "alternate_phones": "+12125552673",
    }
    assert result.rejects.to_dict("records") == [
        {"row": 3, "value": "asdf", "reason": "unparseable", "detail": "not a phone number"},
        {"row": 4, "value": "", "reason": "missing", "detail": "no phone number"},
        {"row": 5, "value": "2125552672", "reason": "duplicate", "detail": "same number as row 2"},
        {
            "row": 7,
            "value": "+1 099 555 0123",
            "reason": "invalid",
            "detail": "no such number for +1",
        },
    ]
    assert result.supplied == (2, 1)


def test_the_alternates_variable_never_overwrites_a_column_of_the_file() -> None:
    columns = LeadColumns.detect(["phone", "alternate_phones"], ("phone", "alternate_phones"), None)
    assert columns.alternates == "alternate_phones_2"
    assert columns.names == ("phone", "alternate_phones", "alternate_phones_2")
    assert LeadColumns.detect(["phone", "mobile"], "phone", None).alternates is None


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(SHAPES), st.sampled_from(SHAPES)), max_size=30))
def test_each_row_is_its_first_valid_number_or_a_reject(rows: list[tuple[str, str]]) -> None:
    frame, columns = _two_phone_columns(rows)
    result = split_chunk(frame, columns=columns, region="US", seen=SeenNumbers(), suppressed=set())
    assert sorted([*result.contacts["row"], *result.rejects["row"]]) == list(frame["row"])
    firsts: dict[str, int] = {}
    for row, cells in enumerate(rows, start=1):
        numbers = [normalize_phone(cell, "US") for cell in cells]
        valid = [n.e164 for n in numbers if isinstance(n, PhoneNumber)]
        if valid:
            firsts.setdefault(valid[0], row)
    assert dict(zip(result.contacts["phone"], result.contacts["row"], strict=True)) == firsts
    assert sum(result.supplied) == len(result.contacts)
