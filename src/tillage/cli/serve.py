"""``tillage serve``: the API and the dashboard, in one process or in ``--workers`` processes.

One worker serves the app built by :func:`tillage.server.create_app` in this process. Several
workers are separate processes (:mod:`tillage.cli.workers`: each accepting on a socket of its
own), so each builds its own app from the import string :data:`FACTORY`, reading the settings
from ``TILLAGE_*`` environment variables: :func:`settings_environment` writes the effective
settings (``--lang`` and those of ``tillage demo`` included) there first.
"""

from __future__ import annotations

import os
import time
from typing import Annotated, Any

import typer

from tillage.cli.context import state
from tillage.cli.localize import N_
from tillage.config import Settings, settings_environment

__all__ = [
    "FACTORY",
    "clean_start",
    "run_server",
    "serve",
    "settings_environment",
    "uvicorn_arguments",
]

FACTORY = "tillage.server:app_from_env"
"""The app factory uvicorn's worker processes call (``factory=True``)."""


def uvicorn_arguments(
    settings: Settings, host: str, port: int, workers: int = 1
) -> tuple[Any, dict[str, Any]]:
    """What to pass to ``uvicorn.run``: the app (one worker) or the factory's import string
    (several workers), and the keyword arguments."""
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "warning"}
    if workers <= 1:
        from tillage.server import create_app

        return create_app(settings, freeze_heap=True), options
    settings.require_secret_key()  # refuse here, not in every worker
    return FACTORY, {**options, "factory": True, "workers": workers}


def run_server(settings: Settings, host: str, port: int, workers: int = 1) -> int:
    """Serve the application for ``settings`` with uvicorn until interrupted; the exit status
    (non-zero when the workers could not start)."""
    import uvicorn

    from tillage.cli.workers import HAS_REUSE_PORT, run_workers

    app, options = uvicorn_arguments(settings, host, port, workers)
    if workers > 1:
        os.environ.update(settings_environment(settings))  # the workers inherit it
        if HAS_REUSE_PORT:
            return run_workers(app, options, workers)
    uvicorn.run(app, **options)
    return 0


def clean_start(settings: Settings, now: float) -> None:
    """Remove what an earlier server left behind: the temporary folders of imports it was
    killed in, and validated uploads never confirmed within their time
    (:data:`tillage.web.staging.MAX_AGE`) — no customer file stays on disk after its use."""
    from tillage.ingest.sources import remove_leftovers  # here: the importer loads pandas
    from tillage.web import staging

    remove_leftovers(now)  # uploads of a server killed mid-import
    staging.clear_stale(staging.staging_root(settings.data_dir), now)


def serve(
    host: Annotated[str, typer.Option(help=N_("Address to listen on."))] = "127.0.0.1",
    port: Annotated[int, typer.Option(help=N_("Port to listen on."))] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help=N_("Worker processes (about one per CPU core)."))
    ] = 1,
) -> None:
    """Serve the REST API (/api/v1, docs at /api/docs) and the dashboard."""
    settings = state.settings()
    _ = state.gettext()
    clean_start(settings, time.time())
    typer.echo(_("Dashboard: http://{host}:{port}/  (Ctrl+C to stop)").format(host=host, port=port))
    status = run_server(settings, host, port, workers)
    if status:
        raise typer.Exit(status)
