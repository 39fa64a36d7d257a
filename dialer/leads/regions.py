"""Region codes a user gives (``--region``, a country column): what phonenumbers knows.

Kept apart from ``dialer.leads.phones`` so that validating an option imports phonenumbers'
region list only when it is needed.
"""

from __future__ import annotations

from dialer.errors import InputError

REGION_ALIASES = {"UK": "GB"}
"""Codes people write for a region whose ISO code is another: the United Kingdom is GB
(UK is only reserved for it)."""


def check_region(code: str, option: str = "--region") -> str:
    """``code`` upper-cased when phonenumbers knows the region; else InputError, one line
    (naming the ISO code to use instead when ``code`` is an alias of one)."""
    from phonenumbers import SUPPORTED_REGIONS

    region = code.strip().upper()
    if region in SUPPORTED_REGIONS:
        return region
    if region in REGION_ALIASES:
        raise InputError(
            f"{option} {code!r} is not an ISO country code: use {REGION_ALIASES[region]}"
        )
    raise InputError(
        f"{option} {code!r} is not a country code phonenumbers knows "
        "(two letters, ISO 3166: US, GB, DE, ...)"
    )
