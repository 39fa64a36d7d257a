"""Phone-number normalization: one raw spreadsheet cell in, one E.164 number or one reason out.

This is the pure core of CSV import. ``normalize_phone`` never raises on bad input: every
value ends as a ``PhoneNumber`` or a ``PhoneRejected`` whose ``reason`` is one of

    missing       the cell holds no number at all: empty, blank, "nan", "n/a", "-", ...
    unparseable   phonenumbers cannot read a number out of it ("asdf", an e-mail address)
    invalid       it reads as a number, but no such number exists in that country's plan

Before phonenumbers sees a value it is cleaned of what real lead exports add: surrounding
quotes, unicode and non-breaking spaces, invisible format characters, full-width digits,
lead-ad prefixes (``p:``), spreadsheet floats (``2125552674.0``, ``1.2125552674E10``),
extensions (``x123``, ``ext. 123``, ``#123``) and a leading ``00`` international prefix in
regions that dial abroad with something else. Letters are accepted only as a vanity number
(at least three digits, then at least three letters, as libphonenumber defines one): parse
alone would also turn ``HEB17143428716`` or an e-mail address into a number, and a dialer
must not call a number nobody wrote down.

``normalize_many`` is the batch form, and ``normalize_columns`` the same as columns (what the
importer uses); large batches are spread over a process pool that lives across calls
(``shutdown_pool`` ends it).
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from itertools import chain
from typing import TypeVar

import phonenumbers
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    REGION_CODE_FOR_NON_GEO_ENTITY,
    NumberParseException,
    PhoneMetadata,
    PhoneNumberType,
    ValidationResult,
)
from phonenumbers.phonemetadata import PhoneNumberDesc
from phonenumbers.phonenumberutil import is_number_type_geographical, national_significant_number
from phonenumbers.timezone import time_zones_for_number
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

from dialer.zone_keys import known_zones

__all__ = [
    "NANPA",
    "NANPA_REGIONS",
    "PhoneColumns",
    "PhoneNumber",
    "PhoneRejected",
    "normalize_columns",
    "normalize_many",
    "normalize_phone",
    "shutdown_pool",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A valid number. ``e164`` never carries the extension; ``region`` is None for
    non-geographic numbers (+800, +882, ...); ``timezones`` is sorted, () when unknown."""

    e164: str
    extension: str | None
    number_type: str
    timezones: tuple[str, ...]
    region: str | None


@dataclass(frozen=True, slots=True)
class PhoneRejected:
    """Why a value is not a number: ``reason`` is "missing", "unparseable" or "invalid"."""

    reason: str
    detail: str


# What pandas and spreadsheets write for an empty cell (compared case-folded).
_NA_TOKENS = frozenset(
    {"nan", "-nan", "nat", "none", "null", "na", "n/a", "#n/a", "#na", "<na>", "#n/a n/a"}
)
_QUOTES = "\"'`\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u00ab\u00bb"
# Only ASCII digits and the punctuation people write between them.
_PLAIN = re.compile(r"\+?[\d ().\-/]*\d[\d ().\-/]*")
_ALNUM = re.compile(r"[^\W_]")
_LETTER = re.compile(r"[^\W\d_]")
# A label before the number, as lead-ad exports write it ("p:+1212...", "Phone: ...").
# "tel:" is not one of them: it is an RFC 3966 URI and phonenumbers parses it whole.
_LABEL = re.compile(r"[A-Za-z][A-Za-z .]{0,14}:\s*")
_FLOAT_ZERO = re.compile(r"\+?\d+\.0+")
_SCIENTIFIC = re.compile(r"\+?(\d)\.(\d+)[eE]\+?(\d{1,2})")
# A trailing extension: "x123", "ext. 123", "extension 123", "#123", ";ext=123".
_EXTENSION = re.compile(
    r"\s*(?:;\s*ext=|,?\s*(?:e?xt(?:ension|n)?\.?|x)|#)\s*:?\s*(\d{1,7})#?\Z",
    re.IGNORECASE,
)
# libphonenumber's own definition of a vanity number: three digits first, then letters.
_VANITY = re.compile(r"\+?(?:[\s().\-/]*\d){3}[\dA-Za-z\s().\-/]*")
_DIGIT = re.compile(r"\d")
# The North American shapes ``_parse`` reads without phonenumbers (its docstring says which).
NANPA = re.compile(r"(?:\+?1[ .\-]?)?(?:\(([2-9]\d\d)\)|([2-9]\d\d))[ .\-]?(\d{3})[ .\-]?(\d{4})")
# The regions that share calling code 1, each of which reads a bare ten-digit number as +1.
NANPA_REGIONS = frozenset(COUNTRY_CODE_TO_REGION_CODE[1])

