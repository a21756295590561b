"""Latent account health and the signals it drives: usage, tickets, NPS and rep activities.

Health ``h[i, t]`` is an AR(1) process per account ``i`` and grid month ``t``::

    h[i, t] = mu[i] + phi * (h[i, t-1] - mu[i]) + sigma * eps,   mu[i] ~ N(-0.3 * neglected, s_mu)

Low health lowers usage and NPS, raises the ticket rate and the chance a ticket gets stuck, and
(a little) lowers the rep's contact frequency. Every signal is generated as NumPy event arrays
(account index, day number, ...) over the whole grid, history and horizon alike; the contract
process later reads the covariate panels computed here, and rows after a churn are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tillage.demo.entities import Cast
from tillage.demo.timeline import Timeline

HEALTH = {"phi": 0.8, "sigma": 0.45, "mu_sd": 0.6, "neglected_shift": -0.3}
ACTIVITY_TYPES = ("meeting", "call", "email", "visit", "qbr")
MEETING_TYPES = ("meeting", "visit", "qbr")  # what counts as a meeting for the silence covariate
ACTIVITY_MINUTES = (60.0, 15.0, 5.0, 90.0, 120.0)
WINDOW_MONTHS = 6  # "last 180 days" = the renewal month and the 5 before it
UNRESOLVED_DAYS = 30
SILENCE_DAYS = 90
USAGE_METRICS = ("active_users", "logins")


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Signals:
    health: np.ndarray  # (A, T)
    usage: dict[str, np.ndarray]  # account, month, active_users, logins
    tickets: dict[str, np.ndarray]
    nps: dict[str, np.ndarray]
    activities: dict[str, np.ndarray]
    panels: dict[str, np.ndarray]  # covariates at each month end, shape (A, T)


def simulate_health(cast: Cast, n_months: int, rng: np.random.Generator) -> np.ndarray:
    n = cast.n
    mu = rng.normal(0, HEALTH["mu_sd"], n) + HEALTH["neglected_shift"] * cast.neglected
    phi, sigma = HEALTH["phi"], HEALTH["sigma"]
    h = np.empty((n, n_months))
    h[:, 0] = mu + rng.normal(0, sigma / np.sqrt(1 - phi**2), n)
    eps = rng.normal(0, sigma, (n, n_months))
    for t in range(1, n_months):
        h[:, t] = mu + phi * (h[:, t - 1] - mu) + eps[:, t]
    return h


def _cells(rate: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Poisson counts per (account, month) cell expanded to one (account, month) pair per event."""
    counts = rng.poisson(rate)
    flat = np.repeat(np.arange(counts.size), counts.ravel())
    return np.divmod(flat, rate.shape[1])


