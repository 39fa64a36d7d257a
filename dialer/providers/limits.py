"""How long a rendered message text may be, per provider: checked per lead at import (a
reject with the reason), so an oversized text is never sent.

No provider document states a length limit for these fields (``shared/providers/``): the caps
are ours, recorded in docs/decisions.md — generous for a script spoken on a call (4,000
characters is some four minutes of speech), small enough that a hostile or broken lead file
cannot make each request megabytes long.
"""

from __future__ import annotations

from dialer.providers.base import MESSAGE_OPTIONS, Messages

MESSAGE_LIMITS: dict[str, int] = {"libby": 4_000, "libby-legacy": 4_000}
"""Characters per rendered message field (``intro``, each ``question``...), by provider kind;
providers that take no message texts refuse them whole and need no entry."""


def too_long(kind: str, messages: Messages) -> str | None:
    """A reason naming the first message field over ``kind``'s limit, or None. The same
    words for every lead, so the import's summary counts them as one reason."""
    limit = MESSAGE_LIMITS.get(kind)
    if limit is None:
        return None
    for name, value in messages.given().items():
        for text in value if isinstance(value, list) else [value]:
            if len(text) > limit:
                return f"{MESSAGE_OPTIONS[name]} is longer than {kind}'s {limit:,} characters"
    return None