_TYPE_NAMES: dict[int, str] = {
    value: PhoneNumberType.to_string(value).lower() for value in PhoneNumberType.values()
}
_PARSE_ERRORS: dict[int, str] = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country calling code or region",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
_IMPOSSIBLE: dict[int, str] = {
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country calling code",
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong length",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "local number without its area code",
}


@lru_cache(maxsize=256)
def _rejected(reason: str, detail: str) -> PhoneRejected:
    # Shared instances: a batch with many rejects pickles each distinct one only once.
    return PhoneRejected(reason, detail)


_MISSING = _rejected("missing", "no phone number")


@lru_cache(maxsize=4096)
def _zones(raw_zones: tuple[str, ...]) -> tuple[str, ...]:
    # phonenumbers returns the same few hundred tuples; intern their sorted forms.
    return known_zones(raw_zones)


# Numbers of a non-geographic type (toll-free, mobiles in most countries) get their
# country's zones, which depend on the calling code alone: look them up once per code.
_COUNTRY_ZONES: dict[int, tuple[str, ...]] = {}


def _country_zones(number: phonenumbers.PhoneNumber, country_code: int) -> tuple[str, ...]:
    zones = _COUNTRY_ZONES.get(country_code)
    if zones is None:
        zones = _COUNTRY_ZONES[country_code] = _zones(time_zones_for_number(number))
    return zones


@lru_cache(maxsize=256)
def _international_prefix(region: str) -> re.Pattern[str] | None:
    metadata = PhoneMetadata.metadata_for_region(region, None)
    if metadata is None or metadata.international_prefix is None:
        return None
    return re.compile(metadata.international_prefix)


def _clean(raw: str, region: str) -> tuple[str, str | None] | PhoneRejected:
    """Turn a cell into (text for phonenumbers.parse, extension) or a rejection."""
    text = " ".join(raw.split())  # every unicode space, tab and newline becomes one space
    if not text.isascii():
        # Invisible marks (LRM, zero-width space, BOM) break parsing; NFKC turns
        # full-width digits, plus signs and brackets into ASCII.
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
        text = " ".join(unicodedata.normalize("NFKC", text).split())
    text = text.strip(_QUOTES).strip()

    extension = None
    if _PLAIN.fullmatch(text) is None:  # the rare shapes; plain digits skip all of this
        if not text or text.casefold() in _NA_TOKENS or _ALNUM.search(text) is None:
            return _MISSING
        if text[:4].lower() == "tel:":
            return text, None
        label = _LABEL.match(text)
        if label is not None:
            text = text[label.end() :]
        scientific = _SCIENTIFIC.fullmatch(text)
        if scientific is not None:
            fraction, exponent = scientific.group(2), int(scientific.group(3))
            if len(fraction.rstrip("0")) > exponent:
                return _rejected("unparseable", "a fraction, not a phone number")
            if len(fraction) < exponent:
                # "2.12555E+09": the spreadsheet kept 6 digits and padded with zeros.
                return _rejected("unparseable", "digits lost to spreadsheet scientific notation")
            text = str(int(Decimal(text)))
        found = _EXTENSION.search(text)
        if found is not None and found.start() > 0:
            extension = found.group(1)
            text = text[: found.start()]
        if _LETTER.search(text) is not None:
            if _DIGIT.search(text) is None:
                return _rejected("unparseable", "not a phone number")
            letters = sum(ch.isalpha() for ch in text)
            if letters < 3 or not text.isascii() or _VANITY.fullmatch(text) is None:
                return _rejected("unparseable", "letters that are not a vanity number")

    if text.endswith("0") and _FLOAT_ZERO.fullmatch(text) is not None:
        text = text.partition(".")[0]  # "2125552674.0": a spreadsheet float
    stripped = text.lstrip("( ")
    if stripped.startswith("00"):
        # "0044 20 ..." means "+44 20 ..." to anyone outside North America, but parse only
        # reads it so where 00 is the local international prefix (not in the US: 011).
        prefix = _international_prefix(region)
        if prefix is None or prefix.match("".join(_DIGIT.findall(stripped))) is None:
            text = "+" + stripped[2:]
    return text, extension


