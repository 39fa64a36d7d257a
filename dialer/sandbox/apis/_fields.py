"""Field checks the provider APIs share. Each returns a problem sentence, or None when fine."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def missing_strings(
    body: Mapping[str, Any], names: Iterable[str], *, within: str = ""
) -> str | None:
    """The first of ``names`` that is absent, not a string, or blank. ``within`` prefixes the
    name in the message, for fields of a nested object (``"contact."``)."""
    for name in names:
        value = body.get(name)
        if not isinstance(value, str) or not value.strip():
            return f"{within}{name} is required"
    return None


def not_strings(body: Mapping[str, Any], names: Iterable[str], *, within: str = "") -> str | None:
    """The first of ``names`` that is present but not a string (None counts as absent)."""
    for name in names:
        if body.get(name) is not None and not isinstance(body[name], str):
            return f"{within}{name} must be a string"
    return None


def not_string_list(body: Mapping[str, Any], names: Iterable[str]) -> str | None:
    for name in names:
        value = body.get(name)
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(item, str) for item in value)
        ):
            return f"{name} must be an array of strings"
    return None


def not_e164(body: Mapping[str, Any], names: Iterable[str]) -> str | None:
    for name in names:
        if not E164.match(str(body.get(name, ""))):
            return f"{name} must be in E.164 format, e.g. +15055550123"
    return None


def not_object(body: Mapping[str, Any], name: str, *, values: tuple[type, ...] = ()) -> str | None:
    """``name`` is present but not an object, or (with ``values``) has a value of another type."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        return f"{name} must be an object"
    for key, item in value.items():
        if values and not isinstance(item, values):
            kinds = " or ".join(dict.fromkeys(_NAMES[t] for t in values))
            return f"{name}.{key} must be a {kinds}"
    return None


_NAMES: dict[type, str] = {str: "string", int: "number", float: "number", bool: "boolean"}
