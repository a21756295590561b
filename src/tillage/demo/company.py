"""Assemble the synthetic company: run the latent processes, build the canonical frames, split
them at ``as_of`` into the observable ``tables`` and the future ``truth``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tillage.demo import contracts as contract_process
from tillage.demo import ordering as order_process
from tillage.demo.catalog import Catalog
from tillage.demo.config import DemoConfig
from tillage.demo.deals import simulate_deals
from tillage.demo.entities import build_cast
from tillage.demo.frames import (
    activities_frame,
    contracts_frame,
    lost_day,
    nps_frame,
    opportunities_frame,
    orders_frame,
    success_stories_frame,
    tickets_frame,
    usage_frame,
)
from tillage.demo.names import NamePools
from tillage.demo.playbooks import params as playbook_params
from tillage.demo.playbooks import with_actions
from tillage.demo.signals import (
    HEALTH,
    simulate_health,
    simulate_signals,
)
from tillage.demo.timeline import Timeline, to_dates
from tillage.demo.truth import renewals_frame, truth_accounts
from tillage.store.schema import CANONICAL_TABLES, Base

_STREAMS = (
    "names",
    "cast",
    "health",
    "signals",
    "contracts",
    "orders",
    "deals",
    "stories",
    "playbooks",
)


@dataclass
class DemoCompany:
    """A generated company: observable ``tables``, hidden ``truth`` and the true ``params``."""

    config: DemoConfig
    tables: dict[str, pd.DataFrame]
    truth: dict[str, pd.DataFrame]
    params: dict = field(default_factory=dict)

    def write_truth(self, directory: str | Path) -> list[Path]:
        """Write one Parquet file per truth frame plus ``params.json``; return the paths."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, frame in self.truth.items():
            path = out / f"{name}.parquet"
            frame.to_parquet(path, index=False)
            paths.append(path)
        path = out / "params.json"
        path.write_text(json.dumps(self.params, indent=2, ensure_ascii=False, default=str) + "\n")
        paths.append(path)
        return paths


# The demo company sells in one currency (nothing converted) and has no corporate groups.
NOT_MODELLED = frozenset({"source_currency", "fx_rate", "parent_account_id"})


def _schema_columns(table: str) -> list[str]:
    return [c.name for c in Base.metadata.tables[table].columns]


