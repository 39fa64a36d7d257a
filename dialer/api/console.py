"""The operator console: static pages under ``/console/`` that talk to this server's API.

Four pages (sign in, campaigns, one campaign, new campaign), each an HTML file with one small
JavaScript module; no build step, and nothing is loaded from anywhere but this server (the
charts library is shipped in ``console/static/vendor``). The pages are public: they hold no
data, ask for the API key and send it with every call (see :mod:`dialer.api.auth`).
``GET /`` sends a browser to the campaigns page.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from dialer.api.errors import ApiError

router = APIRouter(include_in_schema=False)

_ROOT = files("dialer.api").joinpath("console")
_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
}
_HEADERS = {
    # Only this server's own scripts, styles and API; no inline script, no framing.
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; "
    "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _static_files(folder: Traversable, prefix: str = "") -> dict[str, Traversable]:
    found: dict[str, Traversable] = {}
    for entry in folder.iterdir():
        if entry.is_dir():
            found |= _static_files(entry, f"{prefix}{entry.name}/")
        elif any(entry.name.endswith(suffix) for suffix in _TYPES):
            found[prefix + entry.name] = entry
    return found


# Served by name from this fixed list: no path from a request ever reaches the file system.
_STATIC = _static_files(_ROOT.joinpath("static"))


def _page(name: str) -> Response:
    html = _ROOT.joinpath(name).read_text(encoding="utf-8")
    return Response(html, media_type="text/html; charset=utf-8", headers=_HEADERS)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/console/", status_code=307)


@router.get("/console/")
def campaigns_page() -> Response:
    return _page("campaigns.html")


@router.get("/console/sign-in")
def sign_in_page() -> Response:
    return _page("sign-in.html")


@router.get("/console/new")
def new_campaign_page() -> Response:
    return _page("new.html")


@router.get("/console/campaigns/{name}")
def campaign_page(name: str) -> Response:
    return _page("campaign.html")


@router.get("/console/static/{path:path}")
def static_file(path: str) -> Response:
    entry = _STATIC.get(path)
    if entry is None:
        raise ApiError(404, "no such file")
    suffix = path[path.rindex(".") :]
    return Response(entry.read_bytes(), media_type=_TYPES[suffix], headers=_HEADERS)