def simulate_signals(
    cast: Cast, timeline: Timeline, health: np.ndarray, rng: np.random.Generator
) -> Signals:
    n, t_max = health.shape
    month = np.arange(t_max)
    customer = month[None, :] >= cast.start_month[:, None]

    # --- usage: monthly rows at month end for contract holders
    seats = np.clip(np.round(cast.employees * rng.uniform(0.1, 0.5, n)), 3, 50_000)
    use_mask = customer & cast.is_contractual[:, None]
    ua, um = np.nonzero(use_mask)
    share = _expit(0.6 + 1.6 * health[ua, um] + rng.normal(0, 0.08, len(ua)))
    active = np.maximum(np.round(seats[ua] * share), 1.0)
    logins = np.round(active * 18 * np.exp(0.3 * health[ua, um] + rng.normal(0, 0.15, len(ua))))
    usage = {"account": ua, "month": um, "active_users": active, "logins": logins}

    # --- tickets: more in ill health and at bigger companies; some get stuck for months
    rate = 0.12 * np.exp(0.3 * cast.size_z[:, None] - 0.9 * health) * customer
    ta, tm = _cells(rate, rng)
    k = len(ta)
    opened_day = timeline.random_business_day(rng, tm)
    opened_sec = rng.integers(9 * 3600, 18 * 3600, k)
    h_t = health[ta, tm]
    stuck = rng.random(k) < _expit(-2.2 - 1.2 * h_t)
    days_open = np.where(
        stuck, rng.uniform(35, 300, k), rng.lognormal(np.log(3.0) - 0.2 * h_t, 0.9, k)
    )
    closed_sec_total = opened_day * 86400 + opened_sec + np.round(days_open * 86400)
    severity = rng.choice(4, size=k, p=[0.05, 0.2, 0.45, 0.3]) + 1
    rated = rng.random(k) < 0.6
    satisfaction = np.clip(
        np.round(3.7 + 0.6 * h_t - 0.5 * np.log1p(days_open / 7) + rng.normal(0, 0.7, k)), 1, 5
    )
    tickets = {
        "account": ta,
        "day": opened_day,
        "opened_sec": opened_day * 86400 + opened_sec,
        "closed_sec": closed_sec_total.astype(np.int64),
        "severity": severity,
        "satisfaction": np.where(rated, satisfaction, np.nan),
        "contact": cast.contact_start[ta]
        + np.floor(rng.random(k) * cast.contact_count[ta]).astype(np.int64),
    }

    # --- NPS: two survey waves a year per account, each contact answers with probability 0.35
    phase = rng.integers(0, 6, n)
    wave = customer & (((month[None, :] + phase[:, None]) % 6) == 0)
    wa, wm = np.nonzero(wave)
    responders = rng.binomial(cast.contact_count[wa], 0.35)
    na = np.repeat(wa, responders)
    nm = np.repeat(wm, responders)
    j = np.arange(len(na)) - np.repeat(np.cumsum(responders) - responders, responders)
    shift = np.repeat(rng.integers(0, cast.contact_count[wa]), responders)
    contact = cast.contact_start[na] + (shift + j) % cast.contact_count[na]
    wave_day = np.repeat(timeline.random_business_day(rng, wm), responders)
    answer_day = np.minimum(wave_day + rng.integers(0, 10, len(na)), timeline.month_end[nm])
    score = np.clip(np.round(7.6 + 1.8 * health[na, nm] + rng.normal(0, 1.2, len(na))), 0, 10)
    nps = {"account": na, "day": answer_day, "contact": contact, "score": score.astype(np.int64)}

    # --- activities: frequency by account size and health; neglected accounts fall silent
    engaged = month[None, :] >= np.maximum(cast.start_month - 2, 0)[:, None]
    multiplier = np.where(cast.neglected, 0.12, 1.0) * np.where(cast.multi_threaded, 1.3, 1.0)
    act_rate = (
        1.6 * np.exp(0.35 * cast.size_z[:, None] + 0.3 * health) * multiplier[:, None] * engaged
    )
    aa, am = _cells(act_rate, rng)
    k = len(aa)
    kind = rng.choice(len(ACTIVITY_TYPES), size=k, p=[0.25, 0.25, 0.35, 0.10, 0.05])
    qbr = ACTIVITY_TYPES.index("qbr")
    kind = np.where((kind == qbr) & ~(cast.multi_threaded[aa] & (cast.size_z[aa] > 0)), 0, kind)
    day = timeline.random_business_day(rng, am)
    seconds = 9 * 3600 + 900 * rng.integers(0, 36, k)
    n_members = np.bincount(cast.member_account, minlength=n)
    member_start = np.concatenate([[0], np.cumsum(n_members)[:-1]])
    use_member = cast.multi_threaded[aa] & (rng.random(k) < 0.45) & (n_members[aa] > 0)
    member_idx = member_start[aa] + np.floor(rng.random(k) * np.maximum(n_members[aa], 1)).astype(
        np.int64
    )
    # a colleague from the account team logs the activity, when the account has one (with one
    # rep per team there are no account teams at all, and member_rep is empty)
    rep = cast.owner[aa].copy()
    rep[use_member] = cast.member_rep[member_idx[use_member]]
    contact = np.where(
        cast.multi_threaded[aa],
        cast.contact_start[aa] + np.floor(rng.random(k) * cast.contact_count[aa]).astype(np.int64),
        cast.contact_start[aa],
    )
    minutes = np.array(ACTIVITY_MINUTES)[kind] * rng.uniform(0.5, 1.5, k)
    activities = {
        "account": aa,
        "day": day,
        "sec": day * 86400 + seconds,
        "kind": kind,
        "rep": rep,
        "contact": contact,
        "minutes": np.round(minutes),
    }
    signals = Signals(health, usage, tickets, nps, activities, {})
    signals.panels = covariate_panels(signals, timeline, n)
    return signals


def _ffill_index(valid: np.ndarray) -> np.ndarray:
    """For each cell, the column index of the latest valid cell at or before it (-1 if none)."""
    idx = np.where(valid, np.arange(valid.shape[1])[None, :], -1)
    return np.maximum.accumulate(idx, axis=1)


