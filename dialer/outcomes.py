"""What became of a placed call, in one vocabulary across providers. Pure: no I/O, no clock.

    completed   the call connected and ended normally
    no-answer   nobody picked up
    busy        the line was busy
    failed      the provider could not complete the call
    voicemail   an answering machine took it (only where a provider says so)

A contact is called again after an outcome its campaign has a recall ladder for
(:mod:`dialer.recalls`); the flat ``--max-calls`` ladder covers :data:`RECALLABLE`.

Each provider's own words map to one of these, or to None while the call is not final yet
(``calling``, ``queued``...): every provider module holds its own :data:`StatusTable`. A word a
table does not know is :class:`MalformedOutcome`: guessing would put a wrong fact in the
ledger, and polling simply asks again later.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum

from dialer.errors import MalformedOutcome


class Outcome(StrEnum):
    COMPLETED = "completed"
    NO_ANSWER = "no-answer"
    BUSY = "busy"
    FAILED = "failed"
    VOICEMAIL = "voicemail"


RECALLABLE = frozenset({Outcome.NO_ANSWER, Outcome.BUSY})
"""Outcomes the flat ``--max-calls`` ladder calls again (:func:`dialer.recalls.flat_rules`)."""

DEFAULT_RECALL_AFTER = timedelta(hours=1)
"""The flat ladder's wait when the campaign has ``--max-calls`` but no ``--retry-after``."""


StatusTable = Mapping[str, Outcome | None]
"""A provider's status words (normalized, see :func:`normalize`) → outcome, None: not final."""


def normalize(word: str) -> str:
    """``" No_Answer "`` → ``"no-answer"``: lower case, trimmed, ``_`` and spaces as ``-``."""
    return "-".join(word.strip().lower().replace("_", " ").split())


def outcome_of(status: object, table: StatusTable, *, provider: str) -> Outcome | None:
    """The outcome ``status`` means in ``table``, None while not final. MalformedOutcome when
    ``status`` is not a string ``table`` knows."""
    if not isinstance(status, str):
        raise MalformedOutcome(f"{provider}: the status is missing or not a string")
    word = normalize(status)
    if word not in table:
        raise MalformedOutcome(f"{provider}: unknown call status {status[:40]!r}")
    return table[word]
