"""The reliability plot writes a PNG; importing the plotting module loads no plotting library."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tillage.models.evaluation import reliability_table


def test_plot_module_imports_matplotlib_lazily() -> None:
    import tillage

    src = str(Path(tillage.__file__).resolve().parents[1])
    code = "import sys, tillage.report.plots; print('matplotlib' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": src}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert done.stdout.strip() == "False"


def test_reliability_plot_writes_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from tillage.report.plots import reliability_plot

    rng = np.random.default_rng(0)
    p = rng.random(500)
    y = (rng.random(500) < p).astype(float)
    tables = {
        "p_order/model": reliability_table(p, y),
        "p_order/last_period": reliability_table(p, y),
    }
    path = reliability_plot(tables, tmp_path / "rel.png", title="test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