def _parse(text: str, region: str) -> phonenumbers.PhoneNumber:
    """phonenumbers.parse, short-cut for the common North American shapes.

    "(212) 555-2674", "212.555.2674", "1-212-555-2674" or "+1 212 555 2674" with a North
    American default region always parse to country code 1 and those ten digits (an eleventh
    leading 1 is the country code, since eleven digits are too long for the plan); building
    that directly skips most of the cost of a parse. The unit tests check the short cut
    against phonenumbers.parse. Raises NumberParseException like parse.
    """
    nanpa = NANPA.fullmatch(text)
    if nanpa is not None and (region in NANPA_REGIONS or text.startswith("+")):
        in_parens, area, exchange, line = nanpa.groups()
        national = int((in_parens or area) + exchange + line)
        return phonenumbers.PhoneNumber(country_code=1, national_number=national)
    return phonenumbers.parse(text, region)


@dataclass(frozen=True, slots=True)
class _Desc:
    lengths: frozenset[int]  # empty: any length the general description allows
    pattern: re.Pattern[str]

    def matches(self, nsn: str) -> bool:
        return (not self.lengths or len(nsn) in self.lengths) and (
            self.pattern.fullmatch(nsn) is not None
        )


@dataclass(frozen=True, slots=True)
class _Plan:
    """One region's numbering plan from phonenumbers' metadata, patterns compiled once."""

    leading_digits: re.Pattern[str] | None
    general: _Desc | None
    special: _Special | None
    fixed_line: _Desc | None
    mobile: _Desc | None
    same_mobile_and_fixed_line: bool

    def number_type(self, nsn: str) -> int:
        """phonenumbers' _number_type_helper, without its per-call pattern lookups."""
        if self.general is None or not self.general.matches(nsn):
            return PhoneNumberType.UNKNOWN
        if self.special is not None:
            found = self.special.pattern.fullmatch(nsn)
            if found is not None:
                return self.special.kinds[found.lastindex or 0]
        if self.fixed_line is not None and self.fixed_line.matches(nsn):
            if self.same_mobile_and_fixed_line or (
                self.mobile is not None and self.mobile.matches(nsn)
            ):
                return PhoneNumberType.FIXED_LINE_OR_MOBILE
            return PhoneNumberType.FIXED_LINE
        if (
            not self.same_mobile_and_fixed_line
            and self.mobile is not None
            and self.mobile.matches(nsn)
        ):
            return PhoneNumberType.MOBILE
        return PhoneNumberType.UNKNOWN


@dataclass(frozen=True, slots=True)
class _Special:
    """A plan's special types (premium rate, toll free, ...) as one pattern: one alternative
    per type, in phonenumbers' order of checking, each its own group (``kinds`` maps the
    group's number to the type) holding the type's lengths as a lookahead. The first
    alternative that matches is the first type whose check passes, as one by one."""

    pattern: re.Pattern[str]
    kinds: dict[int, int]

    @classmethod
    def of(cls, descs: Sequence[tuple[int, _Desc | None]]) -> _Special | None:
        present = [(kind, desc) for kind, desc in descs if desc is not None]
        if not present:
            return None
        alternatives = []
        for i, (_, desc) in enumerate(present):
            lengths = "|".join(f".{{{n}}}" for n in sorted(desc.lengths))
            ahead = rf"(?=(?:{lengths})\Z)" if lengths else ""
            alternatives.append(f"(?P<t{i}>{ahead}(?:{desc.pattern.pattern}))")
        pattern = re.compile("|".join(alternatives))
        kinds = {pattern.groupindex[f"t{i}"]: kind for i, (kind, _) in enumerate(present)}
        return cls(pattern, kinds)


