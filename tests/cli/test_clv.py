"""``tillage clv`` on the CDNOW transactions (Fader & Hardie's sample; see tests/data/cdnow)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from tillage.cli.clv import clv
from tillage.cli.context import state

CDNOW = Path(__file__).resolve().parents[1] / "data" / "cdnow" / "cdnow_sample_transactions.csv"

app = typer.Typer()
app.command("clv")(clv)
app.command("noop")(lambda: None)  # a second command keeps "clv" as a sub-command name


def _invoke(*args: str):
    return CliRunner().invoke(app, ["clv", *args])


@pytest.fixture(scope="module")
def cdnow_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, dict]:
    tmp = tmp_path_factory.mktemp("clv")
    result = _invoke(
        str(CDNOW),
        "--customer", "sample_customer_id",
        "--date", "date",
        "--amount", "dollar_value",
        "--date-format", "%Y%m%d",
        "--calibration-end", "1997-09-30",
        "--horizon", "39",
        "--discount-rate", "0.1",
        "--out", str(tmp / "clv.csv"),
        "--params-out", str(tmp / "params.json"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(tmp / "clv.csv", dtype={"sample_customer_id": str})
    params = json.loads((tmp / "params.json").read_text())
    return frame, params


def test_params_match_published_cdnow_fits(cdnow_run: tuple[pd.DataFrame, dict]) -> None:
    _, params = cdnow_run
    # Fader, Hardie & Lee (2005); BTYD walkthrough; FHL (2005) "RFM and CLV"
    assert params["bgnbd"]["r"] == pytest.approx(0.243, abs=5e-4)
    assert params["bgnbd"]["alpha"] == pytest.approx(4.414, abs=5e-4)
    assert params["bgnbd"]["log_likelihood"] == pytest.approx(-9582.4, abs=0.05)
    assert params["pareto_nbd"]["s"] == pytest.approx(0.6061, rel=2e-3)
    # the summary is computed from raw dollar values: zbar unrounded, v differs in the 2nd digit
    assert params["gamma_gamma"]["p"] == pytest.approx(6.25, abs=0.01)
    assert params["gamma_gamma"]["q"] == pytest.approx(3.74, abs=0.01)
    assert params["gamma_gamma"]["v"] == pytest.approx(15.44, abs=0.02)
    assert params["calibration_end"] == "1997-09-30"
    # --model auto: BG/NBD's likelihood is the higher (-9582.4 against Pareto/NBD's -9595.0)
    assert params["model"] == "bgnbd"
    assert params["pareto_nbd"]["log_likelihood"] < params["bgnbd"]["log_likelihood"]


def test_per_customer_output(cdnow_run: tuple[pd.DataFrame, dict]) -> None:
    frame, _ = cdnow_run
    assert list(frame.columns) == [
        "sample_customer_id",
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "p_alive",
        "expected_purchases",
        "expected_avg_value",
        "clv",
        "note",
    ]
    assert len(frame) == 2357
    assert frame["note"].isna().all()  # every value could be computed
    first = frame.set_index("sample_customer_id").loc["0001"]
    assert first["expected_purchases"] == pytest.approx(1.226, abs=5e-4)  # FHL 2005
    assert (frame["p_alive"].between(0, 1)).all()
    assert (frame["clv"] >= 0).all()
    # discounting: CLV is below the undiscounted expected purchases x expected value
    assert (frame["clv"] <= frame["expected_purchases"] * frame["expected_avg_value"] + 1e-9).all()


def test_missing_column_is_named(tmp_path: Path) -> None:
    result = _invoke(
        str(CDNOW), "--customer", "cust", "--date", "date", "--amount", "dollar_value",
        "--out", str(tmp_path / "x.csv"),
    )  # fmt: skip
    assert result.exit_code == 1  # refused data
    assert "'cust'" in result.output


def test_unparseable_date_and_amount_name_row_and_value(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "id,day,value\n1,2024-01-01,10\n1,2024-13-45,5\n2,2024-01-03,ten\n", encoding="utf-8"
    )
    result = _invoke(str(bad), "--customer", "id", "--date", "day", "--amount", "value")
    assert result.exit_code == 1
    assert "row 3" in result.output and "2024-13-45" in result.output
    assert "row 4" in result.output and "ten" in result.output


def test_parquet_input(tmp_path: Path) -> None:
    log = pd.read_csv(CDNOW, dtype={"sample_customer_id": str, "date": str})
    log["date"] = pd.to_datetime(log["date"], format="%Y%m%d")
    path = tmp_path / "log.parquet"
    log.head(3000).to_parquet(path)
    out = tmp_path / "out.csv"
    result = _invoke(
        str(path), "--customer", "sample_customer_id", "--date", "date",
        "--amount", "dollar_value", "--period", "month", "--horizon", "12",
        "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert frame["T"].max() < 19  # months, not weeks


def test_chunked_reading_gives_the_same_result(
    cdnow_run: tuple[pd.DataFrame, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tillage.cli.clv as module

    monkeypatch.setattr(module, "_CHUNKED_BYTES", 0)  # read in chunks, with the progress bar
    monkeypatch.setattr(module, "_CHUNK_ROWS", 1000)
    out = tmp_path / "clv.csv"
    result = _invoke(
        str(CDNOW), "--customer", "sample_customer_id", "--date", "date",
        "--amount", "dollar_value", "--date-format", "%Y%m%d",
        "--calibration-end", "1997-09-30", "--horizon", "39", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    chunked = pd.read_csv(out, dtype={"sample_customer_id": str})
    pd.testing.assert_frame_equal(chunked, cdnow_run[0])


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", ["log-likelihood", "customers, calibration end 1997-06-30, months"]),
        ("ja", ["対数尤度", "推定期間の終了日 1997-06-30、月単位", "パラメータ"]),
    ],
)
def test_summary_table_in_the_chosen_language(
    lang: str, expected: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(state, "lang", lang)
    result = _invoke(
        str(CDNOW), "--customer", "sample_customer_id", "--date", "date",
        "--amount", "dollar_value", "--date-format", "%Y%m%d", "--period", "month",
        "--calibration-end", "1997-06-30", "--out", str(tmp_path / "clv.csv"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for text in expected:
        assert text in result.output
