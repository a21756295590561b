"""The playbook actions' names in words, Japanese or English (custom actions keep their
identifier): one table for the pages, the plans, the workbook and the review's recommendations."""

from __future__ import annotations

from tillage.i18n import gettext_for


def action_label(code: str, lang: str) -> str:
    """The name of a playbook action in ``lang`` (custom actions keep their identifier)."""
    _ = gettext_for(lang)
    labels = {
        "renewal_preparation": _("Renewal preparation"),
        "health_check": _("Health check"),
        "expansion_proposal": _("Upsell / cross-sell proposal"),
        "multi_threading": _("Multi-threading"),
        "competitive_defence": _("Competitive defence"),
        "executive_sponsor_call": _("Executive sponsor call"),
        "low_touch_nurture": _("Low-touch nurture"),
        "ticket_recovery": _("Critical ticket recovery"),
        "maintain_minimum": _("Minimum maintenance"),
        "reduce_coverage": _("Reduce coverage"),
    }
    return labels.get(code, code)
