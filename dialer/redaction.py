"""Masking secrets out of text before it is logged or stored: :func:`redact`.

What is masked, wherever it appears:

- every secret the process has been told about (:func:`remember`, :func:`remember_settings`:
  the API keys and each account's credentials), longest first;
- the token segment of a webhook path, ``/webhooks/{provider}/{token}``: campaign callback
  tokens live in the ledger, not in the settings, so they are recognised by where they stand;
- a credential after a name that says it is one: ``Bearer x``, ``api_key=x``,
  ``"token": "x"``, ``X-API-Key: x``, ``password=x``...;
- runs of 8 or more digits (phone numbers: a provider that echoes a request may echo a whole
  list of them).

The registry only grows, and only with values of at least :data:`MIN_SECRET_LENGTH`
characters (masking every ``"a"`` would wreck the text and protect nothing). :func:`redact`
is otherwise pure: same text and registry, same answer.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

from dialer.settings import Settings

MASK = "****"
MIN_SECRET_LENGTH = 6
ERROR_LIMIT = 300
"""Characters of an error text the ledger keeps (after masking)."""

_WEBHOOK_PATH = re.compile(r"(/webhooks/[^/\s\"'?#]+/)[^/\s\"'?#]+")
_NAMED = re.compile(
    r"""(?ix)
    (\b(?:bearer|basic)\s+)[^\s"',;]+
    |
    (\b(?:x-)?(?:api[_-]?key|access[_-]?token|token|client[_-]?secret|secret|password|
          authorization|x-workspace-id|workspace[_-]?id)["']?\s*[:=]\s*["']?)
    (?!(?:bearer|basic)\s)[^\s"',;&}]+
    """
)
_NAMED_HINTS = (
    "bearer",
    "basic",
    "key",
    "token",
    "secret",
    "password",
    "authorization",
    "workspace",
)
"""Words :data:`_NAMED` starts with, looked for first: substring tests cost well under a
microsecond, the regular expression ~15 µs on a line that has none of them."""
_DIGITS = re.compile(r"\d{8,}")

_lock = threading.Lock()
_known: tuple[str, ...] = ()


def remember(secrets: Iterable[str]) -> None:
    """Add ``secrets`` to those :func:`redact` masks (short and empty values are ignored)."""
    global _known
    fresh = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
    with _lock:
        merged = fresh.union(_known)
        if len(merged) != len(_known):
            _known = tuple(sorted(merged, key=len, reverse=True))


def remember_settings(settings: Settings) -> None:
    """Remember the API keys and every account's credentials of ``settings``."""
    values: list[str] = [key.get_secret_value() for key in settings.api_keys]
    for account in settings.accounts.values():
        values.extend(account.secrets())
    remember(values)


def redact(text: str, *, limit: int | None = None, secrets: Iterable[str] = ()) -> str:
    """``text`` with secrets masked (see the module docstring), then cut to ``limit``
    characters (the last one an ellipsis) when it is longer. ``secrets`` are masked too, this
    once, whatever their length."""
    if not text:
        return text
    for secret in (*[s for s in secrets if s], *_known):
        if secret in text:
            text = text.replace(secret, MASK)
    text = _WEBHOOK_PATH.sub(_mask_named, text)
    lowered = text.lower()
    if any(hint in lowered for hint in _NAMED_HINTS):
        text = _NAMED.sub(_mask_named, text)
    text = _DIGITS.sub(MASK, text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _mask_named(match: re.Match[str]) -> str:
    """The match's prefix (its first group that matched) and the mask in place of the rest."""
    return next(group for group in match.groups() if group is not None) + MASK
