"""The portfolio, the account plans and snapshot diffs as rich tables and as flat frames (CSV).

Each ``*_table`` function returns a :class:`rich.table.Table` in the user's language; each
``*_rows`` function returns the same content as a pandas frame with stable English column
names and values rendered in the language (segment names, actions, reasons), for CSV and Excel.
Amounts are in company currency, hours in hours.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
from rich.table import Table

from tillage.i18n import format_money, format_number, gettext_for
from tillage.report.terminal import Col, fitted_table, is_narrow, money
from tillage.services.accounts import CellOut
from tillage.store.diffs import NONE
from tillage.strategy.action_labels import action_label
from tillage.strategy.priority import render_reasons

SEGMENTS = ("deepen", "maintain", "nurture", "reduce")
ZONES = ("A", "B", "C")


def segment_label(code: str, lang: str) -> str:
    """The name of a value × growth cell in ``lang``."""
    _ = gettext_for(lang)
    labels = {
        "deepen": _("deepen"),
        "maintain": _("maintain"),
        "nurture": _("nurture"),
        "reduce": _("reduce"),
        NONE: _("(not scored)"),
    }
    return labels.get(code, code)


def _reasons_text(reasons: object, lang: str, currency: str) -> str:
    return render_reasons(reasons, lang, currency) if isinstance(reasons, list) else ""


def _percent(value: float, lang: str) -> str:
    return f"{format_number(100 * value, lang, digits=1)}%"


# --- portfolio ------------------------------------------------------------------------------


def zone_totals(deals: pd.DataFrame) -> pd.DataFrame:
    """Per deal zone A / B / C: ``deals``, ``amount``, ``expected_value`` and ``borderline``."""
    grouped = deals.assign(borderline=deals["borderline"].fillna(False).astype(bool))
    out = grouped.groupby("zone").agg(
        deals=("opportunity_id", "size"),
        amount=("amount", "sum"),
        expected_value=("expected_value", "sum"),
        borderline=("borderline", "sum"),
    )
    return out.reindex([z for z in ZONES if z in out.index])


def portfolio_tables(
    cells: Sequence[CellOut], deals: pd.DataFrame, currency: str, lang: str
) -> list[Table]:
    """Value × growth cells (accounts, total LTV, borderline; the cells of
    :func:`tillage.services.accounts.segment_cells`, the page's and the API's) and deal zones."""
    _ = gettext_for(lang)
    segment_cells = list(cells)
    table = Table(title=_("Portfolio: value today × growth potential"))
    for header in (_("Cell"), _("Accounts"), _("Total LTV"), _("Borderline")):
        table.add_column(header, justify="left" if header == _("Cell") else "right")
    for cell in segment_cells:
        table.add_row(
            segment_label(cell.key, lang),
            format_number(cell.accounts, lang),
            format_money(cell.total_ltv, currency, lang),
            format_number(cell.borderline, lang),
        )
    table.add_section()
    table.add_row(
        _("Total"),
        format_number(sum(c.accounts for c in segment_cells), lang),
        format_money(sum(c.total_ltv for c in segment_cells), currency, lang),
        format_number(sum(c.borderline for c in segment_cells), lang),
    )
    zones = Table(title=_("Open deals: deal size × win probability"))
    for header in (_("Zone"), _("Deals"), _("Amount"), _("Expected value"), _("Borderline")):
        zones.add_column(header, justify="left" if header == _("Zone") else "right")
    for code, row in zone_totals(deals).iterrows():
        zones.add_row(
            str(code),
            format_number(row["deals"], lang),
            format_money(row["amount"], currency, lang),
            format_money(row["expected_value"], currency, lang),
            format_number(row["borderline"], lang),
        )
    return [table, zones]


def portfolio_rows(accounts: pd.DataFrame, currency: str, lang: str) -> pd.DataFrame:
    """The accounts of the portfolio, one row each, for CSV and Excel."""
    out = accounts.drop(columns=["reasons"]).copy()
    out.insert(out.columns.get_loc("segment") + 1, "segment_label", "")
    out["segment_label"] = [segment_label(s, lang) for s in accounts["segment"].fillna("")]
    out["reasons"] = [_reasons_text(r, lang, currency) for r in accounts["reasons"]]
    return out


# --- plans ----------------------------------------------------------------------------------


def plan_rows(plan: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The planned actions, one row each, for CSV and Excel (products as names)."""
    out = plan.copy()
    out["action_label"] = [action_label(a, lang) for a in plan["action"]]
    out["products"] = [
        ", ".join(p["name"] for p in products) if isinstance(products, list) else ""
        for products in plan["products"]
    ]
    return out


