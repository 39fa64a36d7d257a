"""dialer.leads.regions: --region is a region phonenumbers knows, in one line when it is not."""

from __future__ import annotations

import pytest

from dialer.errors import InputError
from dialer.leads.regions import check_region


@pytest.mark.parametrize(("given", "region"), [("US", "US"), ("gb", "GB"), (" de ", "DE")])
def test_known_regions_are_upper_cased(given: str, region: str) -> None:
    assert check_region(given) == region


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("UK", "--region 'UK' is not an ISO country code: use GB"),
        ("XX", "--region 'XX' is not a country code phonenumbers knows"),
        ("001", "--region '001' is not a country code phonenumbers knows"),
        ("", "--region '' is not a country code"),
    ],
)
def test_unknown_codes_are_refused_in_one_line(given: str, message: str) -> None:
    with pytest.raises(InputError) as refused:
        check_region(given)
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)