def _desc(desc: PhoneNumberDesc | None) -> _Desc | None:
    if desc is None or not desc.national_number_pattern:
        return None  # matches nothing
    return _Desc(frozenset(desc.possible_length), re.compile(desc.national_number_pattern))


@cache
def _plan(country_code: int, region: str) -> _Plan | None:
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    if metadata is None:
        return None
    special = (
        (PhoneNumberType.PREMIUM_RATE, metadata.premium_rate),
        (PhoneNumberType.TOLL_FREE, metadata.toll_free),
        (PhoneNumberType.SHARED_COST, metadata.shared_cost),
        (PhoneNumberType.VOIP, metadata.voip),
        (PhoneNumberType.PERSONAL_NUMBER, metadata.personal_number),
        (PhoneNumberType.PAGER, metadata.pager),
        (PhoneNumberType.UAN, metadata.uan),
        (PhoneNumberType.VOICEMAIL, metadata.voicemail),
    )
    leading = metadata.leading_digits
    return _Plan(
        leading_digits=re.compile(leading) if leading is not None else None,
        general=_desc(metadata.general_desc),
        special=_Special.of([(kind, _desc(desc)) for kind, desc in special]),
        fixed_line=_desc(metadata.fixed_line),
        mobile=_desc(metadata.mobile),
        same_mobile_and_fixed_line=metadata.same_mobile_and_fixed_line_pattern,
    )


def _region_and_type(country_code: int, nsn: str) -> tuple[str | None, int]:
    """region_code_for_number and number_type (hence is_valid_number) in one pass.

    Each of those public functions, and time_zones_for_number, walks the regions sharing
    the calling code and runs the number through each region's type patterns, fetching
    every pattern again on each call; on a North American number that was most of the cost
    of normalizing it. This is the same walk and the same order of type checks, done once,
    over patterns compiled once (measured: half the time of region_code_for_number alone).
    The unit tests hold it to the public functions on example numbers of every region and
    type and on random digits.
    """
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    if len(regions) == 1:
        plan = _plan(country_code, regions[0])
        return regions[0], plan.number_type(nsn) if plan is not None else PhoneNumberType.UNKNOWN
    for region in regions:
        plan = _plan(country_code, region)
        if plan is None:
            continue
        if plan.leading_digits is not None:
            if plan.leading_digits.match(nsn):
                return region, plan.number_type(nsn)
        else:
            kind = plan.number_type(nsn)
            if kind != PhoneNumberType.UNKNOWN:
                return region, kind
    return None, PhoneNumberType.UNKNOWN


def normalize_phone(raw: str | None, default_region: str = "US") -> PhoneNumber | PhoneRejected:
    """Normalize one raw value; never raises.

    ``default_region`` (ISO 3166 alpha-2, any case) is the country of numbers written
    without a country code; an explicit "+CC" or international prefix wins over it.
    Valid means phonenumbers' is_valid_number; the other fields are its number_type,
    region_code_for_number and time_zones_for_number.
    """
    result = _normalize(raw, default_region)
    if isinstance(result, PhoneRejected):
        return result
    return PhoneNumber(*result)


_Valid = tuple[str, str | None, str, tuple[str, ...], str | None]
"""A ``PhoneNumber``'s fields in order: the batch paths build no object per number."""