def plan_tables(
    plan: pd.DataFrame,
    record: dict,
    currency: str,
    lang: str,
    *,
    rep_id: int | None = None,
    width: int | None = None,
) -> list[Table]:
    """Hours used against capacity and uplift per rep, the plan against the naive one, and the
    actions; fitted to a terminal ``width`` columns wide
    (:func:`~tillage.report.terminal.fitted_table`)."""
    _ = gettext_for(lang)
    reps = record.get("reps", {})
    names = plan.drop_duplicates("rep_id").set_index("rep_id")["rep"].to_dict()
    per_rep = [
        (
            str(names.get(int(key), key)),
            format_number(row["planned_hours"], lang, digits=1),
            format_number(row["capacity_hours"], lang, digits=1),
            money(row["uplift"], currency, lang, width),
            money(row["naive_uplift"], currency, lang, width),
        )
        for key, row in reps.items()
        if (rep_id is None or int(key) == rep_id) and int(key) in names
    ]
    summary = fitted_table(
        (
            Col(_("Rep"), name=True),
            Col(_("Hours planned"), "right"),
            Col(_("Hours available"), "right"),
            Col(_("Expected uplift"), "right"),
            Col(_("Naive allocation"), "right"),
        ),
        per_rep,
        width,
        title=_("Hours and expected uplift per rep"),
    )
    overall = Table(title=_("The plan against the naive allocation"), show_header=False)
    overall.add_column()
    overall.add_column(justify="right")
    overall.add_row(_("Expected uplift"), format_money(record.get("uplift", 0.0), currency, lang))
    overall.add_row(
        _("Naive allocation (largest revenue first)"),
        format_money(record.get("naive_uplift", 0.0), currency, lang),
    )
    overall.add_row(_("Optimality gap (LP bound)"), _percent(record.get("gap", 0.0), lang))
    effects = record.get("effects") or {}
    rows = [
        (
            str(row.rep or ""),
            str(row.account),
            row.action_label,
            format_number(row.hours, lang, digits=1),
            money(row.expected_uplift, currency, lang, width),
            "✓" if row.must_do else "",
            _effect_label(effects.get(row.action), lang),
            row.products,
        )
        for row in plan_rows(plan, lang).itertuples(index=False)
    ]
    actions = fitted_table(
        (
            Col(_("Rep"), name=True, drop=rep_id is not None),
            Col(_("Account"), name=True),
            Col(_("Action"), name=True),
            Col(_("Hours"), "right"),
            Col(_("Expected uplift"), "right"),
            Col(_("Must do"), drop=True),
            Col(_("Effect"), drop=True),
            Col(_("Products"), drop=True),
        ),
        rows,
        width,
        title=_("Planned actions"),
    )
    tables = [summary, overall, actions] if rep_id is None else [summary, actions]
    return [*tables, effect_table(effects, lang, width)] if effects else tables


def _effect_label(found: dict | None, lang: str) -> str:
    """``learned 12%`` / ``assumed 30%`` (the effect the plan used and where it comes from)."""
    _ = gettext_for(lang)
    if not found:
        return _("assumed")
    word = _("learned") if found.get("source") == "learned" else _("assumed")
    return f"{word} {_percent(found.get('effect', 0.0), lang)}"


def effect_table(effects: dict, lang: str, width: int | None = None) -> Table:
    """Per action: the effect the plan used, learned or assumed, the assumption, the estimate
    from the history with its interval, and why (cut on one line in a narrow terminal)."""
    _ = gettext_for(lang)
    rows = []
    for action, found in effects.items():
        estimate, low, high = found.get("estimate"), found.get("low"), found.get("high")
        rows.append(
            (
                action_label(action, lang),
                _effect_label(found, lang),
                _percent(found.get("assumed", 0.0), lang),
                "—" if estimate is None else _percent(estimate, lang),
                "—" if low is None else f"{_percent(low, lang)} … {_percent(high, lang)}",
                _evidence(found, lang),
            )
        )
    return fitted_table(
        (
            Col(_("Action"), name=True),
            Col(_("Effect used"), "right"),
            Col(_("Assumed"), "right", drop=True),
            Col(_("Estimate"), "right"),
            Col(_("Interval"), "right", drop=True),
            Col(_("Evidence"), name=True),
        ),
        rows,
        width,
        title=_("Action effects: learned from the history or assumed"),
    )


def _evidence(found: dict, lang: str) -> str:
    """Why an effect is learned or assumed, in the reader's language."""
    _ = gettext_for(lang)
    treated, decisions = int(found.get("treated") or 0), int(found.get("decisions") or 0)
    if found.get("estimate") is None:
        if decisions == 0 and treated == 0:
            return _("no renewal decision with this action on file")
        return _("{treated} of {decisions} renewal decisions with the action: too few").format(
            treated=treated, decisions=decisions
        )
    text = _("{treated} of {decisions} renewal decisions with the action").format(
        treated=treated, decisions=decisions
    )
    if found.get("source") != "learned":
        text += _("; too uncertain to replace the assumption (standard error {se})").format(
            se=_percent(float(found.get("se") or 0.0), lang)
        )
    return text


# --- diffs ----------------------------------------------------------------------------------


