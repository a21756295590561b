"""The data-quality note: what the stored data cannot support, so what will be blank or assumed.

Computed from the store (so it is always the state after the latest import, whatever its
source) by counting what each later stage needs: contracts for the contract KPIs and the
retention model, owners for the plans, order margins for the margin, activities for the
engagement signals, opportunities for the deal zones, acquisition costs for LTV/CAC. Each note
says what is missing, how much of it (``missing`` of ``total`` rows) and its consequence:
``blank`` (a figure will be left empty) or ``assumed`` (a default from the strategy is used).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, text

Translate = Callable[[str], str]
Effect = Literal["blank", "assumed"]

_COUNTS = {
    "accounts": "SELECT COUNT(*) FROM accounts",
    "owned": "SELECT COUNT(*) FROM accounts WHERE owner_id IS NOT NULL",
    "costed": "SELECT COUNT(*) FROM accounts WHERE acquisition_cost IS NOT NULL",
    "contracts": "SELECT COUNT(*) FROM contracts",
    "orders": "SELECT COUNT(*) FROM orders",
    "margins": "SELECT COUNT(*) FROM orders WHERE margin IS NOT NULL",
    "opportunities": "SELECT COUNT(*) FROM opportunities",
    "activities": "SELECT COUNT(*) FROM activities",
    "tickets": "SELECT COUNT(*) FROM tickets",
    "nps": "SELECT COUNT(*) FROM nps_responses",
    "usage": "SELECT COUNT(*) FROM usage",
}


@dataclass(frozen=True)
class QualityNote:
    """One thing the data cannot support. ``code`` is stable (for the API and tests);
    ``message`` is in the user's language; ``missing`` of ``total`` rows lack it."""

    code: str
    effect: Effect
    message: str
    missing: int
    total: int


def store_counts(connection: Connection) -> dict[str, int]:
    """The row counts the note is made of (one query per count, all cheap)."""
    return {name: int(connection.execute(text(sql)).scalar_one()) for name, sql in _COUNTS.items()}


def quality_notes(counts: dict[str, int], translate: Translate) -> list[QualityNote]:
    """The notes for the store with ``counts`` (see :func:`store_counts`), most severe first."""
    _ = translate
    accounts = counts["accounts"]
    notes: list[QualityNote] = []

    def note(code: str, effect: Effect, message: str, missing: int, total: int) -> None:
        notes.append(QualityNote(code, effect, message, missing, total))

    if accounts == 0:
        note("no_accounts", "blank", _("No accounts: nothing can be scored."), 0, 0)
        return notes
    if counts["contracts"] == 0:
        note(
            "no_contracts",
            "blank",
            _(
                "No contracts: the contract KPIs (renewal rate, GRR, NRR, revenue churn) will "
                "be blank and no contractual retention model is fitted."
            ),
            accounts,
            accounts,
        )
    if counts["orders"] == 0:
        note(
            "no_orders",
            "blank",
            _("No orders: the repeat-purchase part of the LTV is not computed."),
            accounts,
            accounts,
        )
    elif counts["margins"] == 0:
        note(
            "no_margins",
            "assumed",
            _(
                "No order line has a margin: the strategy's margin by product family "
                "(margin_by_family) is used for every order."
            ),
            counts["orders"],
            counts["orders"],
        )
    elif counts["margins"] < counts["orders"]:
        missing = counts["orders"] - counts["margins"]
        note(
            "some_margins",
            "assumed",
            _(
                "{missing} of {total} order lines have no margin: the strategy's margin for "
                "their product family is used for the accounts without any."
            ).format(missing=f"{missing:,}", total=f"{counts['orders']:,}"),
            missing,
            counts["orders"],
        )
    if counts["owned"] == 0:
        note(
            "no_owners",
            "blank",
            _("No account has an owner: no account plans are made (plans share owners' hours)."),
            accounts,
            accounts,
        )
    elif counts["owned"] < accounts:
        missing = accounts - counts["owned"]
        note(
            "some_owners",
            "blank",
            _("{missing} of {total} accounts have no owner: they get no account plan.").format(
                missing=f"{missing:,}", total=f"{accounts:,}"
            ),
            missing,
            accounts,
        )
    if counts["activities"] == 0:
        note(
            "no_activities",
            "blank",
            _(
                "No activities: engagement signals (contact frequency, meeting rate, silent "
                "accounts) are unavailable and key-person dependency cannot be measured."
            ),
            accounts,
            accounts,
        )
    if counts["opportunities"] == 0:
        note(
            "no_opportunities",
            "blank",
            _(
                "No opportunities: deal zones, win probabilities and the proposal KPIs "
                "will be blank."
            ),
            accounts,
            accounts,
        )
    if counts["costed"] == 0:
        note(
            "no_acquisition_costs",
            "blank",
            _("No acquisition costs: LTV/CAC and CAC payback will be blank."),
            accounts,
            accounts,
        )
    for code, table, message in (
        ("no_tickets", "tickets", _("No support tickets: ticket-based churn signals are off.")),
        ("no_nps", "nps", _("No NPS answers: the NPS KPI and detractor signals will be blank.")),
        ("no_usage", "usage", _("No usage data: falling-usage signals are off.")),
    ):
        if counts[table] == 0:
            note(code, "blank", message, accounts, accounts)
    return notes


def data_quality(connection: Connection, translate: Translate) -> list[QualityNote]:
    """The data-quality note of the store behind ``connection``."""
    return quality_notes(store_counts(connection), translate)
