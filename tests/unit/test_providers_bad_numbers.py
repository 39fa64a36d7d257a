"""Recognising a provider's bad-number answers (``number_refused``) is pure and total: any
status and any decoded body, however odd, gives a yes or no, never an exception."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.providers import PROVIDERS

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["error", "message", "detail", "details", "field", "code", "x"])
            | st.text(max_size=8),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("kind", sorted(PROVIDERS))
@given(status=st.integers(100, 599), payload=JSON)
def test_any_answer_is_a_yes_or_no(kind: str, status: int, payload: Any) -> None:
    refused = PROVIDERS[kind].number_refused(status, payload)
    assert isinstance(refused, bool)
    if not 400 <= status < 500:
        assert refused is False


def test_the_documented_answers_and_their_near_misses() -> None:
    allomia, polyai = PROVIDERS["allomia"], PROVIDERS["polyai"]
    number = {"field": "phoneNumber", "message": "Phone number must be at least 10 digits"}
    assert allomia.number_refused(400, {"error": "Invalid request data", "details": [number]})
    other = {"field": "assistantId", "message": "Required"}
    assert not allomia.number_refused(400, {"error": "Invalid request data", "details": [other]})
    assert not allomia.number_refused(404, {"error": "Assistant or phone number not found"})
    assert polyai.number_refused(400, {"error": "to_number is not a phone number"})
    assert not polyai.number_refused(400, {"error": "metadata.a must be a string"})
    assert not PROVIDERS["sandbox"].number_refused(400, {"error": "to must be in E.164 format"})
