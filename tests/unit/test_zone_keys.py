"""Zone keys: every set of zones phonenumbers hands out is written short and read back whole."""

from __future__ import annotations

from datetime import UTC, datetime

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE
from phonenumbers.timezone import UNKNOWN_TIMEZONE
from phonenumbers.tzdata import TIMEZONE_DATA

from dialer.leads.phones import PhoneNumber, normalize_phone
from dialer.windows import CallingWindow, zones_from_key
from dialer.zone_keys import LONGEST_LISTED, key_for_zones, listed_zones, zones_of_key

# Every distinct set phonenumbers gives a prefix, as dialer.leads.phones hands it on.
ALL_SETS = sorted(
    {tuple(sorted(z for z in zones if z != UNKNOWN_TIMEZONE)) for zones in TIMEZONE_DATA.values()}
)
NANPA = tuple(sorted(z for z in TIMEZONE_DATA["1"] if z != UNKNOWN_TIMEZONE))


def test_short_sets_are_listed() -> None:
    assert key_for_zones(()) == ""
    assert key_for_zones(("America/New_York",)) == "America/New_York"
    assert key_for_zones(("Europe/London", "Europe/Jersey")) == "Europe/Jersey|Europe/London"
    assert zones_of_key("Europe/Jersey|Europe/London") == ("Europe/Jersey", "Europe/London")
    assert zones_of_key("") == ()


def test_the_whole_north_american_plan_is_written_as_its_code() -> None:
    assert len("|".join(NANPA)) > 700
    assert key_for_zones(NANPA) == "+1"
    assert zones_of_key("+1") == NANPA
    assert listed_zones("+1") == "|".join(NANPA)
    assert listed_zones("America/Chicago") == "America/Chicago"


def test_a_personal_number_gets_the_short_key() -> None:
    number = normalize_phone("(522) 422-0613")
    assert isinstance(number, PhoneNumber)
    assert number.timezones == NANPA
    assert key_for_zones(number.timezones) == "+1"


def test_every_set_reads_back() -> None:
    code_sets = {zones_of_key(f"+{code}") for code in COUNTRY_CODE_TO_REGION_CODE}
    shortened = 0
    for zones in ALL_SETS:
        key = key_for_zones(zones)
        assert zones_of_key(key) == zones, key
        assert len(key) <= LONGEST_LISTED or zones not in code_sets, key
        shortened += key.startswith("+")
    assert shortened >= 4  # +1, +7 (Russia), +52 (Mexico), +61 (Australia) at least


def test_a_code_phonenumbers_no_longer_knows_is_never_open() -> None:
    # "+999" is no calling code: its contacts read as being in a zone no tz database has.
    assert zones_from_key("+999", "America/New_York") == ("+999",)
    window = CallingWindow.parse("00:00-24:00", "mon-sun")
    now = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
    assert window.open_zone_keys(["+999", "+1", ""], "America/New_York", now) == ["+1", ""]
