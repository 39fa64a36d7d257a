"""Recall rules as the user writes them (``--recall``, ``--order``) and as a campaign uses
them: pure functions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.errors import InputError
from dialer.recalls import (
    ClaimOrder,
    campaign_rules,
    describe,
    flat_rules,
    max_calls_for,
    parse_order,
    parse_rules,
    recall_wait,
)


def test_rules_per_outcome_in_seconds() -> None:
    rules = parse_rules(["no-answer=1h,4h,1d", "Busy = 15m, 1h", "voicemail=1d"])
    assert rules == {
        "no-answer": [3600, 14400, 86400],
        "busy": [900, 3600],
        "voicemail": [86400],
    }
    assert max_calls_for(rules) == 7
    assert describe(rules) == "no-answer=1h,4h,1d busy=15m,1h voicemail=1d"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("answered=1h", "--recall 'answered=1h': unknown outcome 'answered' (use no-answer, busy"),
        ("completed=1h", "unknown outcome 'completed'"),
        ("no-answer=1x", "--recall 'no-answer=1x': invalid duration '1x'"),
        ("no-answer=", "give 1 to 20 waits"),
        ("no-answer", "write OUTCOME=WAIT,WAIT..."),
        ("no-answer=1h,,2h", "invalid duration ''"),
        ("busy=0s", "a wait must be longer than 0s"),
    ],
)
def test_a_bad_rule_is_one_line_naming_the_option(text: str, message: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_rules([text])
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_an_outcome_is_given_once() -> None:
    with pytest.raises(InputError, match="busy has a rule already"):
        parse_rules(["busy=1h", "busy=2h"])


@given(st.lists(st.text(max_size=40), max_size=3))
def test_any_text_is_rules_or_one_line_input_error(texts: list[str]) -> None:
    try:
        rules = parse_rules(texts)
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("--recall ")
    else:
        assert all(steps and all(s > 0 for s in steps) for steps in rules.values())


def test_the_nth_call_with_an_outcome_waits_the_nth_step_then_none() -> None:
    rules = {"no-answer": [3600, 14400]}
    assert recall_wait(rules, "no-answer", 1) == timedelta(hours=1)
    assert recall_wait(rules, "no-answer", 2) == timedelta(hours=4)
    assert recall_wait(rules, "no-answer", 3) is None
    assert recall_wait(rules, "busy", 1) is None


def test_max_calls_and_retry_after_are_the_flat_ladder() -> None:
    assert flat_rules(3, 600) == {"busy": [600, 600], "no-answer": [600, 600]}
    assert flat_rules(2, None) == {"busy": [3600], "no-answer": [3600]}
    assert flat_rules(1, 600) == {}
    # A campaign made before rules existed keeps its flat ladder; stored rules win.
    assert campaign_rules(None, 2, 60) == {"busy": [60], "no-answer": [60]}
    assert campaign_rules({"voicemail": [60]}, 2, 60) == {"voicemail": [60]}
    assert describe({}) == "none"


def test_order_words() -> None:
    assert parse_order(None) is ClaimOrder.INTERLEAVE
    assert parse_order("Fresh-First") is ClaimOrder.FRESH_FIRST
    with pytest.raises(InputError, match="use one of fresh-first, recalls-first, interleave"):
        parse_order("newest")
