"""Fault rules: what to do instead of answering normally when a given number is dialed.

A rule names a phone number (or ``"*"`` for every number), an action — an HTTP status to answer,
``hang``, ``drop``, or ``invalid-number``: the API's own answer for a number that cannot be called,
as its document gives it (a plain 400 for an API whose document gives none) — and optionally how
many requests it applies to. Rules for the exact number
win over ``"*"``; among equals, the oldest wins. A rule whose ``times`` are used up is removed.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

Action = Literal["500", "503", "429", "400", "401", "403", "hang", "drop", "invalid-number"]
INVALID_NUMBER = "invalid-number"
ANY_PHONE = "*"


class _RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=1)
    action: Action
    times: int | None = Field(default=None, ge=1)
    retry_after: str | None = None

    @field_validator("action", mode="before")
    @classmethod
    def _status_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @field_validator("retry_after")
    @classmethod
    def _seconds_or_http_date(cls, value: str | None) -> str | None:
        if value is None or value.isdigit():
            return value
        try:
            email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            raise ValueError("must be a number of seconds or an HTTP date") from None
        return value


@dataclass(slots=True)
class FaultRule:
    phone: str
    action: Action
    times: int | None = None
    retry_after: str | None = None
    hits: int = 0

    @classmethod
    def from_json(cls, data: object) -> FaultRule:
        """Build a rule from the control API's JSON. ValueError says what is wrong."""
        try:
            spec = _RuleSpec.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ValueError(f"{where}: {first['msg']}" if where else first["msg"]) from None
        return cls(spec.phone, spec.action, spec.times, spec.retry_after)

    def to_json(self) -> dict[str, Any]:
        return {
            "phone": self.phone,
            "action": self.action,
            "times": self.times,
            "retry_after": self.retry_after,
            "hits": self.hits,
        }


class RuleBook:
    """The active fault rules, consumed as matching requests arrive."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> None:
        self._rules.append(rule)

    def clear(self, phone: str | None = None) -> int:
        """Remove every rule, or those for ``phone``; return how many went."""
        kept = [rule for rule in self._rules if phone is not None and rule.phone != phone]
        removed = len(self._rules) - len(kept)
        self._rules = kept
        return removed

    def take(self, phone: str | None) -> FaultRule | None:
        """The rule that applies to this request for ``phone``, counting it as used."""
        if phone is None:
            return None
        rule = next((r for r in self._rules if r.phone == phone), None)
        if rule is None:
            rule = next((r for r in self._rules if r.phone == ANY_PHONE), None)
        if rule is None:
            return None
        rule.hits += 1
        if rule.times is not None and rule.hits >= rule.times:
            self._rules.remove(rule)
        return rule

    def to_json(self) -> list[dict[str, Any]]:
        return [rule.to_json() for rule in self._rules]
