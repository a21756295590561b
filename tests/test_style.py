"""The code base stays ruff-clean (lint and format), so style never drifts between sessions."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_lint_is_clean() -> None:
    result = _ruff("check", "src", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = _ruff("format", "--check", "src", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_imports_follow_the_data_flow() -> None:
    """The import-linter contracts in pyproject.toml: layers, and no plotting in the server."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports_command; lint_imports_command()",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_contracts_keep_the_design() -> None:
    """The contracts say what DESIGN.md says: surfaces above the services, the services above
    kpi and strategy, api and web independent, features, models, strategy and kpi off the
    store (not even through another package)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c["layers"] for c in contracts if c["type"] == "layers")
    position = {name.strip(): i for i, layer in enumerate(layers) for name in layer.split("|")}
    assert "tillage.api | tillage.web" in layers  # independent: neither imports the other
    for surface in ("tillage.cli", "tillage.api", "tillage.web", "tillage.report"):
        assert position[surface] < position["tillage.services"]
    assert position["tillage.services"] < position["tillage.kpi"] < position["tillage.strategy"]
    forbidden = [c for c in contracts if c["type"] == "forbidden"]
    assert any(
        {"tillage.features", "tillage.models", "tillage.strategy", "tillage.kpi"}
        <= set(c["source_modules"])
        and c["forbidden_modules"] == ["tillage.store"]
        and not c.get("allow_indirect_imports", False)
        for c in forbidden
    )


def test_no_source_file_over_500_lines() -> None:
    """Files stay small enough to read in one sitting."""
    long = {
        str(path.relative_to(ROOT)): n
        for path in (ROOT / "src" / "tillage").rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert long == {}
