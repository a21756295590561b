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
_FIELDS = ("segment", "zone", "ltv", "growth")
"""What the matrix and the drivers of every account read; the key, name and reasons are read
for the listed accounts only (:func:`listed_details`)."""


def _scores(session: Session, snapshot_id: int, visible: AccountFilter) -> pd.DataFrame:
    """The scores of ``visible`` accounts (:data:`_FIELDS`), read on the connection (the ORM's
    loading of plain column rows gives the same values, slower)."""
    rows = session.connection().execute(
        select(Account.id, *(getattr(AccountScore, f) for f in _FIELDS))
        .join(AccountScore, AccountScore.account_id == Account.id)
        .where(AccountScore.snapshot_id == snapshot_id, visible)
    )
    return pd.DataFrame([tuple(r) for r in rows.all()], columns=["account_id", *_FIELDS]).set_index(
        "account_id"
    )


def listed_details(
    session: Session, snapshot_a: int, snapshot_b: int, ids: list[int]
) -> pd.DataFrame:
    """The ``key``, ``name`` and each snapshot's ``reasons`` (``reasons_a``, ``reasons_b``, the
    stored JSON text; null where the snapshot did not score the account) of the accounts
    ``ids``, by account id: read for the accounts a diff lists only (decoding and even reading
    every account's reasons took most of the time of a diff)."""
    frame = pd.DataFrame(
        [
            tuple(r)
            for r in session.connection().execute(
                select(Account.id, Account.key, Account.name).where(Account.id.in_(ids))
            )
        ],
        columns=["account_id", "key", "name"],
    ).set_index("account_id")
    for side, snapshot_id in (("a", snapshot_a), ("b", snapshot_b)):
        rows = session.connection().execute(
            select(AccountScore.account_id, cast(AccountScore.reasons, Text)).where(
                AccountScore.snapshot_id == snapshot_id, AccountScore.account_id.in_(ids)
            )
        )
        reasons = {int(account_id): text for account_id, text in rows.all()}
        frame[f"reasons_{side}"] = [reasons.get(i) for i in frame.index]
    return frame.reindex(ids)


def _reason_codes(value: object) -> set[str]:
    """The codes of a score's ``reasons``, given as stored (JSON text) or decoded."""
    if isinstance(value, str):
        value = json.loads(value)
    return {r["code"] for r in value} if isinstance(value, list) else set()


def snapshot_pair(
    session: Session, snapshot_a: int, snapshot_b: int, *, visible: AccountFilter
) -> tuple[pd.DataFrame, dict]:
    """The two snapshots' scores per account (``<field>_a``, ``<field>_b`` of :data:`_FIELDS`)
    and the thresholds each used (``{"a": {...}, "b": {...}}``)."""
    snaps = {
        "a": complete_snapshot(session, snapshot_a),
        "b": complete_snapshot(session, snapshot_b),
    }
    a = _scores(session, snapshot_a, visible)
    b = _scores(session, snapshot_b, visible)
    pair = a.add_suffix("_a").join(b.add_suffix("_b"), how="outer").sort_index()
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
    for expected expansion value) for the axes that changed side, plus — where ``pair`` has
    ``reasons_a`` and ``reasons_b`` — ``reasons_added`` and ``reasons_dropped`` (priority reason
    codes: :func:`reason_changes`)."""
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
    if "reasons_a" in moved.columns and "reasons_b" in moved.columns:
        moved = reason_changes(moved)
    return moved


def reason_changes(moved: pd.DataFrame) -> pd.DataFrame:
    """``moved`` with ``reasons_added`` and ``reasons_dropped``: the priority reason codes of
    ``reasons_b`` not in ``reasons_a`` and the other way round (stored JSON text or decoded)."""
    pairs = [
        (_reason_codes(a), _reason_codes(b))
        for a, b in zip(moved["reasons_a"], moved["reasons_b"], strict=True)
    ]
    return moved.assign(
        reasons_added=[sorted(b - a) for a, b in pairs],
        reasons_dropped=[sorted(a - b) for a, b in pairs],
    )
