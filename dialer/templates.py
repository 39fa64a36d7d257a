"""Message templates: ``{column}`` placeholders filled from each lead's own columns.

Templates are validated once, when the campaign is created, against the columns the leads
file actually has: a misspelt placeholder is an error then, not a silent blank at dial time.
A placeholder is a plain ``{column}``; ``{{`` and ``}}`` are literal braces. Everything else
``str.format`` knows — a format spec (``{name:>20000000}`` renders 20 MB), a conversion
(``{name!r}``), an attribute or index walk (``{name.__class__}``, ``{name[0]}``) — is refused
at create time, so :func:`render` only ever substitutes strings.
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
    """The ``{names}`` a template uses. TemplateError, naming the placeholder, if it is
    malformed or more than a plain ``{column}`` (see the module docstring)."""
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise TemplateError(f"template {template[:60]!r} is malformed: {exc}") from None
    names = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise TemplateError(
                f"placeholder {{{shown[:60]}}} is not allowed: use a plain {{column}} "
                "(no format spec, conversion, attribute or index)"
            )
        names.append(name)
    return names


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
        try:
            used = placeholders(template)
        except TemplateError as exc:
            raise TemplateError(f"{option}: {exc}") from None
        for name in used:
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
