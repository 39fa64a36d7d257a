"""Phone normalization: the shapes lead exports contain, and properties against phonenumbers."""

from __future__ import annotations

import multiprocessing
import re
import threading
from collections.abc import Iterator

import phonenumbers
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from phonenumbers.timezone import time_zones_for_number

from dialer.leads.known_numbers import NANPA_RE2, known_e164s
from dialer.leads.phones import (
    NANPA,
    PhoneNumber,
    PhoneRejected,
    normalize_many,
    normalize_phone,
    shutdown_pool,
)

NY = "+12125552674"


def fullwidth(text: str) -> str:
    """The same text in full-width forms (U+FF01..U+FF5E), as East Asian keyboards type it."""
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else "\u3000" for ch in text)


@pytest.fixture(scope="module", autouse=True)
def _stop_pool() -> Iterator[None]:
    yield
    shutdown_pool()


def e164(raw: str | None, region: str = "US") -> str:
    result = normalize_phone(raw, region)
    assert isinstance(result, PhoneNumber), result
    return result.e164


def reason(raw: str | None, region: str = "US") -> str:
    result = normalize_phone(raw, region)
    assert isinstance(result, PhoneRejected), result
    return result.reason


@pytest.mark.parametrize(
    "raw",
    [
        "2125552674",
        "(212) 555-2674",
        "212.555.2674",
        "212-555-2674",
        "212/555-2674",
        "1-212-555-2674",
        "1 (212) 555-2674",
        "12125552674",
        "+1 212 555 2674",
        "+1 (212) 555-2674",
        "+12125552674",
        # spreadsheet floats
        "2125552674.0",
        "12125552674.0",
        "+12125552674.00",
        "1.2125552674E10",
        "1.2125552674e+10",
        "2.125552674E+09",
        "1.21255526740E10",
        # lead-ad prefixes and URIs
        "p:+12125552674",
        "P: +1 212 555 2674",
        "Phone: (212) 555-2674",
        "tel:+1-212-555-2674",
        # quotes, whitespace, unicode
        "  '(212) 555-2674'  ",
        '"212-555-2674"',
        "\u201c212-555-2674\u201d",
        fullwidth("2125552674"),
        fullwidth("+1 212 555 2674"),
        fullwidth("(212)555-2674"),
        "\u0662\u0661\u0662\u0665\u0665\u0665\u0662\u0666\u0667\u0664",  # Arabic-Indic digits
        "+1\u00a0212\u00a0555\u00a02674",
        "212\u2009555\u20092674",
        "212\u3000555\u30002674",
        "\u200e+1 212 555 2674\u200f",
        "\ufeff2125552674",
        "212\u200b555\u200b2674",
        "212\t555\n2674",
        # international prefixes
        "0012125552674",
        "00 1 212 555 2674",
        "011 1 212 555 2674",
    ],
)
def test_us_formats_normalize_to_e164(raw: str) -> None:
    assert normalize_phone(raw) == PhoneNumber(
        e164=NY,
        extension=None,
        number_type="fixed_line_or_mobile",
        timezones=("America/New_York",),
        region="US",
    )


@pytest.mark.parametrize(
    ("raw", "extension"),
    [
        ("212-555-2674 x123", "123"),
        ("212-555-2674 X123", "123"),
        ("2125552674x7", "7"),
        ("212-555-2674 ext. 123", "123"),
        ("(212) 555-2674 Ext 42", "42"),
        ("212-555-2674 ext: 9", "9"),
        ("+1 212 555 2674 extension 99", "99"),
        ("212-555-2674 #123", "123"),
        ("212-555-2674 #123#", "123"),
        ("tel:+1-212-555-2674;ext=55", "55"),
    ],
)
def test_extensions_are_kept_apart_from_the_number(raw: str, extension: str) -> None:
    result = normalize_phone(raw)
    assert isinstance(result, PhoneNumber)
    assert (result.e164, result.extension) == (NY, extension)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1-800-FLOWERS", "+18003569377"),
        ("+1-800-FLOWERS", "+18003569377"),
        ("1 800 MY APPLE", "+18006927753"),
        ("1-800-flowers", "+18003569377"),
    ],
)
def test_vanity_letters_become_keypad_digits(raw: str, expected: str) -> None:
    result = normalize_phone(raw)
    assert isinstance(result, PhoneNumber)
    assert (result.e164, result.number_type) == (expected, "toll_free")


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+44 20 8366 1177", "US", "+442083661177"),
        ("0044 20 8366 1177", "US", "+442083661177"),
        ("00442083661177", "US", "+442083661177"),
        ("00442083661177", "GB", "+442083661177"),
        ("020 8366 1177", "GB", "+442083661177"),
        ("020 8366 1177", "gb", "+442083661177"),
        ("0011 44 20 8366 1177", "AU", "+442083661177"),  # 0011 is Australia's own prefix
        ("00 44 20 8366 1177", "AU", "+442083661177"),
        ("030 123456", "DE", "+4930123456"),
        ("+1 212 555 2674", "GB", NY),
        ("2125552674", "CA", NY),
    ],
)
def test_country_codes_and_default_regions(raw: str, region: str, expected: str) -> None:
    assert e164(raw, region) == expected


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        " ",
        "\u00a0",
        "\t\n",
        "nan",
        "NaN",
        "None",
        "NULL",
        "n/a",
        "N/A",
        "#N/A",
        "<NA>",
        "-",
        "--",
        "''",
        '""',
        "()",
        "+",
        " - ",
    ],
)
def test_empty_cells_are_missing(raw: str | None) -> None:
    assert reason(raw) == "missing"


