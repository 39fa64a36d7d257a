"""Recall rules: after which outcomes a placed contact is called again, and after how long.
Pure: no I/O, no clock.

A campaign's rules map an outcome to its *ladder*, the waits before each recall::

    --recall no-answer=1h,4h,1d --recall busy=15m,1h --recall voicemail=1d

The Nth time a contact's call ends with an outcome (counted per outcome, over the contact's
attempts), it waits the ladder's Nth step and is called again; past the ladder's end, and
for an outcome with no rule, the contact is final. The campaign's ``max_attempts`` (its
``--max-calls``) still caps the placed calls of a contact whatever the outcomes.

``--max-calls N --retry-after T`` is the flat ladder: no-answer and busy, each ``T`` repeated
``N - 1`` times, the total capped at ``N`` calls (:func:`flat_rules`).

The claim order says which due contacts a tick takes first: never-called ones
(``fresh-first``), ones due again (``recalls-first``: recalls, retries, rescheduled), or one of
each in turn (``interleave``, the default).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from enum import StrEnum

from dialer.backoff import parse_duration
from dialer.errors import InputError
from dialer.outcomes import DEFAULT_RECALL_AFTER, RECALLABLE, Outcome

RecallRules = dict[str, list[int]]
"""Outcome word → the ladder's waits in seconds, as stored on the campaign (JSON)."""

RULE_OUTCOMES = tuple(o.value for o in Outcome if o is not Outcome.COMPLETED)
"""Outcomes a rule may name: a completed call is never recalled."""

MAX_STEPS = 20


class ClaimOrder(StrEnum):
    FRESH_FIRST = "fresh-first"
    RECALLS_FIRST = "recalls-first"
    INTERLEAVE = "interleave"


def parse_order(text: str | None) -> ClaimOrder:
    """``--order``'s value; InputError (one line) for anything else."""
    if not text:
        return ClaimOrder.INTERLEAVE
    try:
        return ClaimOrder(text.strip().lower())
    except ValueError:
        known = ", ".join(o.value for o in ClaimOrder)
        raise InputError(f"--order {text[:40]!r}: use one of {known}") from None


def parse_rules(texts: Sequence[str]) -> RecallRules:
    """``--recall OUTCOME=WAIT,WAIT...`` options, each outcome once. InputError (one line)
    naming the option for an unknown outcome, a bad or missing duration, or a repeat."""
    rules: RecallRules = {}
    for text in texts:
        word, sep, waits = text.partition("=")
        outcome = word.strip().lower()
        shown = f"--recall {text[:60]!r}"
        if not sep:
            raise InputError(f"{shown}: write OUTCOME=WAIT,WAIT..., e.g. no-answer=1h,4h,1d")
        if outcome not in RULE_OUTCOMES:
            raise InputError(
                f"{shown}: unknown outcome {outcome[:30]!r} (use {', '.join(RULE_OUTCOMES)})"
            )
        if outcome in rules:
            raise InputError(f"{shown}: {outcome} has a rule already (give it once)")
        steps = [step.strip() for step in waits.split(",")]
        if not any(steps) or len(steps) > MAX_STEPS:
            raise InputError(f"{shown}: give 1 to {MAX_STEPS} waits, e.g. {outcome}=1h,4h,1d")
        seconds = []
        for step in steps:
            try:
                wait = parse_duration(step)
            except InputError as exc:
                raise InputError(f"{shown}: {exc}") from None
            if wait <= timedelta(0):
                raise InputError(f"{shown}: a wait must be longer than 0s")
            seconds.append(int(wait.total_seconds()))
        rules[outcome] = seconds
    return rules


def flat_rules(max_calls: int, retry_after_seconds: int | None) -> RecallRules:
    """The ladder ``--max-calls``/``--retry-after`` stand for (none below 2 calls)."""
    if max_calls < 2:
        return {}
    wait = (
        int(DEFAULT_RECALL_AFTER.total_seconds())
        if retry_after_seconds is None
        else retry_after_seconds
    )
    return {outcome.value: [wait] * (max_calls - 1) for outcome in sorted(RECALLABLE)}


def max_calls_for(rules: Mapping[str, Sequence[int]]) -> int:
    """The calls a contact can get under ``rules`` alone: the first and every step."""
    return 1 + sum(len(steps) for steps in rules.values())


def campaign_rules(
    stored: Mapping[str, Sequence[int]] | None, max_attempts: int, retry_after_seconds: int | None
) -> RecallRules:
    """A campaign's rules: those stored, else (campaigns made before rules existed, and
    the flat shorthand) the flat ladder of its ``max_attempts`` and retry wait."""
    if stored is not None:
        return {outcome: list(steps) for outcome, steps in stored.items()}
    return flat_rules(max_attempts, retry_after_seconds)


def recall_wait(rules: Mapping[str, Sequence[int]], outcome: str, nth: int) -> timedelta | None:
    """The wait before calling again after the ``nth`` (1-based) call that ended with
    ``outcome``; None when the contact is final (no rule, or past the ladder's end)."""
    steps = rules.get(outcome, ())
    if nth < 1 or nth > len(steps):
        return None
    return timedelta(seconds=steps[nth - 1])


def describe(rules: Mapping[str, Sequence[int]]) -> str:
    """``no-answer=1h,4h,1d busy=15m`` for status output; ``none`` without rules."""
    if not rules:
        return "none"
    return " ".join(
        f"{outcome}={','.join(_short(s) for s in steps)}" for outcome, steps in rules.items()
    )


def _short(seconds: int) -> str:
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"
