"""The one rule for campaign names, applied by the CLI, the API and the ledger.

A name is NFKC-normalised and trimmed, then must be 1 to 100 printable characters (no control
or format characters, no line break: a name is written into log lines and file names), not
``.`` or ``..``, without ``/`` or ``\\`` (it is part of URLs and of the default rejects file's
name), and must not mix Latin letters with Cyrillic or Greek ones (``Spring`` spelt with a
Cyrillic ``S`` (U+0405) looks like ``Spring``). Two names are the same campaign when their
:func:`name_key` (the normalised name, casefolded) are equal: ``Spring`` and ``SPRING`` clash.

The mixed-script rule is ours, not Unicode's full confusables table (UTS #39): it catches the
look-alikes that matter for names typed in Latin letters without a dependency.
"""

from __future__ import annotations

import unicodedata

from dialer.errors import InputError

MAX_LENGTH = 100
_LOOKALIKE_SCRIPTS = ("CYRILLIC", "GREEK")


def campaign_name(raw: str) -> str:
    """``raw`` normalised (NFKC, trimmed); InputError, in one line, unless it is a valid name."""
    name = unicodedata.normalize("NFKC", raw).strip()
    if not 1 <= len(name) <= MAX_LENGTH:
        raise InputError(f"campaign name must be 1 to {MAX_LENGTH} characters")
    if name in (".", ".."):
        raise InputError(f"campaign name cannot be {name!r}")
    if not name.isprintable() or any(unicodedata.category(c).startswith("C") for c in name):
        raise InputError("campaign name cannot contain control characters or line breaks")
    if "/" in name or "\\" in name:
        raise InputError("campaign name cannot contain '/' or '\\'")
    scripts = {_script(c) for c in name if c.isalpha()}
    if "LATIN" in scripts and scripts.intersection(_LOOKALIKE_SCRIPTS):
        mixed = " and ".join(sorted(s.title() for s in scripts if s))
        raise InputError(f"campaign name mixes {mixed} letters (a look-alike of another name?)")
    return name


def name_key(name: str) -> str:
    """What two names must differ in to be two campaigns: NFKC, trimmed, casefolded."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


def _script(char: str) -> str:
    return unicodedata.name(char, "").split(" ", 1)[0]
