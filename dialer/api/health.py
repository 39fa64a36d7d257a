"""``GET /healthz``: the server is up (no key needed; for container healthchecks)."""

from __future__ import annotations

from fastapi import APIRouter

from dialer.api.schemas import Health

router = APIRouter(tags=["service"])


@router.get("/healthz")
def healthz() -> Health:
    """Answers as long as the server serves requests; reads no database."""
    return Health()
