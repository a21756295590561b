"""The words for the CRM's codes on the dashboard: deal types and stages, activity types,
contract statuses, and the parts of an account's priority and churn risk, in the reader's
language. A code this version does not know (a CRM's own stage name) is shown as it came."""

from __future__ import annotations

from typing import Any

from tillage.i18n import gettext_for
from tillage.services.account360 import PartOut
from tillage.strategy.reasons import reason_text
from tillage.strategy.risk import SIGNALS, render_signals


def deal_type_label(code: str, lang: str) -> str:
    """new / upsell / cross_sell / renewal in ``lang``."""
    _ = gettext_for(lang)
    return {
        "new": _("New business"),
        "upsell": _("Upsell"),
        "cross_sell": _("Cross-sell"),
        "renewal": _("Renewal"),
    }.get(code, code)


def stage_label(stage: str, lang: str) -> str:
    """The usual CRM stage names (Salesforce's defaults) in ``lang``; others unchanged."""
    _ = gettext_for(lang)
    return {
        "prospecting": _("Prospecting"),
        "qualification": _("Qualification"),
        "proposal": _("Proposal"),
        "negotiation": _("Negotiation"),
        "closed won": _("Closed won"),
        "closed lost": _("Closed lost"),
    }.get(stage.strip().lower(), stage)


def activity_label(code: str, lang: str) -> str:
    """meeting / call / email / visit / qbr in ``lang``."""
    _ = gettext_for(lang)
    return {
        "meeting": _("Meeting"),
        "call": _("Call"),
        "email": _("Email"),
        "visit": _("Visit"),
        "qbr": _("Business review (QBR)"),
    }.get(code, code)


def contract_status_label(code: str, lang: str) -> str:
    """active / renewed / churned / expired in ``lang``."""
    _ = gettext_for(lang)
    return {
        "active": _("Active"),
        "renewed": _("Renewed"),
        "churned": _("Cancelled"),
        "expired": _("Expired"),
    }.get(code, code)


def part_text(part: PartOut, kind: str, lang: str, currency: str) -> str:
    """A part of the priority (``kind="priority"``) or of the silent-churn score (``"churn"``)
    in words, with its evidence: "LTV ￥5,976万", "no meeting for 72 days (over 60)"."""
    record: dict[str, Any] = {"code": part.code, **part.evidence}
    try:
        if kind == "churn":
            return render_signals([record], lang) if part.code in SIGNALS else part.code
        return reason_text(record, lang, currency)
    except (ValueError, KeyError, TypeError):
        return part.code


def vocabulary(lang: str, currency: str) -> dict[str, Any]:
    """The label functions above bound to ``lang``, for a template's context."""
    return {
        "deal_type_label": lambda c: deal_type_label(c, lang),
        "stage_label": lambda c: stage_label(c, lang),
        "activity_label": lambda c: activity_label(c, lang),
        "contract_status_label": lambda c: contract_status_label(c, lang),
        "part_text": lambda p, kind: part_text(p, kind, lang, currency),
    }
