"""Teams, reps, accounts, contacts and account teams: the cast of the synthetic company."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tillage.demo.config import DemoConfig
from tillage.demo.names import DEPARTMENTS, INDUSTRY_WEIGHTS, TITLES, NamePools, industry_labels
from tillage.demo.timeline import Timeline, to_dates

SHARE_CONTRACTUAL = 0.70
SHARE_ORDERER = 0.60  # overall; every account buys one way or the other
SHARE_ACQUIRED_BEFORE_WINDOW = 0.45
SHARE_MULTI_THREADED = 0.70
SHARE_NEGLECTED = 0.15
TEAM_ROLES = ("csm", "solutions_engineer", "specialist")


@dataclass
class Cast:
    """Account-level latent attributes as arrays (index = account id - 1) and the frames."""

    employees: np.ndarray
    size_z: np.ndarray  # standardised log employees
    owner: np.ndarray  # rep index (id - 1)
    acquired_day: np.ndarray  # day number the account became a customer
    start_month: np.ndarray  # first grid month the account's processes run (0 if before window)
    acquired_in_window: np.ndarray
    is_contractual: np.ndarray
    is_orderer: np.ndarray
    multi_threaded: np.ndarray
    neglected: np.ndarray
    contact_start: np.ndarray  # index of the account's first contact
    contact_count: np.ndarray
    contact_is_dm: np.ndarray  # per contact
    member_rep: np.ndarray  # per account-team member row: rep index
    member_account: np.ndarray
    frames: dict[str, pd.DataFrame]

    @property
    def n(self) -> int:
        return len(self.employees)


def build_cast(
    config: DemoConfig, timeline: Timeline, pools: NamePools, rng: np.random.Generator
) -> Cast:
    n = config.n_accounts
    frames: dict[str, pd.DataFrame] = {}

    # --- teams and reps: managers get ids 1..n_teams, reps follow
    team_ids = np.arange(1, config.n_teams + 1)
    team_label = "営業{}課" if config.locale == "ja" else "Sales Team {}"
    frames["teams"] = pd.DataFrame(
        {
            "id": team_ids,
            "key": [f"TEAM-{i:02d}" for i in team_ids],
            "name": [team_label.format(i) for i in team_ids],
        }
    )
    n_people = config.n_teams + config.n_reps
    rep_team = np.concatenate([team_ids, 1 + np.arange(config.n_reps) % config.n_teams])
    names, local = pools.people(rng, n_people, unique=True)
    hired = timeline.start - rng.integers(90, 365 * 10, n_people)
    frames["reps"] = pd.DataFrame(
        {
            "id": np.arange(1, n_people + 1),
            "key": [f"REP-{i:04d}" for i in range(1, n_people + 1)],
            "name": names,
            "email": np.char.add(
                np.char.add(local, np.arange(1, n_people + 1).astype(str)),
                "@tillage-demo.example",
            ),
            "role": np.where(np.arange(n_people) < config.n_teams, "manager", "rep"),
            "team_id": rep_team,
            "manager_id": pd.array(
                np.where(np.arange(n_people) < config.n_teams, 0, rep_team), "Int64"
            ),
            "capacity_hours": np.round(rng.uniform(100, 140, n_people), 0),
            "hourly_cost": np.round(rng.uniform(5000, 9000, n_people), -2),
            "hired_on": to_dates(hired),
            "left_on": np.full(n_people, np.datetime64("NaT"), "datetime64[s]"),
        }
    )
    frames["reps"].loc[: config.n_teams - 1, "manager_id"] = pd.NA

    # --- accounts
    industry = rng.choice(len(INDUSTRY_WEIGHTS), size=n, p=INDUSTRY_WEIGHTS)
    employees = np.clip(np.round(rng.lognormal(np.log(120), 1.3, n)), 5, 200_000).astype(np.int64)
    log_emp = np.log(employees)
    size_z = (log_emp - np.log(120)) / 1.3
    owner = config.n_teams + rng.integers(0, config.n_reps, n)  # rep index of a role=rep person
    before = rng.random(n) < SHARE_ACQUIRED_BEFORE_WINDOW
    acquired = np.where(
        before,
        timeline.start - rng.integers(30, 365 * 8, n),
        rng.integers(timeline.start, timeline.as_of - 30, n),
    )
    start_month = np.maximum(timeline.month_of(acquired), 0)
    is_contractual = rng.random(n) < SHARE_CONTRACTUAL
    p_order_given_contract = (SHARE_ORDERER - (1 - SHARE_CONTRACTUAL)) / SHARE_CONTRACTUAL
    is_orderer = ~is_contractual | (rng.random(n) < p_order_given_contract)
    multi = rng.random(n) < SHARE_MULTI_THREADED * np.clip(0.8 + 0.3 * size_z, 0.3, 1.5)
    neglected = rng.random(n) < SHARE_NEGLECTED
    acq_cost = np.round(300_000 * np.exp(0.45 * size_z) * rng.lognormal(0, 0.4, n), -3)
    labels = np.array(industry_labels(config.locale))
    frames["accounts"] = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "key": _keys("ACC-", np.arange(1, n + 1), 6),
            "name": pools.companies(rng, industry),
            "industry": labels[industry],
            "employees": employees,
            "region": pools.region(rng, n),
            "country": pools.country,
            "owner_id": owner + 1,
            "customer_since": to_dates(acquired),  # first contract or order, fixed below
            "acquisition_cost": np.maximum(acq_cost, 50_000.0),
            "currency": config.currency,
        }
    )

    # --- contacts: 1-8 per account, more at bigger companies
    count = np.clip(np.round(2 + 1.2 * size_z + rng.normal(0, 1.0, n)), 1, 8).astype(np.int64)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    n_contacts = int(count.sum())
    contact_account = np.repeat(np.arange(n), count)
    titles = TITLES[config.locale]
    title_idx = rng.choice(len(titles), size=n_contacts, p=[t[2] for t in titles])
    # the first contact of each account is a decision maker more often (the main sponsor)
    first = np.zeros(n_contacts, bool)
    first[start] = True
    title_idx = np.where(first & (rng.random(n_contacts) < 0.5), 2, title_idx)
    is_dm = np.array([t[1] for t in titles])[title_idx]
    departments = np.array(DEPARTMENTS[config.locale])
    cnames, clocal = pools.people(rng, n_contacts)
    cid = np.arange(1, n_contacts + 1)
    frames["contacts"] = pd.DataFrame(
        {
            "id": cid,
            "key": _keys("CON-", cid, 7),
            "account_id": contact_account + 1,
            "name": cnames,
            "email": np.char.add(
                np.char.add(np.char.add(clocal, "@acc"), (contact_account + 1).astype(str)),
                "." + pools.email_domain,
            ),
            "title": np.array([t[0] for t in titles])[title_idx],
            "department": departments[rng.integers(0, len(departments), n_contacts)],
            "is_decision_maker": is_dm,
        }
    )

    # --- account teams: multi-threaded accounts get 1-3 colleagues of the owner's team
    team_of_rep = rep_team - 1
    reps_by_team = [
        np.flatnonzero((team_of_rep == t) & (np.arange(n_people) >= config.n_teams))
        for t in range(config.n_teams)
    ]
    team_size = np.array([len(r) for r in reps_by_team])
    owner_team = team_of_rep[owner]
    k = np.where(multi, rng.integers(1, 4, n), 0)
    k = np.minimum(k, team_size[owner_team] - 1)
    member_account = np.repeat(np.arange(n), k)
    j = np.arange(len(member_account)) - np.repeat(np.cumsum(k) - k, k)
    sizes = team_size[owner_team][member_account]
    owner_pos = np.zeros(n, np.int64)
    for t in range(config.n_teams):
        pos = np.full(n_people, -1)
        pos[reps_by_team[t]] = np.arange(team_size[t])
        mask = owner_team == t
        owner_pos[mask] = pos[owner[mask]]
    shift = np.repeat(rng.integers(0, np.maximum(team_size[owner_team] - k, 1)), k)
    member_pos = (owner_pos[member_account] + 1 + shift + j) % sizes
    member_rep = np.empty(len(member_account), np.int64)
    member_team = owner_team[member_account]
    for t in range(config.n_teams):
        mask = member_team == t
        member_rep[mask] = reps_by_team[t][member_pos[mask]]
    mid = np.arange(1, len(member_account) + 1)
    frames["account_team_members"] = pd.DataFrame(
        {
            "id": mid,
            "account_id": member_account + 1,
            "rep_id": member_rep + 1,
            "role": np.array(TEAM_ROLES)[rng.integers(0, len(TEAM_ROLES), len(mid))],
        }
    )
    return Cast(
        employees=employees,
        size_z=size_z,
        owner=owner,
        acquired_day=acquired,
        start_month=start_month,
        acquired_in_window=~before,
        is_contractual=is_contractual,
        is_orderer=is_orderer,
        multi_threaded=multi & (k > 0),
        neglected=neglected,
        contact_start=start,
        contact_count=count,
        contact_is_dm=is_dm,
        member_rep=member_rep,
        member_account=member_account,
        frames=frames,
    )


def _keys(prefix: str, ids: np.ndarray, width: int) -> pd.Series:
    """Natural keys like ``ACC-000001`` for integer ids, built in Arrow (fast for 10M rows)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    digits = pc.utf8_lpad(pa.array(np.asarray(ids, np.int64)).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "").to_pandas()