def _normalize(raw: str | None, default_region: str) -> _Valid | PhoneRejected:
    if raw is None:
        return _MISSING
    region = default_region.upper()
    cleaned = _clean(raw, region)
    if isinstance(cleaned, PhoneRejected):
        return cleaned
    text, extension = cleaned
    try:
        number = _parse(text, region)
    except NumberParseException as exc:
        return _rejected("unparseable", _PARSE_ERRORS.get(exc.error_type, "not a phone number"))

    country_code = number.country_code or 0  # parse always sets it; 0 has no region
    nsn = national_significant_number(number)
    region_code, kind = _region_and_type(country_code, nsn)
    if kind == PhoneNumberType.UNKNOWN:
        why = _IMPOSSIBLE.get(phonenumbers.is_possible_number_with_reason(number), "no such number")
        return _rejected("invalid", f"{why} for +{country_code}")

    e164 = f"+{country_code}{nsn}"
    if is_number_type_geographical(kind, country_code):
        zones = _geographic_zones(e164)
    else:
        zones = _country_zones(number, country_code)
    return (
        e164,
        extension if extension is not None else number.extension,
        _TYPE_NAMES[kind],
        zones,
        None if region_code == REGION_CODE_FOR_NON_GEO_ENTITY else region_code,
    )


def _geographic_zones(e164: str) -> tuple[str, ...]:
    """``_zones(time_zones_for_geographical_number(number))`` from the number's E.164 form,
    which that function would format again: the same longest-prefix lookup in the same
    table. The unit tests hold it to time_zones_for_number."""
    for length in range(TIMEZONE_LONGEST_PREFIX, 0, -1):
        zones = TIMEZONE_DATA.get(e164[1 : 1 + length])
        if zones is not None:
            return _zones(zones)
    return ()


# Below this many values a batch is normalized in the calling process: a pool round trip
# (pickling both ways, waking the workers) costs more than it saves.
POOL_THRESHOLD = 2_000
# Values per pool task: big enough that pickling overhead is amortized, small enough that
# both workers finish together.
_CHUNK = 2_500

_pool: ProcessPoolExecutor | None = None
_pool_workers = 0
_pool_lock = threading.Lock()


def normalize_many(
    pairs: Sequence[tuple[str, str]],
    *,
    workers: int | None = None,
    pool_threshold: int = POOL_THRESHOLD,
) -> list[PhoneNumber | PhoneRejected]:
    """Normalize (raw value, default region) pairs; the result is in the same order.

    Equal to ``[normalize_phone(raw, region) for raw, region in pairs]``. Batches of at
    least ``pool_threshold`` values go to a process pool of ``workers`` processes (default:
    the CPUs this process may use), created on first use and kept for later calls; smaller
    batches run here, and so does everything in a daemonic process, which may not have
    children (a Celery prefork worker is one; the solo and threads pools are not).
    Safe to call from any thread; calls that share the pool are serialized. The workers
    start with "forkserver" (or "spawn"), so like any multiprocessing user the program's
    main module must guard its entry point with ``if __name__ == "__main__"``.
    """
    parts = _in_pool(_normalize_chunk, pairs, workers, pool_threshold)
    if parts is None:
        return [normalize_phone(raw, region) for raw, region in pairs]
    return [_from_wire(item) for part in parts for item in part]


@dataclass(frozen=True, slots=True)
class PhoneColumns:
    """A batch's results field by field: entry i of each list belongs to value i.

    A valid value has ``reason`` and ``detail`` ""; a rejected one has ``e164`` and
    ``number_type`` "", ``extension`` and ``region`` None, ``timezones`` (), and its
    ``reason`` and ``detail``.
    """

    e164: list[str]
    extension: list[str | None]
    number_type: list[str]
    timezones: list[tuple[str, ...]]
    region: list[str | None]
    reason: list[str]
    detail: list[str]

    def __len__(self) -> int:
        return len(self.e164)


def normalize_columns(
    pairs: Sequence[tuple[str, str]],
    *,
    workers: int | None = None,
    pool_threshold: int = POOL_THRESHOLD,
) -> PhoneColumns:
    """``normalize_many`` as columns, for a caller that wants fields rather than objects.

    The same results, pool and thread-safety. The pool's workers build the columns, so a
    large batch costs this process little more than unpickling them: building a
    ``PhoneNumber`` per value here is what ``normalize_many`` spends most of its own time on.
    """
    parts = _in_pool(_normalize_columns, pairs, workers, pool_threshold)
    if parts is None:
        return _normalize_columns(pairs)
    return PhoneColumns(
        *(list(chain.from_iterable(getattr(part, name) for part in parts)) for name in _FIELDS)
    )


