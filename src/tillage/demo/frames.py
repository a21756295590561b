"""The demo company's observable tables as frames: contracts, orders, opportunities,
activities, tickets, NPS answers, usage and success stories, in the canonical columns, built
from the latent processes (before :func:`tillage.demo.company.generate` splits them at
``as_of``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tillage.demo import contracts as contract_process
from tillage.demo.deals import OPEN_STAGES, STAGE_PROBABILITY
from tillage.demo.entities import Cast, _keys
from tillage.demo.playbooks import subjects as playbook_subjects
from tillage.demo.signals import ACTIVITY_TYPES, USAGE_METRICS, Signals
from tillage.demo.timeline import Timeline, to_dates, to_datetimes

_SUBJECTS = {
    "ja": ("定例打ち合わせ", "電話フォロー", "資料送付", "訪問", "四半期ビジネスレビュー"),
    "en": ("Regular meeting", "Follow-up call", "Sent materials", "Site visit", "QBR"),
}
_TICKET_SUBJECTS = {
    "ja": (
        "ログインできない",
        "データ連携エラー",
        "操作方法の質問",
        "請求書について",
        "動作が遅い",
    ),
    "en": ("Cannot log in", "Integration error", "How-to question", "Invoice query", "Slow"),
}
_TYPE_LABEL = {
    "ja": {"new": "新規", "upsell": "アップセル", "cross_sell": "クロスセル", "renewal": "更新"},
    "en": {"new": "New", "upsell": "Upsell", "cross_sell": "Cross-sell", "renewal": "Renewal"},
}


def _order_ids(*sort_keys: np.ndarray) -> np.ndarray:
    """1-based ids in the order of the sort keys (first key most significant), per row."""
    order = np.lexsort(tuple(reversed(sort_keys)))
    ids = np.empty(len(order), np.int64)
    ids[order] = np.arange(1, len(order) + 1)
    return ids


def _nullable_int(values: np.ndarray, missing: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)


def lost_day(cast: Cast, contracts: contract_process.ContractResult) -> np.ndarray:
    """Day the account stopped being a contract customer (churn or expiry), else max int."""
    rows = contracts.rows
    ended = rows[rows["status"].isin(["churned", "expired"])]
    lost = np.full(cast.n, np.iinfo(np.int64).max)
    np.minimum.at(lost, ended["account"].to_numpy(), ended["end"].to_numpy())
    return lost


def contracts_frame(contracts, config, timeline):  # type: ignore[no-untyped-def]
    rows = contracts.rows
    ids = _order_ids(rows["start"].to_numpy(), rows["account"].to_numpy())
    id_of_row = np.empty(len(rows), np.int64)
    id_of_row[rows["row"].to_numpy()] = ids
    prev = rows["prev"].to_numpy()
    frame = pd.DataFrame(
        {
            "id": ids,
            "key": _keys("CTR-", ids, 7),
            "account_id": rows["account"].to_numpy() + 1,
            "product_id": rows["product"].to_numpy() + 1,
            "start_date": to_dates(rows["start"].to_numpy()),
            # the generator's ``end`` is a term's last day; the canonical end date is the day
            # after (the first day the contract no longer runs, when its renewal starts)
            "end_date": to_dates(rows["end"].to_numpy() + 1),
            "term_months": rows["term"].to_numpy(),
            "recurring_amount": rows["amount"].to_numpy().astype(float),
            "currency": config.currency,
            "status": rows["status"].to_numpy().astype(str),
            "renewed_from_id": _nullable_int(id_of_row[np.maximum(prev, 0)], prev < 0),
            "_row": rows["row"].to_numpy(),
            "_end_day": rows["end"].to_numpy(),
        }
    ).sort_values("id")

    def as_of_status(history: pd.DataFrame) -> pd.DataFrame:
        history = history.copy()
        history.loc[history["_end_day"] >= timeline.as_of, "status"] = "active"  # runs on as_of
        return history

    return frame, as_of_status


def orders_frame(orders, config):  # type: ignore[no-untyped-def]
    lines = orders.lines
    ids = np.arange(1, len(lines) + 1)
    order_no = pa.array(lines["order"].to_numpy() + 1).cast(pa.string())
    numbers = pc.binary_join_element_wise("SO-", pc.utf8_lpad(order_no, 8, "0"), "")
    line_no = pa.array(lines["line_no"].to_numpy()).cast(pa.string())
    keys = pc.binary_join_element_wise(numbers, line_no, "-").to_pandas()
    numbers = numbers.to_pandas()
    frame = pd.DataFrame(
        {
            "id": ids,
            "key": keys,
            "order_number": numbers,
            "account_id": lines["account"].to_numpy() + 1,
            "product_id": lines["product"].to_numpy() + 1,
            "order_date": to_dates(lines["day"].to_numpy()),
            "quantity": lines["quantity"].to_numpy(),
            "amount": lines["amount"].to_numpy(),
            "margin": lines["margin"].to_numpy(),
            "currency": config.currency,
        }
    )
    return frame, None


def opportunities_frame(deals, cast, catalog, config, timeline):  # type: ignore[no-untyped-def]
    ids = _order_ids(deals["created"].to_numpy(), deals["account"].to_numpy())
    won = deals["won"].to_numpy(bool)
    labels = _TYPE_LABEL[config.locale]
    product = deals["product"].to_numpy()
    frame = pd.DataFrame(
        {
            "id": ids,
            "key": _keys("OPP-", ids, 7),
            "account_id": deals["account"].to_numpy() + 1,
            "owner_id": cast.owner[deals["account"].to_numpy()] + 1,
            "product_id": product + 1,
            "name": deals["type"].map(labels).to_numpy().astype(str)
            + ": "
            + catalog.frame["name"].to_numpy()[product].astype(str),
            "type": deals["type"].to_numpy().astype(str),
            "stage": np.where(won, "Closed Won", "Closed Lost"),
            "amount": deals["amount"].to_numpy().astype(float),
            "currency": config.currency,
            "probability": np.where(won, 1.0, 0.0),
            "created_date": to_dates(deals["created"].to_numpy()),
            "close_date": to_dates(deals["close"].to_numpy()),
            "is_closed": True,
            "is_won": won,
            "competitor": deals["competitor_name"].to_numpy(),
            "_close_day": deals["close"].to_numpy(),
            "_created_day": deals["created"].to_numpy(),
            "_true_win_probability": deals["true_win_probability"].to_numpy(),
            "_won": won,
            "_health": deals["health"].to_numpy(),
            "_engagement": deals["engagement"].to_numpy(),
            "_amount_rel": deals["amount_rel"].to_numpy(),
            "_competitor": deals["competitor"].to_numpy(bool),
        }
    ).sort_values("id")

    def as_of_state(history: pd.DataFrame) -> pd.DataFrame:
        history = history.copy()
        open_ = (history["_close_day"] > timeline.as_of).to_numpy()
        span = (history["_close_day"] - history["_created_day"]).to_numpy()
        progress = (timeline.as_of - history["_created_day"].to_numpy()) / np.maximum(span, 1)
        stage = np.array(OPEN_STAGES)[np.clip((progress * 4).astype(int), 0, 3)]
        history.loc[open_, "stage"] = stage[open_]
        history.loc[open_, "probability"] = [STAGE_PROBABILITY[s] for s in stage[open_]]
        history.loc[open_, "is_closed"] = False
        history.loc[open_, "is_won"] = False
        return history

    return frame, as_of_state


def _keep_after_loss(account: np.ndarray, day: np.ndarray, cast: Cast, lost: np.ndarray):  # type: ignore[no-untyped-def]
    """Rows survive a lost contract only for accounts that still order."""
    return (day <= lost[account]) | cast.is_orderer[account]


def activities_frame(signals: Signals, cast, lost, config):  # type: ignore[no-untyped-def]
    a = signals.activities
    keep = _keep_after_loss(a["account"], a["day"], cast, lost)
    acc, sec = a["account"][keep], a["sec"][keep]
    kind = a["kind"][keep]
    ids = _order_ids(sec, acc)
    # planted playbook actions (demo.playbooks) carry their action's label as the subject
    labels = (*_SUBJECTS[config.locale], *playbook_subjects(config.locale))
    action = a["action"][keep] if "action" in a else np.full(len(kind), -1)
    subject = np.where(action >= 0, len(ACTIVITY_TYPES) + action, kind)
    frame = pd.DataFrame(
        {
            "id": ids,
            "key": _keys("ACT-", ids, 8),
            "account_id": acc + 1,
            # a planted action names neither rep nor contact (demo.playbooks.with_actions)
            "rep_id": pd.array(
                np.where(a["rep"][keep] >= 0, a["rep"][keep] + 1, None), dtype="Int64"
            ),
            "contact_id": pd.array(
                np.where(a["contact"][keep] >= 0, a["contact"][keep] + 1, None), dtype="Int64"
            ),
            "type": pd.Categorical.from_codes(kind, ACTIVITY_TYPES),
            "occurred_at": to_datetimes(sec // 86400, sec % 86400),
            "duration_minutes": a["minutes"][keep],
            "subject": pd.Categorical.from_codes(subject, labels),
        }
    ).sort_values("id")
    return frame, None


def tickets_frame(signals: Signals, cast, lost, config, timeline):  # type: ignore[no-untyped-def]
    t = signals.tickets
    keep = _keep_after_loss(t["account"], t["day"], cast, lost)
    acc = t["account"][keep]
    opened, closed = t["opened_sec"][keep], t["closed_sec"][keep]
    ids = _order_ids(opened, acc)
    subjects = np.array(_TICKET_SUBJECTS[config.locale])
    frame = pd.DataFrame(
        {
            "id": ids,
            "key": _keys("TKT-", ids, 7),
            "account_id": acc + 1,
            "contact_id": t["contact"][keep] + 1,
            "opened_at": opened.astype("datetime64[s]"),
            "closed_at": closed.astype("datetime64[s]"),
            "severity": t["severity"][keep],
            "satisfaction": t["satisfaction"][keep],
            "subject": subjects[ids % len(subjects)],
        }
    ).sort_values("id")
    as_of_end = np.datetime64(timeline.as_of + 1, "D").astype("datetime64[s]")

    def unresolved_at_as_of(history: pd.DataFrame) -> pd.DataFrame:
        history = history.copy()
        later = (history["closed_at"] >= as_of_end).to_numpy()
        history.loc[later, "closed_at"] = pd.NaT
        history.loc[later, "satisfaction"] = np.nan
        return history

    return frame, unresolved_at_as_of


def nps_frame(signals: Signals, cast, lost):  # type: ignore[no-untyped-def]
    r = signals.nps
    keep = _keep_after_loss(r["account"], r["day"], cast, lost)
    acc, day, contact = r["account"][keep], r["day"][keep], r["contact"][keep]
    ids = _order_ids(day, acc, contact)
    frame = pd.DataFrame(
        {
            "id": ids,
            "key": _keys("NPS-", ids, 7),
            "account_id": acc + 1,
            "contact_id": contact + 1,
            "responded_on": to_dates(day),
            "score": r["score"][keep],
        }
    ).sort_values("id")
    return frame, None


def usage_frame(signals: Signals, timeline: Timeline, lost):  # type: ignore[no-untyped-def]
    u = signals.usage
    day = timeline.month_end[u["month"]]
    keep = day <= lost[u["account"]]
    acc, day = u["account"][keep], day[keep]
    n = len(acc)
    frame = pd.DataFrame(
        {
            "account_id": np.tile(acc + 1, 2),
            "date": np.tile(to_dates(day), 2),
            "metric": pd.Categorical.from_codes(np.repeat(np.arange(2), n), USAGE_METRICS),
            "value": np.concatenate([u["active_users"][keep], u["logins"][keep]]),
        }
    )
    frame = frame.sort_values(["date", "account_id", "metric"], kind="stable")
    frame.insert(0, "id", np.arange(1, len(frame) + 1))
    return frame, None


def success_stories_frame(cast, signals, contracts, timeline, config, rng):  # type: ignore[no-untyped-def]
    """Rare case studies, for healthy, bigger, still-subscribed accounts."""
    n_hist = timeline.n_history
    mean_health = signals.health[:, max(n_hist - 12, 0) : n_hist].mean(axis=1)
    earliest = np.maximum(cast.acquired_day + 180, timeline.start)
    candidate = (
        cast.is_contractual
        & (cast.size_z > 0.3)
        & (mean_health > 0.4)
        & ((contracts.churn_day < 0) | (contracts.churn_day > timeline.as_of))
        & (earliest < timeline.as_of)
    )
    chosen = np.flatnonzero(candidate & (rng.random(cast.n) < 0.2))
    day = earliest[chosen] + np.floor(
        rng.random(len(chosen)) * (timeline.as_of - earliest[chosen])
    ).astype(np.int64)
    names = cast.frames["accounts"]["name"].to_numpy()[chosen].astype(str)
    title = (
        np.char.add(names, "様 導入事例")
        if config.locale == "ja"
        else np.char.add("How ", np.char.add(names, " grew with tillage"))
    )
    ids = _order_ids(day, chosen)
    return pd.DataFrame(
        {
            "id": ids,
            "key": _keys("CS-", ids, 5),
            "account_id": chosen + 1,
            "rep_id": cast.owner[chosen] + 1,
            "published_on": to_dates(day),
            "title": title,
        }
    ).sort_values("id")
