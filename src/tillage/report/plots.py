"""Plots of results, written as PNG. matplotlib is imported inside each function (lazily), so
importing this module — or anything that imports it — never loads a plotting library; the API
server and the web app never import it at all (an import-linter contract checks that)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

__all__ = ["reliability_plot"]


def reliability_plot(
    tables: Mapping[str, pd.DataFrame], path: str | Path, *, title: str = ""
) -> Path:
    """Reliability diagram: observed rate against mean predicted probability per decile, one
    line per table (``"<probability>/<model>"`` → :func:`tillage.models.evaluation.
    reliability_table`), one panel per probability; the diagonal is perfect calibration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    quantities = sorted({key.split("/")[0] for key in tables})
    fig, axes = plt.subplots(1, max(len(quantities), 1), figsize=(5 * max(len(quantities), 1), 4.5))
    axes = [axes] if len(quantities) <= 1 else list(axes)
    for ax, quantity in zip(axes, quantities, strict=False):
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1, label="perfect")
        for key, table in tables.items():
            name, model = key.split("/", 1)
            if name != quantity or table.empty:
                continue
            ax.plot(table["predicted"], table["observed"], marker="o", label=model)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("predicted probability (decile mean)")
        ax.set_ylabel("observed rate")
        ax.set_title(quantity)
        ax.legend(loc="upper left", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
