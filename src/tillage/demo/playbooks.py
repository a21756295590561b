"""Playbook actions with known true effects, planted before the renewal decisions.

Before each renewal decision (the last day ``d`` of a renewable term) the owner takes each
action ``k`` of :data:`PLAYBOOK_EFFECTS` with probability::

    P(T_k = 1) = expit(a_k + 0.5 * z(log amount) + 0.6 * (log1p(activities) - 1.5))

where ``activities`` counts the account's ordinary activities in the 180 days before the day
after ``d`` (the canonical end date; bigger and more engaged accounts get more attention: the
action is confounded with what drives churn, through what the company can see). A taken action
is one logged activity (a call by the owner with the first contact, subject the action's label)
on a random weekday of ``[max(d - 89, term start), d]``. Its true effect is multiplicative:

* basis ``churn``: ``P(churn) = P₀(churn) × Π_k (1 − effect_k T_k)``, so the relative reduction
  of the churn probability is exactly ``effect_k``;
* basis ``expansion``: ``P(upsell at renewal) = P₀(upsell) × (1 + effect_k T_k)``, the
  relative increase of the chance that a renewal expands.

``executive_sponsor_call`` has no effect at all.
"""

from __future__ import annotations

import numpy as np

from tillage.demo.signals import ACTIVITY_TYPES

#: action → (basis, true effect, propensity intercept a_k).
PLAYBOOK_EFFECTS: dict[str, tuple[str, float, float]] = {
    "renewal_preparation": ("churn", 0.40, -0.2),
    "health_check": ("churn", 0.25, -0.9),
    "executive_sponsor_call": ("churn", 0.0, -0.9),
    "expansion_proposal": ("expansion", 0.50, -0.9),
}
LABELS = {
    "ja": {
        "renewal_preparation": "更新準備の打ち合わせ",
        "health_check": "ヘルスチェック",
        "executive_sponsor_call": "役員面談",
        "expansion_proposal": "拡大提案",
    },
    "en": {
        "renewal_preparation": "Renewal preparation",
        "health_check": "Health check",
        "executive_sponsor_call": "Executive sponsor call",
        "expansion_proposal": "Expansion proposal",
    },
}
CALL = ACTIVITY_TYPES.index("call")
SPAN = 1 << 32  # day numbers stay far below this
ENGAGEMENT_DAYS = 180


class ActivityIndex:
    """Counts of an account's ordinary activities in a window of days before a day."""

    def __init__(self, activities: dict[str, np.ndarray]) -> None:
        self.keys = np.sort(activities["account"].astype(np.int64) * SPAN + activities["day"])

    def before(self, account: np.ndarray, day: np.ndarray, days: int) -> np.ndarray:
        """Activities of ``account`` on days ``[day − days, day)``."""
        base = account.astype(np.int64) * SPAN
        hi = np.searchsorted(self.keys, base + day, side="left")
        lo = np.searchsorted(self.keys, base + day - days, side="left")
        return (hi - lo).astype(float)


def take_actions(
    amount: np.ndarray, engagement: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Which actions are taken before each decision (0/1 per action, see the module doc)."""
    log_amount = np.log(amount)
    z = (log_amount - 12.0) / 0.9
    drive = 0.5 * z + 0.6 * (np.log1p(engagement) - 1.5)
    return {
        action: (rng.random(len(amount)) < 1 / (1 + np.exp(-(a + drive)))).astype(int)
        for action, (_basis, _effect, a) in PLAYBOOK_EFFECTS.items()
    }


def churn_factor(taken: dict[str, np.ndarray]) -> np.ndarray:
    """Π_k (1 − effect_k T_k) over the churn actions."""
    out = np.ones(len(next(iter(taken.values()))))
    for action, (basis, effect, _a) in PLAYBOOK_EFFECTS.items():
        if basis == "churn":
            out *= 1 - effect * taken[action]
    return out


def upsell_factor(taken: dict[str, np.ndarray]) -> np.ndarray:
    """Π_k (1 + effect_k T_k) over the expansion actions."""
    out = np.ones(len(next(iter(taken.values()))))
    for action, (basis, effect, _a) in PLAYBOOK_EFFECTS.items():
        if basis == "expansion":
            out *= 1 + effect * taken[action]
    return out


def action_activities(
    decisions: list[dict[str, np.ndarray]],
    owner: np.ndarray,
    contact_start: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """One activity per taken action: account, day, sec, kind (call), rep, contact, minutes and
    ``action`` (the index in :data:`PLAYBOOK_EFFECTS`)."""
    parts = []
    for d in decisions:
        for j, action in enumerate(PLAYBOOK_EFFECTS):
            hit = d["taken_" + action].astype(bool)
            first = np.maximum(d["decision_day"][hit] - 89, d["term_start"][hit])
            span = d["decision_day"][hit] - first + 1
            day = first + np.floor(rng.random(hit.sum()) * span).astype(np.int64)
            # on a weekday: a weekend day moves to the Friday before (the Monday after when the
            # term began on that weekend)
            back = np.busday_offset(day.astype("datetime64[D]"), 0, roll="backward")
            ahead = np.busday_offset(day.astype("datetime64[D]"), 0, roll="forward")
            day = np.where(back.astype(np.int64) >= first, back, ahead).astype(np.int64)
            parts.append((d["account"][hit], day, np.full(hit.sum(), j), d["decision_day"][hit]))
    account = np.concatenate([p[0] for p in parts]).astype(np.int64)
    day = np.concatenate([p[1] for p in parts]).astype(np.int64)
    k = len(account)
    return {
        "account": account,
        "day": day,
        "sec": day * 86400 + 10 * 3600 + 900 * rng.integers(0, 28, k),
        "kind": np.full(k, CALL),
        "rep": owner[account],
        "contact": contact_start[account],
        "minutes": np.round(rng.uniform(30, 60, k)),
        "action": np.concatenate([p[2] for p in parts]).astype(np.int64),
        "decision_day": np.concatenate([p[3] for p in parts]).astype(np.int64),
    }


def with_actions(
    activities: dict[str, np.ndarray], actions: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The ordinary activities (``action`` −1) followed by the planted ones.

    A planted action names neither rep nor contact (−1, stored empty, as activities logged by a
    task or marketing tool often are), so that planting it leaves the single-threaded signal (at
    most one distinct contact and rep in a renewal's window) as the generator drew it: any rep
    or contact would change it in some window (the overlapping windows of monthly terms, the
    colleagues of an account team)."""
    ordinary = {**activities, "action": np.full(len(activities["account"]), -1, np.int64)}
    planted = dict(actions)
    none = np.full(len(planted["account"]), -1, np.int64)
    planted["rep"], planted["contact"] = none, none.copy()
    return {k: np.concatenate([ordinary[k], planted[k]]) for k in ordinary}


def subjects(locale: str) -> tuple[str, ...]:
    """The planted actions' subjects in :data:`PLAYBOOK_EFFECTS` order."""
    return tuple(LABELS[locale][a] for a in PLAYBOOK_EFFECTS)


def params() -> dict:
    return {
        "model": "P(churn) x prod(1 - effect * taken) for churn actions; P(upsell) x "
        "prod(1 + effect * taken) for expansion actions; taken ~ Bernoulli(expit(a + 0.5 z(log "
        "amount) + 0.6 (log1p(activities in the 180 days before the end date) - 1.5)))",
        "effects": {
            a: {"basis": b, "effect": e, "intercept": i}
            for a, (b, e, i) in PLAYBOOK_EFFECTS.items()
        },
    }
