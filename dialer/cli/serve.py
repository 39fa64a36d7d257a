"""``dialer serve``: the HTTP API and the upload page, served by uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from dialer.cli.context import context, err_console


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the HTTP API (X-API-Key from api_keys) and the upload page at /."""
    # Imported here: the web stack costs every other command a second of startup.
    import uvicorn

    from dialer.api.app import create_app
    from dialer.api.auth import keys_for_serving

    cli = context(ctx)
    settings, generated = keys_for_serving(cli.settings, host=host)
    app = create_app(settings, cli.engine)
    if generated is not None:
        err_console.print("No api_keys configured: this run's API key is", markup=False)
        err_console.print(generated, markup=False, soft_wrap=True)
    err_console.print(f"Upload page: http://{host}:{port}/", markup=False)
    uvicorn.run(app, host=host, port=port, log_level="info")
