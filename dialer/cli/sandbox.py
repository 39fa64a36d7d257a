"""``dialer sandbox``: the local server that speaks every provider API, for dry runs."""

from __future__ import annotations

from typing import Annotated

import typer

SANDBOX_PORT = 8765
"""Where ``dialer sandbox`` listens by default: the port of the default ``sandbox`` account
(``dialer.providers.sandbox.SANDBOX_PORT``; kept here so ``--help`` needs no settings import)."""


def sandbox(
    port: Annotated[int, typer.Option(help="Port to listen on (127.0.0.1).")] = SANDBOX_PORT,
    latency_ms: Annotated[int, typer.Option(help="Delay before each answer.")] = 0,
) -> None:
    """Serve the five provider APIs locally, with fault injection under /_sandbox/."""
    from dialer import sandbox as sandbox_server

    sandbox_server.run(port, latency_ms)
