"""``create_app(settings)``: the FastAPI application of ``dialer serve``.

The API is an edge like the CLI: it may import the whole dialer, nothing imports it. Each
module in :data:`ROUTER_MODULES` exposes a ``router`` and decides its own authentication;
adding a feature's routes is adding its module there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from dialer import logredaction
from dialer.api import (
    console,
    health,
    metrics,
    routes_accounts,
    routes_activity,
    routes_campaigns,
    webhooks,
)
from dialer.api.auth import check_keys
from dialer.api.context import ApiContext
from dialer.api.errors import install_error_handlers
from dialer.api.files import FileStore
from dialer.ledger.engine import make_engine
from dialer.settings import Settings

ROUTER_MODULES = (
    console,
    health,
    routes_accounts,
    routes_campaigns,
    routes_activity,
    metrics,
    webhooks,
)


def create_app(
    settings: Settings, engine: Engine | None = None, files_dir: Path | None = None
) -> FastAPI:
    """The application for ``settings``. ConfigError unless ``settings.api_keys`` holds at
    least one usable key (see :mod:`dialer.api.auth`).

    ``engine``: the ledger's, already migrated (default: one for ``settings.database_url``,
    whose schema the caller migrates). ``files_dir``: where uploads and rejects files go
    (default: a private temporary directory, removed when the application shuts down).
    """
    check_keys(settings.api_keys)
    logredaction.install(settings)
    files = FileStore(files_dir) if files_dir is not None else FileStore.temporary()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if files_dir is None:
            files.remove()

    app = FastAPI(
        title="dialer",
        summary="Bulk campaign dialer for AI voice agents: import leads, run campaigns.",
        version="1",
        lifespan=lifespan,
        # The schema holds no data and client generators fetch it without a key; the
        # interactive docs would load their scripts from a CDN, so there are none.
        docs_url=None,
        redoc_url=None,
    )
    app.state.dialer = ApiContext(
        settings=settings,
        engine=engine if engine is not None else make_engine(settings.database_url),
        files=files,
    )
    install_error_handlers(app)
    for module in ROUTER_MODULES:
        app.include_router(module.router)
    return app
