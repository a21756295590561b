"""``tillage serve``: the API and the dashboard."""

from __future__ import annotations

from typing import Annotated

import typer

from tillage.cli.context import state
from tillage.config import Settings


def run_server(settings: Settings, host: str, port: int) -> None:
    """Serve the application for ``settings`` with uvicorn until interrupted."""
    import uvicorn

    from tillage.api.app import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the REST API (/api/v1, docs at /api/docs) and the dashboard."""
    settings = state.settings()
    _ = state.gettext()
    typer.echo(_("Dashboard: http://{host}:{port}/  (Ctrl+C to stop)").format(host=host, port=port))
    run_server(settings, host, port)
