"""``GET /``: the upload page, one static HTML file with vanilla JavaScript (no build step).

The page itself is public; it asks for an API key and sends it with every call it makes.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

_PAGE = files("dialer.api").joinpath("index.html").read_text(encoding="utf-8")


@router.get("/", response_class=HTMLResponse)
def index() -> HTMLResponse:
    # The page runs only its own inline script and talks only to this server.
    return HTMLResponse(
        _PAGE,
        headers={
            "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; "
            "style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; "
            "form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
            "X-Content-Type-Options": "nosniff",
        },
    )
