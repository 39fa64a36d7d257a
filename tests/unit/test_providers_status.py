"""Reading a call's status document: the status URL of a call."""

from __future__ import annotations

from dialer.providers.status import status_url


def test_status_url_keeps_the_call_id_one_path_segment() -> None:
    assert (
        status_url("https://h/api/outbound", "a/../b?c") == "https://h/api/outbound/a%2F..%2Fb%3Fc"
    )
