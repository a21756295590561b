"""Static files of the dashboard: its stylesheet and Plotly.js, served from this machine.

Plotly.js is the cartesian bundle of plotly.js (npm ``plotly.js-cartesian-dist-min``, MIT,
``static/plotly-cartesian.LICENSE.txt``), kept in ``static/`` as released: it holds the trace
types the dashboard draws (heatmap, scatter, bar; :data:`PLOTLY_TRACES`) in 1.5 MB where the
full bundle (the one the ``plotly`` Python package ships) takes 4.8 MB. A page with a chart,
opened in a fresh browser, spent ~1.05 s of the browser's CPU on the full bundle and ~0.56 s on
this one (headless Chromium, this project's test machine). No CDN: the dashboard works offline.
Files are public (the login page uses the stylesheet) and cached by browsers for a day; pages
add ``?v=<version>`` so an upgrade is fetched at once.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from tillage.errors import NotFoundError

STATIC_DIR = Path(__file__).with_name("static")
CACHE_CONTROL = "public, max-age=86400"
MEDIA_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
#: The Plotly.js bundle the pages load, and the trace types it holds (a chart of another type
#: would draw nothing: tests/web/test_charts.py holds every chart to these).
PLOTLY_JS = "plotly-cartesian.min.js"
PLOTLY_TRACES = frozenset(
    {"bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour",
     "image", "pie", "scatter", "scatterternary", "violin"}
)  # fmt: skip

public = APIRouter(include_in_schema=False)


def _file(name: str) -> Path:
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