@pytest.mark.parametrize(
    "raw",
    [
        "asdf",
        "call me",
        "123@gmail.com",
        "email.133@gmail.com",
        "HEB17143428716",  # parse alone would read 7143428716 out of this
        "2125552674 A",  # one letter is not a vanity number
        "2.12555E+09",  # digits lost to the spreadsheet's 6-digit scientific notation
        "1.5E3",
        "2.125552674E5",  # a fraction
        "+999 1234",  # no such country code
        "2125552674 2125552675",
        "телефон 2125552674",
    ],
)
def test_garbage_is_unparseable(raw: str) -> None:
    assert reason(raw) == "unparseable"


@pytest.mark.parametrize(
    "raw", ["12345", "555-1234", "+1 123 456 7890", "+44 20 8366", "999-555-2674", "1234567890"]
)
def test_numbers_outside_the_plan_are_invalid(raw: str) -> None:
    assert reason(raw) == "invalid"


def test_rejections_say_why() -> None:
    assert normalize_phone("555-1234") == PhoneRejected(
        "invalid", "local number without its area code for +1"
    )
    assert normalize_phone(None) == PhoneRejected("missing", "no phone number")
    assert normalize_phone("2.12555E+09") == PhoneRejected(
        "unparseable", "digits lost to spreadsheet scientific notation"
    )


def test_number_fields() -> None:
    uk_mobile = normalize_phone("07400 123456", "GB")
    assert uk_mobile == PhoneNumber(
        e164="+447400123456",
        extension=None,
        number_type="mobile",
        timezones=("Europe/Guernsey", "Europe/Isle_of_Man", "Europe/Jersey", "Europe/London"),
        region="GB",
    )
    toll_free = normalize_phone("+1 800 356 9377")
    assert isinstance(toll_free, PhoneNumber)
    assert toll_free.region == "US"
    assert "America/Los_Angeles" in toll_free.timezones
    assert list(toll_free.timezones) == sorted(toll_free.timezones)

    international_freephone = normalize_phone("+800 1234 5678")
    assert international_freephone == PhoneNumber(
        e164="+80012345678",
        extension=None,
        number_type="toll_free",
        timezones=(),  # phonenumbers says Etc/Unknown, which is dropped
        region=None,
    )


# ---- properties --------------------------------------------------------------------------

_TYPES = [t for t in PhoneNumberType.values() if t != PhoneNumberType.UNKNOWN]
_EXAMPLES = sorted(
    {
        phonenumbers.format_number(example, PhoneNumberFormat.E164)
        for region in phonenumbers.SUPPORTED_REGIONS
        for kind in _TYPES
        if (example := phonenumbers.example_number_for_type(region, kind)) is not None
    }
    | {
        phonenumbers.format_number(example, PhoneNumberFormat.E164)
        for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS
        if (example := phonenumbers.example_number_for_non_geo_entity(code)) is not None
    }
)


@st.composite
def valid_numbers(draw: st.DrawFn) -> phonenumbers.PhoneNumber:
    """Example numbers of every region and type, with their last digits varied."""
    example = draw(st.sampled_from(_EXAMPLES))
    keep = draw(st.integers(min_value=len(example) - 4, max_value=len(example)))
    tail = draw(st.text("0123456789", min_size=len(example) - keep, max_size=len(example) - keep))
    number = phonenumbers.parse(example[:keep] + tail)
    assume(phonenumbers.is_valid_number(number))
    return number


def _public_api(number: phonenumbers.PhoneNumber) -> PhoneNumber | None:
    """What the phonenumbers public functions say about a parsed number."""
    if not phonenumbers.is_valid_number(number):
        return None
    region = phonenumbers.region_code_for_number(number)
    return PhoneNumber(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        extension=number.extension,
        number_type=PhoneNumberType.to_string(phonenumbers.number_type(number)).lower(),
        timezones=tuple(sorted(set(time_zones_for_number(number)) - {"Etc/Unknown"})),
        region=None if region == "001" else region,
    )