def matrix_table(
    matrix: pd.DataFrame,
    title: str,
    label: Callable[[str], str],
    currency: str,
    lang: str,
    width: int | None = None,
) -> Table:
    """A migration matrix: rows = cell in A, columns = cell in B; ``accounts (LTV)`` per cell
    (accounts only in a narrow terminal, ``width`` columns: the CSV keeps the LTV)."""
    _ = gettext_for(lang)
    narrow = is_narrow(width)
    rows = sorted(set(matrix["from"]), key=_order)
    cols = sorted(set(matrix["to"]), key=_order)
    cells = matrix.set_index(["from", "to"])
    body = []
    for row in rows:
        values = []
        for col in cols:
            if (row, col) in cells.index:
                n, ltv = cells.loc[(row, col), ["accounts", "ltv"]]
                amount = format_money(ltv, currency, lang, compact=True)
                values.append(
                    format_number(n, lang) if narrow else f"{format_number(n, lang)} ({amount})"
                )
            else:
                values.append("")
        total = matrix.loc[matrix["from"] == row, "accounts"].sum()
        body.append((label(row), *values, format_number(total, lang)))
    sums = [format_number(matrix.loc[matrix["to"] == c, "accounts"].sum(), lang) for c in cols]
    columns = (
        Col(_("from \\ to"), name=True),
        *(Col(label(c), "right") for c in cols),
        Col(_("Total"), "right"),
    )
    table = fitted_table(columns, body, width, title=title)
    table.add_section()
    table.add_row(_("Total"), *sums, format_number(matrix["accounts"].sum(), lang))
    return table


def _order(code: str) -> tuple[int, str]:
    known = [*SEGMENTS, *ZONES]
    return (known.index(code) if code in known else len(known), code)


def drivers_text(row: pd.Series, currency: str, lang: str) -> str:
    """Why an account moved, in words: the axes that crossed their threshold, then the priority
    reasons that appeared (+) or went away (−)."""
    _ = gettext_for(lang)
    names = {"value": _("LTV"), "growth": _("expansion potential")}
    parts = []
    for d in row["drivers"]:
        parts.append(
            _("{what} {before} → {after} (threshold {threshold})").format(
                what=names[d["code"]],
                before=format_money(d["from"], currency, lang, compact=True),
                after=format_money(d["to"], currency, lang, compact=True),
                threshold=format_money(d["threshold_b"], currency, lang, compact=True),
            )
        )
    reasons = reason_labels(lang)
    parts += [f"+{reasons.get(c, c)}" for c in row["reasons_added"]]
    parts += [f"−{reasons.get(c, c)}" for c in row["reasons_dropped"]]
    return " · ".join(parts)


def reason_labels(lang: str) -> dict[str, str]:
    """Short names of the priority components in ``lang``."""
    _ = gettext_for(lang)
    return {
        "value": _("value"),
        "growth": _("growth"),
        "churn_risk": _("churn risk"),
        "renewal": _("renewal"),
        "competition": _("competitor"),
        "silence": _("silence"),
        "usage_decline": _("usage decline"),
    }


def moved_rows(moved: pd.DataFrame, currency: str, lang: str, by: str = "segment") -> pd.DataFrame:
    """The accounts that changed cell, with their LTV in both snapshots and why, for CSV."""
    label = segment_label if by == "segment" else (lambda code, _lang: code)
    return pd.DataFrame(
        {
            "account_id": moved.index,
            "key": moved["key"].to_numpy(),
            "name": moved["name"].to_numpy(),
            "from": [label(c, lang) for c in moved[f"{by}_a"]],
            "to": [label(c, lang) for c in moved[f"{by}_b"]],
            "ltv_a": moved["ltv_a"].to_numpy(),
            "ltv_b": moved["ltv_b"].to_numpy(),
            "why": [drivers_text(r, currency, lang) for _i, r in moved.iterrows()],
        }
    )


def moved_table(
    moved: pd.DataFrame, currency: str, lang: str, *, limit: int = 20, width: int | None = None
) -> Table:
    """The accounts that moved, largest LTV first, with why (cut on one line in a narrow
    terminal: the CSV of ``tillage diff`` keeps it whole)."""
    _ = gettext_for(lang)
    rows = moved_rows(moved, currency, lang)
    rows = rows.sort_values("ltv_b", ascending=False, na_position="last").head(limit)
    cells = [
        (
            str(row.name),
            row[3],
            row[4],
            money(row.ltv_b if pd.notna(row.ltv_b) else row.ltv_a, currency, lang, width),
            row.why,
        )
        for row in rows.itertuples(index=False)
    ]
    return fitted_table(
        (
            Col(_("Account"), name=True),
            Col(_("From")),
            Col(_("To")),
            Col(_("LTV"), "right"),
            Col(_("Why"), name=True),
        ),
        cells,
        width,
        title=_("Accounts that moved (largest LTV first)"),
    )
