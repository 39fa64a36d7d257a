"""dialer.leads.seen: the importer's accepted numbers, checked against a plain dict, and a
whole file's de-duplication, chunk after chunk, against a plain row-by-row loop."""

from __future__ import annotations

from itertools import pairwise
from unittest import mock

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.leads import seen as seen_module
from dialer.leads.contacts import normalize_new, phone_cells, split_chunk
from dialer.leads.headers import LeadColumns
from dialer.leads.phones import PhoneRejected, normalize_phone
from dialer.leads.seen import SeenNumbers

# E.164 numbers, and text that is not E.164 in the int64 shape (kept apart, still looked up).
NUMBERS = st.one_of(
    st.integers(min_value=1, max_value=10**15 - 1).map(lambda n: f"+{n}"),
    st.sampled_from(["", "+", "+0123", "+1234567890123456", "12125552674", "+1 212", "\uff0b12"]),
)


@settings(max_examples=200, deadline=None)
@given(
    batches=st.lists(st.lists(NUMBERS, max_size=12), max_size=25),
    probes=st.lists(NUMBERS, max_size=20),
    min_merged=st.sampled_from([1, 3, 1 << 20]),
    min_filter_bits=st.sampled_from([3, 20]),
    first_row=st.sampled_from([0, 2**32 - 20]),
)
def test_rows_are_what_a_dict_of_the_added_numbers_holds(
    batches: list[list[str]],
    probes: list[str],
    min_merged: int,
    min_filter_bits: int,
    first_row: int,
) -> None:
    """Whatever the runs and the filter's size (small ones: many runs, a filter rebuilt
    as it fills and letting most numbers through), and rows too large for uint32 too."""
    reference: dict[str, int] = {}
    row = first_row
    with (
        mock.patch.object(seen_module, "_MIN_MERGED", min_merged),
        mock.patch.object(seen_module, "_MIN_FILTER_BITS", min_filter_bits),
    ):
        seen = SeenNumbers()
        for batch in batches:
            new = list(dict.fromkeys(number for number in batch if number not in reference))
            rows = np.arange(row, row + len(new), dtype=np.int64)
            row += len(new)
            seen.add(pa.array(new, type=pa.string()) if row % 2 else new, rows)
            reference.update(zip(new, rows.tolist(), strict=True))
            assert len(seen) == len(reference)
    asked = [*probes, *reference]
    as_objects = np.empty(len(asked), dtype=object)
    as_objects[:] = asked
    assert seen.rows(as_objects).tolist() == [reference.get(number, -1) for number in asked]


def test_numbers_with_the_same_digits_in_another_shape_are_different_numbers() -> None:
    seen = SeenNumbers.of({"+12125552674": 3, "12125552674": 4})
    assert seen.rows(["+12125552674", "12125552674", "+012125552674"]).tolist() == [3, 4, -1]


SHAPES = (
    "({a}) 555-{b}",
    "{a}-555-{b}",
    "+1 {a} 555 {b}",
    "{a}555{b}.0",
    "1.{a}555{b}E10",
    "{a}.555.{b} x12",
    "p:+1{a}555{b}",
)
AREAS = ("212", "646", "415", "099")
GARBAGE = ("n/a", "", "asdf", "555-12", "+44 20 7946 0958", "020 7946 0958")


@st.composite
def leads(draw: st.DrawFn) -> list[str]:
    """Phone cells of a merged list: a few numbers, each written in several shapes, repeated
    anywhere in the file, among garbage and foreign numbers."""
    numbers = draw(
        st.lists(st.tuples(st.sampled_from(AREAS), st.sampled_from(["2671", "0101", "9999"])))
    )
    cell = st.one_of(
        st.sampled_from(GARBAGE),
        st.tuples(st.sampled_from(numbers or [("212", "2674")]), st.sampled_from(SHAPES)).map(
            lambda pair: pair[1].format(a=pair[0][0], b=pair[0][1])
        ),
    )
    return draw(st.lists(cell, max_size=60))


@settings(max_examples=150, deadline=None)
@given(
    phones=leads(),
    cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=6),
    in_campaign=st.sets(st.sampled_from(["+12125552671", "+16465550101", "+14155559999"])),
)
def test_chunk_by_chunk_the_split_is_the_row_by_row_one(
    phones: list[str], cuts: list[int], in_campaign: set[str]
) -> None:
    """Each row is accepted or rejected, and a duplicate names the earlier row (or the
    campaign), exactly as a loop over the rows with a dict of the numbers accepted says,
    however the file is cut into chunks (repeats within a chunk and across chunks)."""
    seen = SeenNumbers.of(dict.fromkeys(in_campaign, 0))
    frame = pd.DataFrame({"row": np.arange(1, len(phones) + 1), "phone": phones})
    columns = LeadColumns.detect(["phone"], "phone", None)
    bounds = sorted({0, len(phones), *(cut for cut in cuts if cut < len(phones))})
    accepted: dict[int, str] = {}
    rejected: dict[int, tuple[str, str]] = {}
    for start, end in pairwise(bounds):
        chunk = frame.iloc[start:end]
        cells = phone_cells(chunk, columns=columns, region="US")
        result = split_chunk(
            chunk,
            columns=columns,
            region="US",
            seen=seen,
            suppressed=set(),
            normalized=(cells, normalize_new(cells, seen=seen)),
        )
        accepted.update(zip(result.contacts["row"], result.contacts["phone"], strict=True))
        rejects = result.rejects
        rejected.update(
            zip(rejects["row"], zip(rejects["reason"], rejects["detail"], strict=True), strict=True)
        )

    expected_accepted, expected_rejected = _row_by_row(phones, in_campaign)
    assert accepted == expected_accepted
    assert rejected == expected_rejected


def _row_by_row(
    phones: list[str], in_campaign: set[str]
) -> tuple[dict[int, str], dict[int, tuple[str, str]]]:
    """The plain reference: the first row with a number wins, later ones are duplicates."""
    first: dict[str, int] = dict.fromkeys(in_campaign, 0)
    accepted: dict[int, str] = {}
    rejected: dict[int, tuple[str, str]] = {}
    for row, phone in enumerate(phones, start=1):
        number = normalize_phone(phone, "US")
        if isinstance(number, PhoneRejected):
            rejected[row] = (number.reason, number.detail)
        elif number.e164 in first:
            earlier = first[number.e164]
            detail = (
                f"same number as row {earlier}" if earlier else "number already in the campaign"
            )
            rejected[row] = ("duplicate", detail)
        else:
            first[number.e164] = row
            accepted[row] = number.e164
    return accepted, rejected
