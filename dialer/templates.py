"""Message templates: ``{column}`` placeholders filled from each lead's own columns.

Templates are validated once, when the campaign is created, against the columns the leads
file actually has: a misspelt placeholder is an error then, not a silent blank at dial time.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from dialer.errors import TemplateError
from dialer.providers.base import Messages

_FORMATTER = string.Formatter()


@dataclass(frozen=True)
class MessageTemplates:
    """The campaign's message options, unrendered (the ``--intro``... flags of ``create``)."""

    intro: str = ""
    voicemail: str = ""
    instructions: str = ""
    intro_notes: str = ""
    questions: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    variables: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["questions"] = list(self.questions)
        data["rules"] = list(self.rules)
        data["variables"] = dict(self.variables)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MessageTemplates:
        return cls(
            intro=data.get("intro", ""),
            voicemail=data.get("voicemail", ""),
            instructions=data.get("instructions", ""),
            intro_notes=data.get("intro_notes", ""),
            questions=tuple(data.get("questions", ())),
            rules=tuple(data.get("rules", ())),
            variables=dict(data.get("variables", {})),
        )

    def texts(self) -> Iterable[tuple[str, str]]:
        """(option name, template) for every template given."""
        for name in ("intro", "voicemail", "instructions", "intro_notes"):
            value = getattr(self, name)
            if value:
                yield f"--{name.replace('_', '-')}", value
        yield from (("--question", q) for q in self.questions)
        yield from (("--rule", r) for r in self.rules)


def parse_variables(pairs: Iterable[str]) -> dict[str, str]:
    """``KEY=VALUE`` strings (the ``--var`` option) → a dict. TemplateError if one is not."""
    found: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip().isidentifier():
            raise TemplateError(f"--var {pair!r} is not KEY=VALUE")
        found[key.strip()] = value
    return found


def placeholders(template: str) -> list[str]:
    """The ``{names}`` a template uses. TemplateError if it is malformed."""
    try:
        return [name for _, name, _, _ in _FORMATTER.parse(template) if name is not None]
    except ValueError as exc:
        raise TemplateError(f"template {template!r} is malformed: {exc}") from None


def validate(templates: MessageTemplates, columns: Iterable[str]) -> None:
    """Raise TemplateError unless the combination is allowed and every placeholder exists.

    Allowed: ``intro`` with ``voicemail`` (both or neither), or ``instructions``, or
    ``intro_notes`` — one style per campaign, as the providers require.
    """
    if bool(templates.intro) != bool(templates.voicemail):
        raise TemplateError("--intro and --voicemail go together: give both or neither")
    styles = [bool(templates.intro), bool(templates.instructions), bool(templates.intro_notes)]
    if sum(styles) > 1:
        raise TemplateError(
            "use one of --intro/--voicemail, --instructions or --intro-notes, not several"
        )
    known = set(columns) | set(templates.variables)
    for option, template in templates.texts():
        for name in placeholders(template):
            if not name.isidentifier():
                raise TemplateError(f"{option}: placeholder {{{name}}} is not a column name")
            if name not in known:
                available = ", ".join(sorted(known)) or "none"
                raise TemplateError(
                    f"{option} uses {{{name}}}, which is not a column of the leads file "
                    f"(columns: {available})"
                )


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def render(templates: MessageTemplates, values: Mapping[str, str]) -> Messages:
    """Fill every template from one lead's values (``--var`` values under the lead's own)."""
    scope = _Blank({**templates.variables, **values})

    def fill(template: str) -> str:
        return template.format_map(scope) if template else ""

    return Messages(
        intro=fill(templates.intro),
        voicemail=fill(templates.voicemail),
        instructions=fill(templates.instructions),
        intro_notes=fill(templates.intro_notes),
        questions=tuple(fill(q) for q in templates.questions),
        rules=tuple(fill(r) for r in templates.rules),
    )