_FORMATS = [
    PhoneNumberFormat.E164,
    PhoneNumberFormat.INTERNATIONAL,
    PhoneNumberFormat.NATIONAL,
    PhoneNumberFormat.RFC3966,
]


def _round_trips(number: phonenumbers.PhoneNumber, style: int) -> bool:
    region = phonenumbers.region_code_for_number(number)
    assert region is not None
    if region == "001" and style == PhoneNumberFormat.NATIONAL:
        return True  # +800 and the like have no region to read a national form against
    text = phonenumbers.format_number(number, style)
    result = normalize_phone(text, "US" if region == "001" else region)
    expected = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return isinstance(result, PhoneNumber) and result.e164 == expected


def test_every_example_number_in_every_format_gives_back_its_e164() -> None:
    numbers = [phonenumbers.parse(example) for example in _EXAMPLES]
    failures = [
        phonenumbers.format_number(number, style)
        for number in numbers
        for style in _FORMATS
        if not _round_trips(number, style)
    ]
    assert failures == []


def test_every_example_number_matches_the_phonenumbers_public_api() -> None:
    # normalize_phone finds region and type in one pass instead of calling these functions.
    numbers = [phonenumbers.parse(example) for example in _EXAMPLES]
    mismatches = [
        phonenumbers.format_number(number, PhoneNumberFormat.E164)
        for number in numbers
        if normalize_phone(phonenumbers.format_number(number, PhoneNumberFormat.E164))
        != _public_api(number)
    ]
    assert mismatches == []


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(number=valid_numbers(), style=st.sampled_from(_FORMATS))
def test_every_format_of_a_valid_number_gives_back_its_e164(
    number: phonenumbers.PhoneNumber, style: int
) -> None:
    assert _round_trips(number, style)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(number=valid_numbers())
def test_fields_match_the_phonenumbers_public_api(number: phonenumbers.PhoneNumber) -> None:
    e164_text = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    assert normalize_phone(e164_text) == _public_api(number)


_NANPA_REGIONS = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1])


@st.composite
def nanpa_texts(draw: st.DrawFn) -> str:
    """Ten digits (valid or not) in the shapes the North American short cut accepts."""
    digits = draw(st.text("0123456789", min_size=10, max_size=10))
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    prefix = draw(st.sampled_from(["", "1", "1 ", "1-", "+1", "+1 ", "+1.", "+", "11"]))
    area_part = draw(st.sampled_from([area, f"({area})"]))
    sep = draw(st.sampled_from(["", " ", "-", "."]))
    return f"{prefix}{area_part}{sep}{exchange}{sep}{line}"


@settings(max_examples=200, deadline=None)
@given(text=nanpa_texts(), region=st.sampled_from([*_NANPA_REGIONS, "GB", "DE", "MX"]))
def test_north_american_short_cut_agrees_with_parse(text: str, region: str) -> None:
    try:
        expected = _public_api(phonenumbers.parse(text, region))
    except phonenumbers.NumberParseException:
        expected = None
    result = normalize_phone(text, region)
    if expected is None:
        assert isinstance(result, PhoneRejected)
    else:
        assert result == expected


_NANPA_LIKE = st.text(st.sampled_from([*"0123456789+()-. x\u00a0", *fullwidth("2")]), max_size=18)


@settings(max_examples=300, deadline=None)
@given(
    raw=st.one_of(nanpa_texts(), _NANPA_LIKE),
    region=st.sampled_from([*_NANPA_REGIONS, "us", "GB", "DE", "MX", ""]),
)
def test_a_known_e164_is_what_normalizing_reads(raw: str, region: str) -> None:
    """What the importer relies on to skip parsing a repeat of an accepted number: the
    number ``known_e164s`` reads is the one normalizing reads, when that is valid."""
    known = known_e164(raw, region)
    result = normalize_phone(raw, region)
    if known is None:
        return
    if isinstance(result, PhoneNumber):
        assert (result.e164, result.extension) == (known, None)
    else:
        assert result.reason == "invalid"
        assert isinstance(normalize_phone(known, "US"), PhoneRejected)


def known_e164(raw: str, region: str) -> str | None:
    """``known_e164s`` of one value, with its region given both ways (which must agree)."""
    values = pa.array([raw], type=pa.large_string())
    one = known_e164s(values, region).to_pylist()
    each = known_e164s(values, pa.array([region], type=pa.large_string())).to_pylist()
    assert one == each
    return one[0]


