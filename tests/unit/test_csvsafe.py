"""``dialer.csvsafe``: which cells are neutralised, and the spelt-out pattern the server uses."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.csvsafe import TRIGGERS, neutralise, phone_like_pattern


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=HYPERLINK(x)", "'=HYPERLINK(x)"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("-2+3", "-2+3"),
        ("+1 (212) 555-2671", "+1 (212) 555-2671"),
        ("+1\u00a0212\u2009555", "+1\u00a0212\u2009555"),
        ("-\u0661\u0662", "-\u0661\u0662"),
        ("+1 212 x", "'+1 212 x"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_formulas_are_neutralised_and_phone_like_values_kept(value: str, written: str) -> None:
    assert neutralise(value) == written


def _spelt_out_keeps(value: str) -> bool:
    # Python's $ also matches before a final newline: fullmatch the pattern's inside instead.
    return re.fullmatch(phone_like_pattern()[1:-1], value) is not None


def test_the_spelt_out_pattern_keeps_every_character_neutralise_keeps() -> None:
    for point in range(0x110000):
        char = chr(point)
        if 0xD800 <= point <= 0xDFFF:
            continue
        value = "+1" + char
        assert _spelt_out_keeps(value) == (neutralise(value) == value), hex(point)


_MOSTLY_PHONE_LIKE = st.text(
    st.one_of(
        st.characters(categories=["Nd", "Zs", "Zl", "Zp", "Cc"]),
        st.sampled_from("().+-x="),
        st.characters(exclude_categories=["Cs"]),
    )
)


@given(st.sampled_from(TRIGGERS), _MOSTLY_PHONE_LIKE)
def test_the_spelt_out_pattern_agrees_with_neutralise(trigger: str, rest: str) -> None:
    value = trigger + rest
    assert _spelt_out_keeps(value) == (neutralise(value) == value)
