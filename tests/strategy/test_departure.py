"""`simulate departure`: the LTV at risk of a small hand-built company, worked out by hand, and a
handover plan that keeps to teams and capacity.

As of 2026-09-30, touches over the last 180 days (default window):

    account  owner  touches (rep: contact)            single-threaded on  LTV        churn risk
    A10      R1     R1:c1 ×3                          R1                  1,000,000  0.20
    A11      R1     R1:c2 ×1                          R1                    400,000  unknown
    A12      R1     R1:c3 ×2, R2:c4 ×2                —  (R1 has 50 %)    2,000,000  0.10
    A13      R2     R1:c5 ×4, R2 (no contact) ×1      R1 (80 %, 1 contact)  600,000  0.90
    A14      R3     R3:c6 ×2                          R3                    300,000  0.10
    A15      R1     R1:c7 once, 213 days ago          —  (no touch)         100,000  0.30

R1 leaving with the default uplift u = 0.25, ltv_at_risk = LTV × (min(1, p + u) − p) / (1 − p):

    A10  1,000,000 × (0.45 − 0.20) / 0.80 = 312,500
    A11    400,000 × 0.25                  = 100,000   (unknown churn risk counts as 0)
    A13    600,000 × (1.00 − 0.90) / 0.10 = 600,000   (capped at 1: all of it)
    total                                  1,012,500

Capacity (utilisation 0.7): R2 (East, like R1) 20 h → 14 h − 4 h planned = 10 h spare; R3 (West)
100 h → 70 h; R4 (East) has left, R5 (East) is a manager. R1 planned 6 h on A10; every other
account needs the 2 h handover minimum. Order: A13, A10, A11 (by LTV at risk), then A12, A15 (by
LTV): A13 2 h → R2 (8 left), A10 6 h → R2 (2 left), A11 2 h → R2 (0 left), A12 → R3 (68),
A15 → R3 (66).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from tillage.cli.main import app
from tillage.errors import NotFoundError
from tillage.services.departure import departure_from_store
from tillage.store.bulk import insert_frame
from tillage.store.database import make_engine, migrate
from tillage.store.load import replace_all
from tillage.store.snapshots import write_snapshot
from tillage.strategy.config import Strategy
from tillage.strategy.departure import handover_month, ltv_at_risk, simulate_departure

AS_OF = dt.date(2026, 9, 30)
AT_RISK = {10: 312_500.0, 11: 100_000.0, 13: 600_000.0}


def _tables() -> dict[str, pd.DataFrame]:
    touches = [  # (account, rep, contact, days before AS_OF)
        *[(10, 1, 1, d) for d in (29, 60, 91)],
        (11, 1, 2, 20),
        *[(12, 1, 3, d) for d in (5, 50)],
        *[(12, 2, 4, d) for d in (10, 70)],
        *[(13, 1, 5, d) for d in (1, 2, 3, 4)],
        (13, 2, None, 8),
        *[(14, 3, 6, d) for d in (3, 30)],
        (15, 1, 7, 213),
    ]
    stamps = [
        pd.Timestamp(AS_OF) - pd.Timedelta(days=d) + pd.Timedelta(hours=10) for *_, d in touches
    ]
    return {
        "teams": pd.DataFrame({"id": [1, 2], "key": ["T1", "T2"], "name": ["East", "West"]}),
        "reps": pd.DataFrame(
            {
                "id": [1, 2, 3, 4, 5],
                "key": ["R1", "R2", "R3", "R4", "R5"],
                "name": ["Ito", "Sato", "Kato", "Abe", "Mori"],
                "team_id": [1, 1, 2, 1, 1],
                "role": ["rep", "rep", "rep", "rep", "manager"],
                "capacity_hours": [100.0, 20.0, 100.0, 200.0, 200.0],
                "left_on": pd.to_datetime([None, None, None, "2026-08-31", None]),
            }
        ),
        "accounts": pd.DataFrame(
            {
                "id": [10, 11, 12, 13, 14, 15],
                "key": [f"A{i}" for i in range(10, 16)],
                "name": [f"Account {i}" for i in range(10, 16)],
                "owner_id": [1, 1, 1, 2, 3, 1],
            }
        ),
        "contacts": pd.DataFrame(
            {
                "id": [1, 2, 3, 4, 5, 6, 7],
                "key": [f"c{i}" for i in range(1, 8)],
                "account_id": [10, 11, 12, 12, 13, 14, 15],
                "name": [f"Contact {i}" for i in range(1, 8)],
                "department": ["IT", "IT", "IT", "Finance", "Sales", "IT", "IT"],
            }
        ),
        "activities": pd.DataFrame(
            {
                "id": range(1, len(touches) + 1),
                "key": [f"a{i}" for i in range(1, len(touches) + 1)],
                "account_id": [t[0] for t in touches],
                "rep_id": [t[1] for t in touches],
                "contact_id": pd.array([t[2] for t in touches], dtype="Int64"),
                "type": "meeting",
                "occurred_at": stamps,
            }
        ),
    }


def _fill(engine: Engine, models: dict | None = None) -> None:
    migrate(engine)
    replace_all(engine, _tables())
    scores = pd.DataFrame(
        {
            "account_id": [10, 11, 12, 13, 14, 15],
            "ltv": [1_000_000.0, 400_000.0, 2_000_000.0, 600_000.0, 300_000.0, 100_000.0],
            "churn_risk": [0.2, None, 0.1, 0.9, 0.1, 0.3],
        }
    )
    snapshot = write_snapshot(
        engine, as_of=AS_OF, created_at=dt.datetime(2026, 10, 1, 6), scores=scores, models=models
    )
    actions = pd.DataFrame(
        {
            "snapshot_id": snapshot,
            "account_id": [10, 14, 13],
            "rep_id": [1, 2, 1],
            "month": [dt.date(2026, 9, 1), dt.date(2026, 9, 1), dt.date(2026, 10, 1)],
            "action": ["renewal_preparation", "health_check", "health_check"],
            "hours": [6.0, 4.0, 9.0],  # R1's October action is outside the month
            "expected_uplift": [1000.0, 500.0, 500.0],
            "must_do": [True, False, False],
        }
    )
    with engine.begin() as connection:
        insert_frame(connection, "snapshot_actions", actions)


def test_ltv_at_risk_matches_the_hand_calculation(engine: Engine) -> None:
    _fill(engine)
    result = departure_from_store(engine, "R1")
    assert result.as_of == AS_OF  # the snapshot's date
    plan = result.accounts.set_index("account_id")
    assert sorted(plan.index) == [10, 11, 12, 13, 15]  # owned, or single-threaded on R1 (A13)
    assert plan["single_threaded"][plan["single_threaded"]].index.tolist() == [13, 10, 11]
    for account, value in AT_RISK.items():
        assert plan.loc[account, "ltv_at_risk"] == pytest.approx(value)
    assert plan.loc[[12, 15], "ltv_at_risk"].tolist() == [0.0, 0.0]
    assert result.ltv_at_risk == pytest.approx(1_012_500)
    assert plan.loc[13, "churn_after"] == 1.0 and plan.loc[10, "churn_after"] == pytest.approx(0.45)


def test_successors_keep_to_the_team_and_its_capacity(engine: Engine) -> None:
    _fill(engine)
    plan = departure_from_store(engine, "R1").accounts
    assert plan["account_id"].tolist() == [13, 10, 11, 12, 15]
    assert plan["hours"].tolist() == [2.0, 6.0, 2.0, 2.0, 2.0]
    assert plan["successor"].tolist() == ["Sato", "Sato", "Sato", "Kato", "Kato"]
    assert plan["successor_team"].tolist() == ["East"] * 3 + ["West"] * 2
    assert plan["same_team"].tolist() == [True, True, True, False, False]
    assert plan["spare_hours_after"].tolist() == pytest.approx([8, 2, 0, 68, 66])
    assert not plan["over_capacity"].any()


def test_the_handover_reads_the_snapshot_plan_month(engine: Engine) -> None:
    # a month-end snapshot plans the next month: its October hours are the ones booked
    _fill(engine, models={"plans": {"month": "2026-10-01"}})
    assert handover_month({"plans": {"month": "2026-10-01"}}, AS_OF) == dt.date(2026, 10, 1)
    assert handover_month(None, AS_OF) == dt.date(2026, 9, 1)
    plan = departure_from_store(engine, "R1").accounts.set_index("account_id")
    # R1's 9 h on A13 in October is the handover of A13; A10's September 6 h is not planned
    assert plan.loc[13, "hours"] == 9.0 and plan.loc[10, "hours"] == 2.0
    # R2 has nothing booked in October: 14 h spare, A13 (9 h) then A10 (2 h) fit, A11 does not
    assert plan.loc[[13, 10], "successor"].tolist() == ["Sato", "Sato"]
    assert plan.loc[[13, 10], "spare_hours_after"].tolist() == pytest.approx([5, 3])


def test_over_capacity_uplift_and_unknown_rep() -> None:
    accounts = pd.DataFrame(
        {
            "owner_id": [1, 1],
            "ltv": [100.0, 50.0],
            "churn_risk": [0.5, 0.0],
            "single_threaded": [True, True],
            "top_rep_id": [1, 1],
        },
        index=pd.Index([1, 2], name="account_id"),
    )
    reps = pd.DataFrame(
        {"name": ["Ito", "Sato", "Kato"], "team_id": [1, 2, 3], "capacity_hours": [10.0, 5.0, 3.0]},
        index=[1, 2, 3],
    )
    strategy = Strategy.model_validate(
        {"key_person": {"churn_uplift_if_owner_leaves": 0.1, "handover_hours": 3.0}}
    )
    result = simulate_departure(1, accounts, reps, strategy, as_of=AS_OF)
    # 100 × 0.1 / 0.5 + 50 × 0.1; spare 3.5 and 2.1 h: the first fits Sato, the second nobody
    assert result.ltv_at_risk == pytest.approx(20 + 5)
    plan = result.accounts
    assert plan["successor"].tolist() == ["Sato", "Kato"]
    assert plan["over_capacity"].tolist() == [False, True]
    with pytest.raises(NotFoundError):
        simulate_departure(9, accounts, reps, strategy)


def test_cli_prints_the_plan_and_writes_csv(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = make_engine(url)
    _fill(store)
    store.dispose()
    out = tmp_path / "handover.csv"
    args = ["simulate", "departure", "--rep", "R1", "--database-url", url]
    # a wide terminal: amounts whole (below 120 columns they are written compactly)
    wide = {"COLUMNS": "160"}
    result = CliRunner().invoke(app, ["--lang", "en", *args, "--out", str(out)], env=wide)
    assert result.exit_code == 0, result.output
    assert "¥1,012,500" in result.output and "Sato" in result.output
    assert pd.read_csv(out)["ltv_at_risk"].sum() == pytest.approx(1_012_500)
    result = CliRunner().invoke(app, ["--lang", "ja", *args, "--as-of", "2026-09-30"])
    assert result.exit_code == 0, result.output
    assert "退職した場合" in result.output
    bad = CliRunner().invoke(app, ["simulate", "departure", "--rep", "R9", "--database-url", url])
    assert isinstance(bad.exception, NotFoundError)


def test_an_account_worth_less_than_nothing_puts_nothing_at_risk() -> None:
    at_risk = ltv_at_risk(
        pd.Series([1_000_000.0, -400_000.0, 500_000.0]),
        pd.Series([0.0, 0.0, 0.5]),
        0.3,
    )
    # 1M × 0.3; a negative LTV is not a gain; 500k × (0.8 − 0.5) / 0.5
    assert at_risk.tolist() == pytest.approx([300_000.0, 0.0, 300_000.0])