def test_the_vectorized_pattern_is_the_parsers() -> None:
    """known_numbers.NANPA_RE2 is phones.NANPA with named groups, anchored."""
    unnamed = re.sub(r"\?P<[a-d]>", "", NANPA_RE2)
    assert unnamed == "^" + NANPA.pattern + "$"


def test_known_e164_only_for_shapes_read_as_they_are() -> None:
    assert known_e164("(212) 555-2674", "US") == "+12125552674"
    assert known_e164("1-212-555-2674", "CA") == "+12125552674"
    assert known_e164("+1 212 555 2674", "GB") == "+12125552674"
    for raw, region in [
        ("2125552674", "GB"),  # not North American there
        ("2125552674.0", "US"),  # a spreadsheet float: cleaned first
        ("212.0000000", "US"),
        ("\uff12\uff11\uff12-555-2674", "US"),  # full-width digits
        ("212-555-2674 x12", "US"),
        (" 212-555-2674", "US"),
        ("p:+12125552674", "US"),
        ("212-555-CALL", "US"),
    ]:
        assert known_e164(raw, region) is None, raw


@settings(max_examples=200, deadline=None)
@given(digits=st.text("0123456789", min_size=1, max_size=17))
def test_invalid_numbers_agree_with_is_valid_number(digits: str) -> None:
    try:
        number = phonenumbers.parse("+" + digits, "US")
    except phonenumbers.NumberParseException:
        assert reason("+" + digits) == "unparseable"
        return
    expected = _public_api(number)
    result = normalize_phone("+" + digits)
    if expected is None:
        assert isinstance(result, PhoneRejected)
        assert result.reason == "invalid"
    else:
        assert result == expected


_PHONEISH = st.text(
    st.sampled_from(
        [*"0123456789+()-. x#ext:;/,'\"EeFLOWRSp\u00a0\u2009\u200e\n", *fullwidth("2+")]
    ),
    max_size=30,
)


@settings(max_examples=250, deadline=None)
@given(raw=st.one_of(st.text(), _PHONEISH), region=st.sampled_from(["US", "GB", "us", "", "ZZ"]))
def test_arbitrary_text_never_raises(raw: str, region: str) -> None:
    result = normalize_phone(raw, region)
    assert isinstance(result, PhoneNumber | PhoneRejected)
    if isinstance(result, PhoneRejected):
        assert result.reason in {"missing", "unparseable", "invalid"}
    else:
        assert result.e164.startswith("+") and result.e164[1:].isdigit()


_PAIRS = st.lists(
    st.tuples(
        st.one_of(_PHONEISH, st.sampled_from(["2125552674", "+44 20 8366 1177", "n/a", "x"])),
        st.sampled_from(["US", "GB", "DE"]),
    ),
    max_size=40,
)


@settings(max_examples=50, deadline=None)
@given(pairs=_PAIRS)
def test_normalize_many_in_process_equals_one_by_one(pairs: list[tuple[str, str]]) -> None:
    assert normalize_many(pairs) == [normalize_phone(raw, region) for raw, region in pairs]


@settings(max_examples=8, deadline=None)
@given(pairs=_PAIRS)
def test_normalize_many_through_the_pool_equals_one_by_one(pairs: list[tuple[str, str]]) -> None:
    expected = [normalize_phone(raw, region) for raw, region in pairs]
    assert normalize_many(pairs, workers=2, pool_threshold=1) == expected


def test_pool_survives_shutdown_and_works_from_a_thread() -> None:
    pairs = [(f"212555{n:04d}", "US") for n in range(3_000)] + [("n/a", "US")]
    expected = [normalize_phone(raw, region) for raw, region in pairs]
    assert normalize_many(pairs, workers=2) == expected
    shutdown_pool()

    results: list[list[PhoneNumber | PhoneRejected]] = []
    thread = threading.Thread(target=lambda: results.append(normalize_many(pairs, workers=2)))
    thread.start()
    thread.join()
    assert results == [expected]
    shutdown_pool()
    shutdown_pool()  # idempotent


def _many_in_child(pairs: list[tuple[str, str]]) -> list[PhoneNumber | PhoneRejected]:
    return normalize_many(pairs, workers=2, pool_threshold=1)


def test_daemonic_processes_normalize_in_process() -> None:
    # multiprocessing.Pool workers are daemonic and may not start children of their own.
    pairs = [("2125552674", "US"), ("asdf", "US")]
    with multiprocessing.get_context("forkserver").Pool(1) as pool:
        assert pool.apply(_many_in_child, (pairs,)) == [
            normalize_phone(raw, region) for raw, region in pairs
        ]