_FIELDS = ("e164", "extension", "number_type", "timezones", "region", "reason", "detail")
_T = TypeVar("_T")


def _in_pool(
    task: Callable[[Sequence[tuple[str, str]]], _T],
    pairs: Sequence[tuple[str, str]],
    workers: int | None,
    pool_threshold: int,
) -> list[_T] | None:
    """``task`` of consecutive slices of ``pairs``, run in the pool, in order; None when the
    batch is to run in this process (see ``normalize_many``)."""
    size = _cpu_count() if workers is None else workers
    if len(pairs) < pool_threshold or size < 2 or multiprocessing.current_process().daemon:
        return None
    chunk = min(_CHUNK, math.ceil(len(pairs) / size))
    chunks = [pairs[start : start + chunk] for start in range(0, len(pairs), chunk)]
    with _pool_lock:
        pool = _get_pool(size)
        try:
            return list(pool.map(task, chunks))
        except BrokenProcessPool:
            # A worker died (OOM killer, signal). The values are still good: drop the pool
            # so the next call starts a fresh one, and finish this batch here.
            logger.warning("phone normalization pool broke; finishing the batch in-process")
            _discard_pool()
    return None


def shutdown_pool() -> None:
    """Stop the worker processes, if any; the next large batch starts new ones."""
    with _pool_lock:
        _discard_pool()


# Results cross the process boundary as plain tuples: unpickling a tuple and building the
# dataclass here costs under half of unpickling the frozen dataclass itself, and this
# side is the one that runs alone.
_Wire = _Valid | tuple[str, str]


def _normalize_chunk(pairs: Sequence[tuple[str, str]]) -> list[_Wire]:
    results: list[_Wire] = []
    for raw, region in pairs:
        result = _normalize(raw, region)
        if isinstance(result, PhoneRejected):
            results.append((result.reason, result.detail))
        else:
            results.append(result)
    return results


def _from_wire(item: _Wire) -> PhoneNumber | PhoneRejected:
    if len(item) == 2:
        return _rejected(*item)
    return PhoneNumber(*item)


def _normalize_columns(pairs: Sequence[tuple[str, str]]) -> PhoneColumns:
    columns = PhoneColumns([], [], [], [], [], [], [])
    for raw, region in pairs:
        result = _normalize(raw, region)
        if not isinstance(result, PhoneRejected):
            e164, extension, number_type, timezones, region_code = result
            columns.e164.append(e164)
            columns.extension.append(extension)
            columns.number_type.append(number_type)
            columns.timezones.append(timezones)
            columns.region.append(region_code)
            columns.reason.append("")
            columns.detail.append("")
        else:
            columns.e164.append("")
            columns.extension.append(None)
            columns.number_type.append("")
            columns.timezones.append(())
            columns.region.append(None)
            columns.reason.append(result.reason)
            columns.detail.append(result.detail)
    return columns


def _warm_up() -> None:
    # Load the metadata and time-zone tables before the first real chunk arrives.
    normalize_phone("+12125552674")


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _get_pool(size: int) -> ProcessPoolExecutor:
    global _pool, _pool_workers
    if _pool is not None and _pool_workers != size:
        _discard_pool()
    if _pool is None:
        # Not "fork": the caller may be threaded (a web server, a Celery worker with
        # heartbeat threads), and forking a threaded process can copy a held lock.
        # forkserver starts workers from a clean single-threaded server.
        method = (
            "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        )
        _pool = ProcessPoolExecutor(
            max_workers=size,
            mp_context=multiprocessing.get_context(method),
            initializer=_warm_up,
        )
        _pool_workers = size
    return _pool


def _discard_pool() -> None:
    global _pool, _pool_workers
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
    _pool, _pool_workers = None, 0


def _forget_pool_after_fork() -> None:
    # A forked child (e.g. a Celery prefork worker) inherits the parent's pool object but
    # neither its processes nor its management thread: start over instead of hanging.
    global _pool, _pool_workers, _pool_lock
    _pool, _pool_workers, _pool_lock = None, 0, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)