def covariate_panels(signals: Signals, timeline: Timeline, n: int) -> dict[str, np.ndarray]:
    """The renewal covariates as observable at each month end (see ``COVARIATES``)."""
    t_max = timeline.n_months
    ends = timeline.month_end

    # usage trend: mean active users of the last 3 month ends vs the 3 before
    users = np.full((n, t_max), np.nan)
    users[signals.usage["account"], signals.usage["month"]] = signals.usage["active_users"]
    last3 = np.full((n, t_max), np.nan)
    prev3 = np.full((n, t_max), np.nan)
    for m in range(5, t_max):
        last3[:, m] = users[:, m - 2 : m + 1].mean(axis=1)
        prev3[:, m] = users[:, m - 5 : m - 2].mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        trend = last3 / prev3 - 1.0
    usage_decline = np.nan_to_num(trend, nan=0.0) < -0.15

    # tickets opened >= 30 days before the month end and not closed by it
    tk = signals.tickets
    closed_day = tk["closed_sec"] // 86400
    first = np.searchsorted(ends, tk["day"] + UNRESOLVED_DAYS, side="left")
    last = np.searchsorted(ends, closed_day, side="left") - 1  # month ends < closed day
    keep = first <= last
    diff = np.zeros((n, t_max + 1))
    np.add.at(diff, (tk["account"][keep], first[keep]), 1)
    np.add.at(diff, (tk["account"][keep], np.minimum(last[keep] + 1, t_max)), -1)
    unresolved = np.cumsum(diff, axis=1)[:, :t_max]

    # latest NPS response (by date, then id order = date, account, contact) on or before month end
    nps = signals.nps
    order = np.lexsort((nps["contact"], nps["day"], nps["account"]))
    acc, month = nps["account"][order], timeline.month_of(nps["day"][order])
    latest = np.full((n, t_max), np.nan)
    latest[acc, month] = nps["score"][order]  # later assignments win: the latest in the month
    fill = _ffill_index(~np.isnan(latest))
    latest_score = np.where(fill >= 0, np.take_along_axis(latest, np.maximum(fill, 0), 1), np.nan)
    detractor = np.nan_to_num(latest_score, nan=99) <= 6

    # days since the last meeting / visit / QBR
    act = signals.activities
    meeting_kinds = [ACTIVITY_TYPES.index(t) for t in MEETING_TYPES]
    is_meeting = np.isin(act["kind"], meeting_kinds)
    last_meeting = np.full((n, t_max), -1, np.int64)
    am = timeline.month_of(act["day"])
    np.maximum.at(
        last_meeting, (act["account"][is_meeting], am[is_meeting]), act["day"][is_meeting]
    )
    last_meeting = np.maximum.accumulate(last_meeting, axis=1)
    days_since = np.where(last_meeting >= 0, ends[None, :] - last_meeting, 10_000)
    silence = days_since > SILENCE_DAYS

    # single-threaded: at most one distinct contact and one distinct rep in the last 6 months
    big = np.iinfo(np.int64).max
    cmin = np.full((n, t_max), big)
    cmax = np.full((n, t_max), -1)
    rmin = np.full((n, t_max), big)
    rmax = np.full((n, t_max), -1)
    np.minimum.at(cmin, (act["account"], am), act["contact"])
    np.maximum.at(cmax, (act["account"], am), act["contact"])
    np.minimum.at(rmin, (act["account"], am), act["rep"])
    np.maximum.at(rmax, (act["account"], am), act["rep"])
    wcmin, wcmax, wrmin, wrmax = cmin.copy(), cmax.copy(), rmin.copy(), rmax.copy()
    for s in range(1, WINDOW_MONTHS):
        wcmin[:, s:] = np.minimum(wcmin[:, s:], cmin[:, :-s])
        wcmax[:, s:] = np.maximum(wcmax[:, s:], cmax[:, :-s])
        wrmin[:, s:] = np.minimum(wrmin[:, s:], rmin[:, :-s])
        wrmax[:, s:] = np.maximum(wrmax[:, s:], rmax[:, :-s])
    single = (wcmax <= wcmin) & (wrmax <= wrmin)
    return {
        "usage_trend": trend,
        "usage_decline": usage_decline,
        "unresolved_tickets": unresolved,
        "latest_nps": latest_score,
        "detractor": detractor,
        "days_since_meeting": days_since,
        "silence": silence,
        "single_threaded": single,
    }
