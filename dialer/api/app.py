"""``create_app(settings)``: the FastAPI application of ``dialer serve``.

The API is an edge like the CLI: it may import the whole dialer, nothing imports it. Each
module in :data:`ROUTER_MODULES` exposes a ``router`` and decides its own authentication;
adding a feature's routes is adding its module there.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from dialer import logredaction
from dialer.api import (
    console,
    health,
    metrics,
    routes_accounts,
    routes_activity,
    routes_campaigns,
    routes_compare,
    routes_outbound_webhooks,
    routes_recycle,
    webhooks,
)
from dialer.api.auth import check_keys
from dialer.api.context import ApiContext
from dialer.api.errors import install_error_handlers
from dialer.api.files import FileStore
from dialer.capacity.gate import Gate
from dialer.errors import ServiceUnavailable
from dialer.ledger.engine import make_engine
from dialer.settings import Settings
from dialer.webhooks.subscriptions import subscribe
from dialer.wiring import make_gate

log = logging.getLogger("dialer.api")

ROUTER_MODULES = (
    console,
    health,
    routes_accounts,
    routes_campaigns,
    routes_recycle,
    routes_activity,
    routes_compare,
    metrics,
    webhooks,
    routes_outbound_webhooks,
)


DIALS_ON_WORKERS = "the Celery workers (a broker is configured)"
NO_DIALER = "nobody: this server runs no dialer and no broker is configured; run `dialer run`"


def create_app(
    settings: Settings,
    engine: Engine | None = None,
    files_dir: Path | None = None,
    *,
    dialing: str | None = None,
    gate: Gate | None = None,
) -> FastAPI:
    """The application for ``settings``. ConfigError unless ``settings.api_keys`` holds at
    least one usable key (see :mod:`dialer.api.auth`).

    ``engine``: the ledger's, already migrated (default: one for ``settings.database_url``,
    whose schema the caller migrates). ``files_dir``: where uploads and rejects files go
    (default: a private temporary directory, removed when the application shuts down).
    ``dialing``: who dials the campaigns it starts, or why nobody does, as the campaign
    answers say (default: the workers with a broker, else nobody). ``gate``: the account
    gate of the runner dialing in this process, so that outcomes reported here free its
    places and the capacity read here is its own (default: the global one with a broker,
    else none).
    """
    check_keys(settings.api_keys)
    logredaction.install(settings)
    files = FileStore(files_dir) if files_dir is not None else FileStore.temporary()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            subscribe(context.engine, settings.webhooks)
        except (OperationalError, ServiceUnavailable):
            # Serve anyway: every route answers 503 until the database is back, and the
            # workers and the CLI subscribe too.
            log.warning("database unreachable: webhook subscriptions not updated")
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
    app.state.dialer = context = ApiContext(
        settings=settings,
        engine=engine if engine is not None else make_engine(settings.database_url),
        files=files,
        dialing=dialing or (DIALS_ON_WORKERS if settings.broker_url else NO_DIALER),
        gate=gate if gate is not None else make_gate(settings),
    )
    install_error_handlers(app)
    for module in ROUTER_MODULES:
        app.include_router(module.router)
    routes_outbound_webhooks.document_events(app)
    return app
