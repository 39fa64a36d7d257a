"""The shared outcome vocabulary: every provider's tables speak only it, a word no table
knows is malformed, the re-call delay. Each provider's own words and readers are tested with
its adapter (tests/unit/test_providers_<kind>.py)."""

from __future__ import annotations

import pytest

from dialer.errors import MalformedOutcome
from dialer.outcomes import Outcome, normalize, outcome_of
from dialer.providers.allomia import STATUSES as ALLOMIA
from dialer.providers.polyai import STATUSES as POLYAI
from dialer.providers.trillet import EVENTS as TRILLET_EVENTS
from dialer.providers.trillet import STATUSES as TRILLET_STATUSES


def test_every_table_speaks_only_the_vocabulary() -> None:
    for table in (ALLOMIA, POLYAI, TRILLET_STATUSES, TRILLET_EVENTS):
        assert set(table.values()) <= {*Outcome, None}
        assert all(word == normalize(word) or word.startswith("call.") for word in table)
    assert {str(o) for o in Outcome} == {"completed", "no-answer", "busy", "failed", "voicemail"}


@pytest.mark.parametrize("status", ["answered-ish", "", None, 3, ["completed"]])
def test_a_word_the_table_does_not_know_is_malformed(status: object) -> None:
    with pytest.raises(MalformedOutcome):
        outcome_of(status, ALLOMIA, provider="allomia")
