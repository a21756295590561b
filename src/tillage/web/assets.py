"""Static files of the dashboard: its stylesheet and Plotly.js, served from this machine.

Plotly.js comes from the ``plotly`` Python package's own bundled copy
(``plotly/package_data/plotly.min.js``), located without importing plotly (the server never
imports a plotting library), so the dashboard needs no CDN and works offline. Files are public
(the login page uses the stylesheet) and cached by browsers for a day; pages add ``?v=<version>``
so an upgrade is fetched at once.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from tillage.errors import ConfigurationError, NotFoundError

STATIC_DIR = Path(__file__).with_name("static")
CACHE_CONTROL = "public, max-age=86400"
MEDIA_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}

public = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def plotly_js() -> Path:
    """The path of ``plotly.min.js`` inside the installed ``plotly`` package."""
    spec = importlib.util.find_spec("plotly")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "package_data" / "plotly.min.js"
        if path.is_file():
            return path
    raise ConfigurationError(
        "plotly.min.js not found: install the `plotly` package (a tillage dependency), "
        "whose package_data/plotly.min.js the dashboard serves"
    )


def _file(name: str) -> Path:
    if name == "plotly.min.js":
        return plotly_js()
    path = STATIC_DIR / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise NotFoundError(f"no static file {name!r}")
    return path


@public.get("/static/{name}")
def static_file(name: str) -> FileResponse:
    """A static file of the dashboard (stylesheet, Plotly.js), with caching headers."""
    path = _file(name)
    return FileResponse(
        path,
        media_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream"),
        headers={"Cache-Control": CACHE_CONTROL},
    )
