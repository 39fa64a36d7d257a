"""``dialer sandbox``: the local server that speaks every provider API, for dry runs."""

from __future__ import annotations

from typing import Annotated

import typer

from dialer import sandbox as sandbox_server
from dialer.settings import SANDBOX_PORT


def sandbox(
    port: Annotated[int, typer.Option(help="Port to listen on (127.0.0.1).")] = SANDBOX_PORT,
    latency_ms: Annotated[int, typer.Option(help="Delay before each answer.")] = 0,
) -> None:
    """Serve the five provider APIs locally, with fault injection under /_sandbox/."""
    sandbox_server.run(port, latency_ms)
