"""How accounts moved between two snapshots: the migration matrix and the drivers of each move.

:func:`snapshot_pair` puts the ``visible`` accounts' scores of two complete snapshots side by side
(an account missing from one is in the :data:`NONE` row or column, ``-``).
:func:`migration_matrix` counts them by (segment in A, segment in B) — or by zone — with their
LTV in B (in A for accounts no longer scored); its cells sum to the number of accounts in either
snapshot. :func:`move_drivers` says for each account that changed cell which axis crossed its
threshold: LTV against the value threshold, expected expansion value against the growth
threshold (each snapshot keeps the thresholds it used in ``models["portfolio"]``), and which
priority reasons appeared or went away.
"""

from __future__ import annotations

import json

import pandas as pd
from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from tillage.store.access import AccountFilter
from tillage.store.schema import Account, AccountScore
from tillage.store.snapshots import complete_snapshot

NONE = "-"
"""The segment or zone of an account a snapshot did not score: the one marker of every
migration (:mod:`tillage.kpi.migration` uses the same, a test holds them together)."""
_FIELDS = ("segment", "zone", "ltv", "growth", "priority", "reasons", "borderline")


def _scores(session: Session, snapshot_id: int, visible: AccountFilter) -> pd.DataFrame:
    """The scores of ``visible`` accounts, ``reasons`` as the stored JSON text: only the
    accounts that moved have theirs read (:func:`move_drivers`), and decoding every account's
    took most of the time of a diff. Read on the connection (the ORM's loading of plain column
    rows gives the same values, slower)."""
    columns = [
        cast(AccountScore.reasons, Text).label(f) if f == "reasons" else getattr(AccountScore, f)
        for f in _FIELDS
    ]
    rows = session.connection().execute(
        select(Account.id, Account.key, Account.name, *columns)
        .join(AccountScore, AccountScore.account_id == Account.id)
        .where(AccountScore.snapshot_id == snapshot_id, visible)
    )
    return pd.DataFrame(
        [tuple(r) for r in rows.all()], columns=["account_id", "key", "name", *_FIELDS]
    ).set_index("account_id")


def _reason_codes(value: object) -> set[str]:
    """The codes of a score's ``reasons``, given as stored (JSON text) or decoded."""
    if isinstance(value, str):
        value = json.loads(value)
    return {r["code"] for r in value} if isinstance(value, list) else set()


def snapshot_pair(
    session: Session, snapshot_a: int, snapshot_b: int, *, visible: AccountFilter
) -> tuple[pd.DataFrame, dict]:
    """The two snapshots' scores per account (``<field>_a``, ``<field>_b``, with ``key`` and
    ``name``; ``reasons`` as the stored JSON text) and the thresholds each used
    (``{"a": {...}, "b": {...}}``)."""
    snaps = {
        "a": complete_snapshot(session, snapshot_a),
        "b": complete_snapshot(session, snapshot_b),
    }
    a = _scores(session, snapshot_a, visible)
    b = _scores(session, snapshot_b, visible)
    pair = (
        a.drop(columns=["key", "name"])
        .add_suffix("_a")
        .join(b.drop(columns=["key", "name"]).add_suffix("_b"), how="outer")
    )
    names = pd.concat([b[["key", "name"]], a[["key", "name"]]])
    names = names[~names.index.duplicated()]
    pair = names.join(pair, how="right").sort_index()
    for side in ("a", "b"):
        for field in ("segment", "zone"):
            pair[f"{field}_{side}"] = pair[f"{field}_{side}"].fillna(NONE)
    thresholds = {
        side: dict((s.models or {}).get("portfolio", {}) or {}) for side, s in snaps.items()
    }
    return pair, thresholds


def migration_matrix(pair: pd.DataFrame, by: str = "segment") -> pd.DataFrame:
    """Rows: ``by`` in A; columns: ``by`` in B; for each cell ``accounts`` and ``ltv`` (LTV in B,
    in A for accounts not in B). Returns a long frame: ``from``, ``to``, ``accounts``, ``ltv``."""
    ltv = pair["ltv_b"].where(pair["ltv_b"].notna(), pair["ltv_a"]).astype(float).fillna(0.0)
    frame = pd.DataFrame({"from": pair[f"{by}_a"], "to": pair[f"{by}_b"], "ltv": ltv})
    out = frame.groupby(["from", "to"]).agg(accounts=("ltv", "size"), ltv=("ltv", "sum"))
    return out.reset_index()


def move_drivers(pair: pd.DataFrame, thresholds: dict, by: str = "segment") -> pd.DataFrame:
    """The accounts whose ``by`` changed with what drove the move: ``drivers`` is a list of
    ``{"code", "from", "to", "threshold_a", "threshold_b"}`` (code ``value`` for LTV, ``growth``
    for expected expansion value) for the axes that changed side, plus ``reasons_added`` and
    ``reasons_dropped`` (priority reason codes)."""
    moved = pair[pair[f"{by}_a"] != pair[f"{by}_b"]].copy()
    axes = (("value", "ltv", "value_threshold"), ("growth", "growth", "growth_threshold"))
    drivers = []
    for row in moved.itertuples():
        found = []
        for code, column, key in axes:
            before, after = getattr(row, f"{column}_a"), getattr(row, f"{column}_b")
            t_a, t_b = thresholds["a"].get(key), thresholds["b"].get(key)
            if before is None or after is None or pd.isna(before) or pd.isna(after):
                continue
            if t_a is None or t_b is None:
                continue
            if (float(before) > t_a) != (float(after) > t_b):
                found.append(
                    {
                        "code": code,
                        "from": float(before),
                        "to": float(after),
                        "threshold_a": float(t_a),
                        "threshold_b": float(t_b),
                    }
                )
        drivers.append(found)
    moved["drivers"] = drivers
    pairs = [
        (_reason_codes(a), _reason_codes(b))
        for a, b in zip(moved["reasons_a"], moved["reasons_b"], strict=True)
    ]
    moved["reasons_added"] = [sorted(b - a) for a, b in pairs]
    moved["reasons_dropped"] = [sorted(a - b) for a, b in pairs]
    return moved
