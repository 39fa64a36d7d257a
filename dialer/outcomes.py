"""What became of a placed call, in one vocabulary across providers. Pure: no I/O, no clock.

    completed   the call connected and ended normally
    no-answer   nobody picked up                      ┐ called again while the campaign's
    busy        the line was busy                     ┘ --max-attempts allows (RECALLABLE)
    failed      the provider could not complete the call
    voicemail   an answering machine took it (only where a provider says so)

Each provider's own words map to one of these, or to None while the call is not final yet
(``calling``, ``queued``...). A word a table does not know is :class:`MalformedOutcome`:
guessing would put a wrong fact in the ledger, and polling simply asks again later.
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
"""Outcomes after which a contact is called again (campaign ``--max-attempts`` > 1)."""

DEFAULT_RECALL_AFTER = timedelta(hours=1)
"""The wait before a re-call when the campaign has ``--max-attempts`` but no ``--retry-after``."""


StatusTable = Mapping[str, Outcome | None]
"""A provider's status words (normalized, see :func:`normalize`) → outcome, None: not final."""

_C, _NA, _B, _F, _VM = (
    Outcome.COMPLETED,
    Outcome.NO_ANSWER,
    Outcome.BUSY,
    Outcome.FAILED,
    Outcome.VOICEMAIL,
)

ALLOMIA: StatusTable = {
    # Terminal states, as the callbackUrl documentation names them.
    "completed": _C,
    "failed": _F,
    "busy": _B,
    "no-answer": _NA,
    # "calling" is the documented initial status; the others are read as in progress too.
    "calling": None,
    "queued": None,
    "ringing": None,
    "in-progress": None,
}
"""AlloMia's ``status`` (webhook and ``GET /api/outbound/{id}``). The sandbox's own kind
reports its calls in these same words."""

POLYAI: StatusTable = {"success": _C, "failure": _F, "queued": None, "calling": None}
"""PolyAI's call status: ``success`` (the call completed) or ``failure`` (it did not)."""

TRILLET_STATUSES: StatusTable = {
    "completed": _C,
    "ended": _C,
    "failed": _F,
    "error": _F,
    "busy": _B,
    "no-answer": _NA,
    "unanswered": _NA,
    "not-answered": _NA,
    "voicemail": _VM,
    "machine": _VM,
    "answering-machine": _VM,
    "queued": None,
    "initiated": None,
    "scheduled": None,
    "ringing": None,
    "started": None,
    "in-progress": None,
    "active": None,
    "ongoing": None,
    "calling": None,
}
"""Trillet's call ``status``. Its documents show only ``completed``; the rest is the set of
words voice platforms commonly use, accepted so a real event is not refused for a synonym."""

TRILLET_EVENTS: StatusTable = {
    "call.completed": _C,
    "call.ended": _C,
    "call.failed": _F,
    "call.started": None,
}
"""Trillet's webhook ``event`` names about calls (``call.started``, ``call.completed``,
``call.failed`` are documented); its status, when it gives one, is more precise and wins."""


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


def recall_delay(retry_after_seconds: int | None) -> timedelta:
    """How long a no-answer/busy contact waits before it is called again."""
    if retry_after_seconds is None:
        return DEFAULT_RECALL_AFTER
    return timedelta(seconds=retry_after_seconds)
