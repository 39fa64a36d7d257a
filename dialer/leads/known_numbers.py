"""Telling, without parsing, that a raw phone value plainly is a given North American number.

Vectorized over pyarrow arrays (RE2, whose ``\\d`` is ASCII only), for the importer: a value
that plainly repeats a number it already accepted need not go through phonenumbers. Kept
apart from :mod:`dialer.leads.phones` so that the phone pool's workers never import pyarrow.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from dialer.leads.phones import NANPA_REGIONS

# dialer.leads.phones.NANPA as RE2 (extract_regex wants named groups), anchored; the unit tests
# hold the two equal.
NANPA_RE2 = (
    r"^(?:\+?1[ .\-]?)?(?:\((?P<a>[2-9]\d\d)\)|(?P<b>[2-9]\d\d))"
    r"[ .\-]?(?P<c>\d{3})[ .\-]?(?P<d>\d{4})$"
)
# A spreadsheet float ("212555.0000"), which dialer.leads.phones cleans before reading.
_FLOAT_ZERO_RE2 = r"^\+?\d+\.0+$"
_REGIONS = pa.array(sorted(NANPA_REGIONS), type=pa.large_string())
_PLUS_ONE = pa.scalar("+1", type=pa.large_string())
_NOTHING = pa.scalar("", type=pa.large_string())


def known_e164s(values: pa.Array, default_regions: pa.Array | str) -> pa.Array:
    """Per raw value, the E.164 number ``normalize_phone(value, region)`` reads when that is
    plain from the text alone, else null: a North American shape ``_parse`` short-cuts,
    which ``_clean`` leaves as it is (ASCII, no spreadsheet float). ``default_regions`` is
    the region of every value, or one per value.

    The number may still be invalid; but when it is the E.164 of a valid number, so is
    ``normalize_phone``'s result, with no extension: validity and every other field depend
    on the number alone.
    """
    parts = pc.extract_regex(values, NANPA_RE2)
    e164 = pc.binary_join_element_wise(
        _PLUS_ONE, *(parts.field(name) for name in ("a", "b", "c", "d")), _NOTHING
    )
    if isinstance(default_regions, str):
        north_american: pa.Array | bool = default_regions.upper() in NANPA_REGIONS
    else:
        north_american = pc.is_in(pc.utf8_upper(default_regions), value_set=_REGIONS)
    plain = pc.and_(parts.is_valid(), pc.invert(pc.match_substring_regex(values, _FLOAT_ZERO_RE2)))
    readable = pc.and_(plain, pc.or_(north_american, pc.starts_with(values, "+")))
    return pc.if_else(readable, e164, pa.scalar(None, type=e164.type))
