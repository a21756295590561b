"""The playbook actions' names in words, Japanese or English (custom actions keep their
identifier): one table for the plans, the workbook and the review's recommendations."""

from __future__ import annotations

from tillage.i18n import gettext_for


def action_label(code: str, lang: str) -> str:
    """The name of a playbook action in ``lang`` (custom actions keep their identifier)."""
    _ = gettext_for(lang)
    labels = {
        "renewal_preparation": _("renewal preparation"),
        "health_check": _("health check"),
        "expansion_proposal": _("upsell / cross-sell proposal"),
        "multi_threading": _("multi-threading"),
        "competitive_defence": _("competitive defence"),
        "executive_sponsor_call": _("executive sponsor call"),
        "low_touch_nurture": _("low-touch nurture"),
        "reduce_coverage": _("reduce coverage"),
    }
    return labels.get(code, code)
