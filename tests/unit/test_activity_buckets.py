"""The calls-over-time chart's bucket size: the finest that draws the span in ~240 points."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.activity import BUCKETS, choose_bucket


@pytest.mark.parametrize(
    ("span", "bucket"),
    [
        (timedelta(seconds=5), 60),
        (timedelta(hours=4), 60),  # 240 one-minute bars
        (timedelta(hours=4, minutes=1), 300),
        (timedelta(hours=20), 300),
        (timedelta(days=2), 900),
        (timedelta(days=10), 3600),
        (timedelta(days=40), 4 * 3600),
        (timedelta(days=365), 86400),
        (timedelta(days=5000), 86400),  # the coarsest; the API refuses past 2000 points
    ],
)
def test_bucket_for_a_span(span: timedelta, bucket: int) -> None:
    assert choose_bucket(span) == bucket
    assert bucket in BUCKETS