def _in_schema(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """The frame's schema columns in order; the columns the demo does not model are empty."""
    columns = _schema_columns(table)
    empty = {c: None for c in columns if c in NOT_MODELLED}
    return frame.assign(**empty)[columns].reset_index(drop=True)


def generate(config: DemoConfig | None = None) -> DemoCompany:
    """Generate the company described by ``config`` (defaults: 2,000 accounts, seed 42)."""
    config = config or DemoConfig()
    seeds = np.random.SeedSequence(config.seed).spawn(len(_STREAMS))
    rng = {name: np.random.default_rng(s) for name, s in zip(_STREAMS, seeds, strict=True)}
    timeline = Timeline.build(config.as_of, config.history_months, config.horizon_months)
    pools = NamePools(config.locale, config.seed)
    catalog = Catalog.build(config.locale, switch_month=config.history_months // 2)
    cast = build_cast(config, timeline, pools, rng["cast"])
    health = simulate_health(cast, timeline.n_months, rng["health"])
    signals = simulate_signals(cast, timeline, health, rng["signals"])
    contracts = contract_process.simulate_contracts(
        cast, timeline, signals, catalog, rng["contracts"], rng["playbooks"]
    )
    orders = order_process.simulate_orders(
        cast, timeline, catalog, config.orders_per_account, rng["orders"]
    )
    deals = simulate_deals(cast, timeline, signals, contracts, catalog, rng["deals"])
    signals.activities = with_actions(signals.activities, contracts.actions)

    frames = dict(cast.frames)
    frames["products"] = catalog.frame
    lost = lost_day(cast, contracts)
    tables: dict[str, pd.DataFrame] = {}
    truth: dict[str, pd.DataFrame] = {}
    as_of, horizon_end = timeline.as_of, timeline.horizon_end

    # customer_since: the first contract or order
    first_order = np.full(cast.n, np.iinfo(np.int64).max)
    np.minimum.at(first_order, orders.lines["account"].to_numpy(), orders.lines["day"].to_numpy())
    first_contract = np.full(cast.n, np.iinfo(np.int64).max)
    np.minimum.at(
        first_contract, contracts.rows["account"].to_numpy(), contracts.rows["start"].to_numpy()
    )
    since = np.minimum(np.minimum(first_order, first_contract), cast.acquired_day)
    frames["accounts"]["customer_since"] = to_dates(since)

    split = {
        "contracts": contracts_frame(contracts, config, timeline),
        "orders": orders_frame(orders, config),
        "opportunities": opportunities_frame(deals.deals, cast, catalog, config, timeline),
        "activities": activities_frame(signals, cast, lost, config),
        "tickets": tickets_frame(signals, cast, lost, config, timeline),
        "nps_responses": nps_frame(signals, cast, lost),
        "usage": usage_frame(signals, timeline, lost),
    }
    date_column = {
        "contracts": "start_date",
        "orders": "order_date",
        "opportunities": "created_date",
        "activities": "occurred_at",
        "tickets": "opened_at",
        "nps_responses": "responded_on",
        "usage": "date",
    }
    as_of_ts = pd.Timestamp(to_dates(np.array([as_of]))[0])
    end_of_as_of = as_of_ts + pd.Timedelta(days=1)
    horizon_ts = pd.Timestamp(to_dates(np.array([horizon_end]))[0]) + pd.Timedelta(days=1)
    history_views: dict[str, pd.DataFrame] = {}
    for name, (frame, history_override) in split.items():
        when = frame[date_column[name]]
        past = (when < end_of_as_of).to_numpy()
        if name == "contracts":  # a renewal decided on as_of is on file, starting the day after
            next_day = end_of_as_of + pd.Timedelta(days=1)
            past = past | (frame["renewed_from_id"].notna() & (when < next_day)).to_numpy()
        future = (~past & (when < horizon_ts)).to_numpy()
        history = frame[past]
        if history_override is not None:
            history = history_override(history)
        history_views[name] = history
        if name in ("orders", "contracts", "opportunities"):
            future_rows = frame[future]
            if name == "opportunities":
                open_at_as_of = frame[past & (frame["_close_day"] > as_of).to_numpy()]
                future_rows = pd.concat([open_at_as_of, future_rows])
            truth[f"future_{name}"] = future_rows
        else:
            truth[f"future_{name}"] = frame[future]
        if name not in ("contracts", "opportunities"):  # free the unsplit frame early
            split[name] = (frame.iloc[:0], None)
        del frame, when, history
    frames.update(history_views)
    frames["success_stories"] = success_stories_frame(
        cast, signals, contracts, timeline, config, rng["stories"]
    )

    for name in CANONICAL_TABLES:
        tables[name] = _in_schema(frames[name], name)
    for name in list(truth):
        truth[name] = _in_schema(truth[name], name.removeprefix("future_"))

    opp_frame = split["opportunities"][0]
    truth["opportunities_truth"] = (
        opp_frame[
            [
                "id",
                "type",
                "_true_win_probability",
                "_won",
                "_health",
                "_engagement",
                "_amount_rel",
                "_competitor",
            ]
        ]
        .rename(columns=lambda c: c.lstrip("_"))
        .rename(columns={"id": "opportunity_id"})
    )
    truth["opportunities_truth"]["created_after_as_of"] = (
        opp_frame["created_date"] >= end_of_as_of
    ).to_numpy()
    truth["opportunities_truth"]["open_at_as_of"] = (
        (opp_frame["created_date"] < end_of_as_of) & (opp_frame["_close_day"] > as_of)
    ).to_numpy()
    truth["renewals"] = renewals_frame(contracts, split["contracts"][0], timeline)
    truth["accounts"] = truth_accounts(
        cast, contracts, orders, split, truth, catalog, signals, timeline, config
    )
    truth["health"] = pd.DataFrame(
        {
            "account_id": np.repeat(np.arange(1, cast.n + 1), timeline.n_months),
            "month_end": np.tile(to_dates(timeline.month_end), cast.n),
            "health": health.ravel(),
        }
    )
    truth["health"] = truth["health"][truth["health"]["month_end"] < horizon_ts].reset_index(
        drop=True
    )
    truth = {
        k: truth[k]
        for k in (
            "accounts",
            "renewals",
            "opportunities_truth",
            "future_contracts",
            "future_orders",
            "future_opportunities",
            "future_activities",
            "future_tickets",
            "future_nps_responses",
            "future_usage",
            "health",
        )
    }
    params = {
        "config": {
            k: (v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in dataclasses.asdict(config).items()
        },
        "window": {
            "history_start": str(to_dates(np.array([timeline.start]))[0])[:10],
            "as_of": config.as_of.isoformat(),
            "horizon_end": str(to_dates(np.array([horizon_end]))[0])[:10],
        },
        "health": dict(HEALTH),
        "contracts": contract_process.params(),
        "playbooks": playbook_params(),
        "ordering": order_process.params(orders.alpha),
        "opportunities": deals.params,
        "catalog": catalog.params(),
    }
    return DemoCompany(config=config, tables=tables, truth=truth, params=params)
