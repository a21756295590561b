"""Accepting the review's recommended changes to the strategy file as a new strategy version.

:func:`accept_recommendations` recomputes the review of a period (so that what is accepted is
what the evidence says now, not what a form carried), applies the chosen recommendations
(:class:`~tillage.kpi.act.Recommendation`, by ``key``; all of them by default) to the strategy in
force and saves the result as a new version by the admin, with a comment naming the period and
each change. The service behind ``POST /api/v1/reviews/{period}/accept``.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel
from sqlalchemy.orm import Session

from tillage.config import Settings
from tillage.errors import DataValidationError, PermissionDenied
from tillage.i18n import gettext_for
from tillage.kpi.act import Recommendation
from tillage.services.reviews import period_review
from tillage.services.strategy import save_strategy_text, strategy_in_force
from tillage.store.access import AccountFilter, Principal
from tillage.strategy.config import Strategy
from tillage.strategy.config_text import strategy_toml


class AcceptedChanges(BaseModel):
    """The new strategy version and the changes it made."""

    version_id: int
    period: str
    changes: list[Recommendation]


def apply_recommendations(strategy: Strategy, changes: Sequence[Recommendation]) -> Strategy:
    """``strategy`` with each change's ``field`` set to its ``proposed`` value: a playbook's
    effect (``playbooks.<action>.effect``) or a numeric setting of a section
    (``key_person.churn_uplift_if_owner_leaves``); a field that names neither is refused, and
    the result is validated as a strategy file is."""
    data = strategy.model_dump()
    plays = {p["action"]: p for p in data["playbooks"]}
    for change in changes:
        parts = change.field.split(".")
        if len(parts) == 3 and parts[0] == "playbooks" and parts[1] in plays:
            plays[parts[1]][parts[2]] = change.proposed
        elif (
            len(parts) == 2
            and isinstance(data.get(parts[0]), dict)
            and isinstance(data[parts[0]].get(parts[1]), float)
        ):
            data[parts[0]][parts[1]] = change.proposed
        else:
            raise DataValidationError(f"recommendation {change.key}: no field {change.field}")
    return Strategy.model_validate(data)


def accept_recommendations(
    session: Session,
    settings: Settings,
    lang: str,
    principal: Principal,
    visible: AccountFilter,
    period: str,
    *,
    keys: Sequence[str] | None = None,
    client: str | None = None,
) -> AcceptedChanges:
    """Save the review of ``period``'s recommendations ``keys`` (default all) as a new strategy
    version (admins only; an unknown key or a review without recommendations is refused)."""
    if not principal.is_admin:
        raise PermissionDenied("only admins may change the strategy")
    if keys is not None and not keys:
        raise DataValidationError("no recommendation chosen: tick at least one to accept")
    review = period_review(session, settings, lang, principal, visible, period, by=("all",))
    offered = review.act.recommendations if review.act is not None else []
    chosen = offered if keys is None else [r for r in offered if r.key in set(keys)]
    unknown = sorted(set(keys or ()) - {r.key for r in offered})
    if unknown:
        raise DataValidationError(
            f"the review of {review.period} recommends no {', '.join(unknown)}"
        )
    if not chosen:
        raise DataValidationError(f"the review of {review.period} recommends no change")
    current = strategy_in_force(session)
    changed = apply_recommendations(current, chosen)
    _ = gettext_for(lang)
    comment = _("Review of {period}: {changes}").format(
        period=review.period,
        changes="; ".join(
            f"{c.label or c.field} {100 * c.current:.0f}% → {100 * c.proposed:.0f}%" for c in chosen
        ),
    )
    info = save_strategy_text(
        session,
        principal,
        strategy_toml(changed, f"tillage strategy file, changed by the review of {review.period}."),
        comment[:500],
        client=client,
    )
    return AcceptedChanges(version_id=info.id, period=review.period, changes=chosen)
