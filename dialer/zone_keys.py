"""A contact's zone key: how the ledger writes the set of time zones its number may be in.

The key is the sorted IANA names joined by ``"|"`` (``""`` when none is known), except for a
long set that is exactly the zones phonenumbers gives a whole calling code: that is written
``"+"`` and the code (``"+1"`` for every zone of the North American plan, 42 of them and
727 characters joined). Numbers of a type with no geography get their calling code's set:
North American personal numbers (5XX), mobiles in Mexico, Russia or Australia. Written out,
the North American one made each such row ~700 bytes longer, and Postgres keeps index
entries over ~500 bytes compressed: every comparison against one in the claim index
(campaign, state, zone key, ...) unpacked it. In the import benchmark's file, where one
number in sixteen is a 5XX one, that was a seventh of the server's time at 10M leads.

:func:`zones_of_key` reads both forms. A key written as a calling code stands for the zones
the installed phonenumbers gives that code, as the importer's copy did when it wrote it; a
code it no longer knows reads as a zone of that name, which no tz database has, so windows
never open for it (a number we cannot place in time is not called).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

SEPARATOR = "|"
CODE_PREFIX = "+"
LONGEST_LISTED = 100
"""A set joined longer than this is written as its calling code, where it is one's zones."""


def known_zones(raw: Iterable[str]) -> tuple[str, ...]:
    """The zones phonenumbers gives a number or a code, sorted, without its "unknown"
    placeholder: what a key is made of."""
    from phonenumbers.timezone import UNKNOWN_TIMEZONE  # see _code_zones

    return tuple(sorted(zone for zone in raw if zone != UNKNOWN_TIMEZONE))


def key_for_zones(zones: tuple[str, ...]) -> str:
    """The key for ``zones`` (IANA names, as :func:`known_zones` gives them)."""
    ordered = tuple(sorted(zones))
    listed = SEPARATOR.join(ordered)
    if len(listed) <= LONGEST_LISTED:
        return listed
    return _code_keys().get(ordered, listed)


def zones_of_key(key: str) -> tuple[str, ...]:
    """The zones ``key`` stands for, sorted; ``()`` for ``""``."""
    if key.startswith(CODE_PREFIX):
        return _code_zones(key[len(CODE_PREFIX) :]) or (key,)
    return tuple(zone for zone in key.split(SEPARATOR) if zone)


def listed_zones(key: str) -> str:
    """``key`` with a calling code written out as its zones: what a person reads (an export)."""
    if key.startswith(CODE_PREFIX):
        return SEPARATOR.join(zones_of_key(key))
    return key


def listed_code_keys() -> dict[str, str]:
    """:func:`listed_zones` of every key written as a calling code that reads as zones (a
    key missing here reads as itself): for :mod:`dialer.ledger.export_cells`, which writes the
    export's ``timezones`` on the server."""
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE  # see _code_zones

    keys = (f"{CODE_PREFIX}{code}" for code in sorted(COUNTRY_CODE_TO_REGION_CODE))
    return {key: listed_zones(key) for key in keys if _code_zones(key[len(CODE_PREFIX) :])}


@cache
def _code_zones(code: str) -> tuple[str, ...]:
    """:func:`known_zones` of calling code ``code`` as a whole; ``()`` when ``code`` is none."""
    # Imported here: the scheduler reads keys, and phonenumbers costs ~20 ms to import.
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE
    from phonenumbers.tzdata import TIMEZONE_DATA

    if not code.isdigit() or int(code) not in COUNTRY_CODE_TO_REGION_CODE:
        return ()
    return known_zones(TIMEZONE_DATA.get(code, ()))


@cache
def _code_keys() -> dict[tuple[str, ...], str]:
    """Each long set that is a calling code's zones, and its key (the lowest such code)."""
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

    keys: dict[tuple[str, ...], str] = {}
    for code in sorted(COUNTRY_CODE_TO_REGION_CODE):
        zones = _code_zones(str(code))
        if len(SEPARATOR.join(zones)) > LONGEST_LISTED:
            keys.setdefault(zones, f"{CODE_PREFIX}{code}")
    return keys
