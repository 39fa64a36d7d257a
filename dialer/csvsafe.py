"""CSV formula-injection neutralisation for every file the dialer writes for spreadsheets."""

from __future__ import annotations

import re
from functools import cache

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""The first characters that make a spreadsheet read a cell as a formula (tab and CR: some
spreadsheets strip them first)."""
# Digits, spaces and phone punctuation only: no function name, cell reference or DDE command
# can be spelt with these, so such a cell cannot do harm in any spreadsheet.
_PHONE_LIKE = re.compile(r"[+-][\d\s().+-]*")


def neutralise(value: object) -> object:
    """Prefix ``'`` to a text cell a spreadsheet would run as a formula.

    Cells beginning with ``= + - @`` (or tab/CR, which some spreadsheets strip first) are
    neutralised. A value made only of digits and phone punctuation, such as ``+12125552674``
    or ``+1 (212) 555-2671``, is left alone: it cannot carry a formula, and an E.164 phone
    column must stay usable as exported.
    """
    if not isinstance(value, str) or not value.startswith(TRIGGERS):
        return value
    if _PHONE_LIKE.fullmatch(value):
        return value
    return "'" + value


@cache
def phone_like_pattern() -> str:
    """The value :func:`neutralise` leaves alone after a trigger, as an anchored regular
    expression with every character spelt out: Python's ``\\d`` and ``\\s`` are Unicode's
    decimal digits and white space, a regex engine that follows a locale means less by them
    (Postgres' ``[[:digit:]]`` is 0-9 alone). For :mod:`dialer.ledger.export_cells`, which
    neutralises on the server."""
    spelt = [
        chr(point) for point in range(0x110000) if chr(point).isdecimal() or chr(point).isspace()
    ]
    ranges: list[str] = []
    start = previous = spelt[0]
    for char in (*spelt[1:], None):
        if char is not None and ord(char) == ord(previous) + 1:
            previous = char
            continue
        ranges.append(start if start == previous else f"{start}-{previous}")
        if char is not None:
            start = previous = char
    return "^[+-][" + "".join(ranges) + "().+-]*$"
