"""CSV formula-injection neutralisation for every file the dialer writes for spreadsheets."""

from __future__ import annotations

import re

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
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
    if not isinstance(value, str) or not value.startswith(_TRIGGERS):
        return value
    if _PHONE_LIKE.fullmatch(value):
        return value
    return "'" + value
