"""What every route shares: the settings, the ledger engine and the server's file store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine

from dialer.api.files import FileStore
from dialer.capacity.gate import Gate
from dialer.settings import Settings


@dataclass(frozen=True)
class ApiContext:
    settings: Settings
    engine: Engine
    files: FileStore
    dialing: str
    """Who dials the campaigns this server starts, or why nobody does."""
    gate: Gate | None = None
    """The account gate: the global one with a broker, the in-process runner's when this
    server dials (``dialer serve`` in embedded mode), else None."""


def get_context(request: Request) -> ApiContext:
    """The context :func:`dialer.api.app.create_app` attached to the application."""
    context = request.app.state.dialer
    assert isinstance(context, ApiContext)
    return context


Context = Annotated[ApiContext, Depends(get_context)]
