"""Organisational risk per account: key-person dependency and silent churn.

Both read the frame of :func:`tillage.features.risk_inputs.risk_inputs` (one row per account,
indexed by ``account_id``); :func:`account_risk` computes it from a feature backend and returns
both scores in one frame, ready for a snapshot's ``key_person_risk``, ``single_threaded``,
``silent_churn`` and ``signals`` columns.

**Key-person dependency** over the touches (activities) of the last ``key_person.window_days``
days. With H the Herfindahl index Σ sᵣ² of the reps' shares of the touches that name a rep,
c the customer contacts touched and d their departments::

    key_person_risk = H × (1 / max(c, 1) + 1 / max(d, 1)) / 2        (0..1)

It is 1 when one rep talks to one contact, falls as more reps share the account and as the
relationship spreads over contacts and departments, and is null without a touch naming a rep.
An account is **single-threaded** on its top rep when that rep has at least
``key_person.single_threaded_rep_share`` of those touches and at most
``key_person.single_threaded_max_contacts`` contacts were touched.

**Silent churn** combines five signals, each with a strength sₖ in 0..1 (0 when it does not fire)::

    unresolved_tickets  n tickets open 30+ days, n ≥ 1          s = min(n, 3) / 3
    usage_down          usage trend t ≤ −usage_drop              s = min(−t / (2·usage_drop), 1)
    detractor           latest NPS ≤ detractor_nps              s = 1
    silence             no meeting for D ≥ silent_days days     s = min(D / (2·silent_days), 1)
                        (or no meeting on record)               s = 1
    orders_down         order trend o ≤ −order_drop             s = min(−o / (2·order_drop), 1)

    silent_churn = Σₖ sₖ / 5                                      (0..1)

with the usage trend ``usage_active_users_trend`` and the order trend ``revenue_365d /
revenue_prev_365d − 1`` (only when the year before had revenue). ``signals`` lists the signals
that fire, strongest first, as ``{"code", "value", "strength"}``; :func:`render_signals` writes
them in Japanese or English, e.g. ``"usage down 31% · no meeting for 150 days"``.

Only customers can churn silently: an account that is not ``active`` on the date (no contract
held then and no order in the last 365 days, see :mod:`tillage.features.risk_inputs`) has
already churned, and gets a null ``silent_churn`` and no signals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from ibis.backends import BaseBackend

from tillage.errors import DataValidationError
from tillage.features.build import FeatureTables
from tillage.features.risk_inputs import BREADTH_COLUMNS, SILENT_COLUMNS, risk_inputs
from tillage.i18n import check_language, gettext_for
from tillage.strategy.config import Strategy

__all__ = [
    "SIGNALS",
    "account_risk",
    "key_person_risk",
    "render_signals",
    "silent_churn",
]

#: The silent-churn signal codes, in the order of the module docstring.
SIGNALS: tuple[str, ...] = (
    "unresolved_tickets",
    "usage_down",
    "detractor",
    "silence",
    "orders_down",
)
#: Unresolved tickets at which the signal is full.
FULL_TICKETS = 3
SEPARATOR = " · "


def _by_account(frame: pd.DataFrame, needed: Sequence[str]) -> pd.DataFrame:
    if frame.index.name != "account_id":
        if "account_id" not in frame.columns:
            raise DataValidationError("the risk scores need one row per account_id")
        frame = frame.set_index("account_id")
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataValidationError(f"the risk scores need the columns {missing}")
    return frame


def _num(frame: pd.DataFrame, name: str) -> pd.Series:
    return pd.to_numeric(frame[name], errors="coerce").astype("float64")


def key_person_risk(features: pd.DataFrame, strategy: Strategy | None = None) -> pd.DataFrame:
    """Key-person risk (0..1) and the single-threaded flag per account (see the module docstring).

    ``features`` has :data:`~tillage.features.risk_inputs.BREADTH_COLUMNS`, indexed by (or with
    a column) ``account_id``. Returns, indexed by ``account_id``: ``key_person_risk``,
    ``single_threaded``, ``top_rep_id``, ``top_rep_share``, ``reps_touching``,
    ``contacts_touched`` and ``departments_touched``.
    """
    rules = (strategy or Strategy()).key_person
    frame = _by_account(features, BREADTH_COLUMNS)
    named = _num(frame, "rep_touches") > 0
    contacts = _num(frame, "contacts_touched").fillna(0)
    departments = _num(frame, "departments_touched").fillna(0)
    breadth = (1 / contacts.clip(lower=1) + 1 / departments.clip(lower=1)) / 2
    risk = (_num(frame, "rep_concentration") * breadth).where(named)
    share = _num(frame, "top_rep_share")
    single = (
        named
        & (share >= rules.single_threaded_rep_share - 1e-12)
        & (contacts <= rules.single_threaded_max_contacts)
    )
    return pd.DataFrame(
        {
            "key_person_risk": risk.clip(0, 1),
            "single_threaded": single.astype(bool),
            "top_rep_id": frame["top_rep_id"].astype("Int64"),
            "top_rep_share": share,
            "reps_touching": _num(frame, "reps_touching").fillna(0).astype("int64"),
            "contacts_touched": contacts.astype("int64"),
            "departments_touched": departments.astype("int64"),
        },
        index=frame.index,
    )


def _signal_strengths(frame: pd.DataFrame, strategy: Strategy) -> tuple[np.ndarray, np.ndarray]:
    """(values, strengths), each accounts × :data:`SIGNALS`; strength 0 where a signal is off."""
    rules = strategy.key_person
    tickets = _num(frame, "tickets_unresolved_30d").fillna(0)
    usage = _num(frame, "usage_active_users_trend")
    nps = _num(frame, "nps_latest")
    silence = _num(frame, "days_since_last_meeting")
    before = _num(frame, "revenue_prev_365d")
    orders = (_num(frame, "revenue_365d").fillna(0) / before - 1).where(before > 0)
    strengths = {
        "unresolved_tickets": (tickets.clip(upper=FULL_TICKETS) / FULL_TICKETS).where(
            tickets >= 1, 0.0
        ),
        "usage_down": (-usage / (2 * rules.usage_drop))
        .clip(upper=1)
        .where(usage <= -rules.usage_drop, 0.0),
        "detractor": pd.Series(np.where(nps <= rules.detractor_nps, 1.0, 0.0), index=frame.index),
        "silence": (silence / (2 * rules.silent_days))
        .clip(upper=1)
        .where(silence >= rules.silent_days, 0.0)
        .where(silence.notna(), 1.0),
        "orders_down": (-orders / (2 * rules.order_drop))
        .clip(upper=1)
        .where(orders <= -rules.order_drop, 0.0),
    }
    values = {
        "unresolved_tickets": tickets,
        "usage_down": usage,
        "detractor": nps,
        "silence": silence,
        "orders_down": orders,
    }
    return (
        np.column_stack([values[c].to_numpy(dtype=float) for c in SIGNALS]),
        np.column_stack([strengths[c].fillna(0.0).to_numpy(dtype=float) for c in SIGNALS]),
    )


def silent_churn(features: pd.DataFrame, strategy: Strategy | None = None) -> pd.DataFrame:
    """Silent-churn score (0..1) and its signals per account (see the module docstring).

    ``features`` has :data:`~tillage.features.risk_inputs.SILENT_COLUMNS`, indexed by (or with a
    column) ``account_id``, and optionally ``active`` (bool; every account is taken as active
    without it). Returns, indexed by ``account_id``: ``silent_churn`` (null for an account that
    is not active), ``silent`` (any signal fires), ``signals`` (list of ``{"code", "value",
    "strength"}``, strongest first; ``value`` is None where the signal has no number, e.g. no
    meeting on record; empty for an account that is not active) and the signals in words,
    ``signals_en`` and ``signals_ja``.
    """
    strategy = strategy or Strategy()
    frame = _by_account(features, SILENT_COLUMNS)
    values, strengths = _signal_strengths(frame, strategy)
    active = (
        frame["active"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        if "active" in frame.columns
        else np.ones(len(frame), dtype=bool)
    )
    strengths[~active] = 0.0
    order = np.argsort(-strengths, axis=1, kind="stable")
    signals: list[list[dict[str, Any]]] = []
    for i, row in enumerate(order):
        fired = []
        for j in row:
            if strengths[i, j] <= 0:
                break
            value = values[i, j]
            fired.append(
                {
                    "code": SIGNALS[j],
                    "value": None if np.isnan(value) else round(float(value), 4),
                    "strength": round(float(strengths[i, j]), 4),
                }
            )
        signals.append(fired)
    out = pd.DataFrame(
        {
            "silent_churn": np.where(active, strengths.sum(axis=1) / len(SIGNALS), np.nan),
            "silent": strengths.max(axis=1, initial=0.0) > 0,
            "signals": signals,
        },
        index=frame.index,
    )
    out["signals_en"] = [render_signals(s, "en") for s in signals]
    out["signals_ja"] = [render_signals(s, "ja") for s in signals]
    return out


def _signal_text(code: str, value: float | None, _: Any) -> str:
    if code == "unresolved_tickets":
        return _("unresolved tickets: {n}").format(n=round(value or 0))
    if code == "usage_down":
        return _("usage down {pct}").format(pct=f"{-(value or 0):.0%}")
    if code == "detractor":
        return _("detractor NPS {score}").format(score=f"{value or 0:g}")
    if code == "silence":
        if value is None:
            return _("no meeting on record")
        return _("no meeting for {days} days").format(days=round(value))
    if code == "orders_down":
        return _("orders down {pct}").format(pct=f"{-(value or 0):.0%}")
    raise ValueError(f"unknown signal code {code!r}")


def render_signals(signals: Sequence[dict[str, Any]], lang: str) -> str:
    """The signals as one line in ``lang`` (ja or en), strongest first."""
    _ = gettext_for(check_language(lang))
    return SEPARATOR.join(_signal_text(s["code"], s.get("value"), _) for s in signals)


def account_risk(
    con: BaseBackend,
    as_of: dt.date | str,
    strategy: Strategy | None = None,
    *,
    features: FeatureTables | None = None,
) -> pd.DataFrame:
    """Key-person risk and silent churn of every account as of ``as_of``, indexed by account_id.

    Reads the store through ``con`` (a :func:`tillage.features.engine.feature_backend`) with the
    touches of the strategy's ``key_person.window_days``; the columns of
    :func:`key_person_risk` and :func:`silent_churn` side by side. ``features``: the feature
    tables already computed, by date.
    """
    strategy = strategy or Strategy()
    window = strategy.key_person.window_days
    inputs = risk_inputs(con, as_of, window_days=window, features=features)
    return key_person_risk(inputs, strategy).join(silent_churn(inputs, strategy))
