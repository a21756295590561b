"""Which pieces of the account value could not be fitted, and why (shown beside the values):
:func:`not_fitted` writes the reasons (English, in the snapshot record), :func:`not_fitted_line`
words one in the reader's language."""

from __future__ import annotations

import re

import pandas as pd

from tillage.i18n import check_language, gettext_for
from tillage.models.ltv._columns import column

__all__ = ["not_fitted", "not_fitted_line"]

_FEW_BUYERS = re.compile(r"^(\d+) buyers, (\d+) with repeat orders \(at least (\d+) of each")
_FEW_SPENDERS = re.compile(r"^fewer than (\d+) repeat buyers with positive spend")


def not_fitted(
    churn: object,
    purchase: object,
    spend: object,
    buyers: pd.DataFrame,
    min_buyers: int,
    purchase_failure: str | None = None,
    accounts: pd.DataFrame | None = None,
) -> dict[str, str]:
    """Piece name → reason, for each of the renewal churn, BG/NBD and Gamma-Gamma models that
    is None (``buyers``: the RFM rows the purchase model would be fitted on;
    ``purchase_failure``: why its fit failed, when it was tried). The renewal churn model is
    not named where it has nothing to value: no account in ``accounts`` holds a running
    contract (``mrr`` > 0) and none was ever decided — a company that sells by order alone."""
    out = {}
    holders = accounts is None or bool((column(accounts, "mrr", 0.0) > 0).any())
    if churn is None and holders:
        out["renewal_churn"] = "no renewal decision yet: only the running terms count"
    repeat = int((buyers["frequency"] > 0).sum()) if len(buyers) else 0
    if purchase is None and purchase_failure:
        out["bg_nbd"] = f"{purchase_failure}: no future orders are forecast"
    elif purchase is None:
        out["bg_nbd"] = (
            f"{len(buyers)} buyers, {repeat} with repeat orders (at least {min_buyers} of each "
            "needed): no future orders are forecast"
        )
    elif spend is None:
        out["gamma_gamma"] = (
            f"fewer than {min_buyers} repeat buyers with positive spend: each account's own "
            "mean order value is used"
        )
    return out


def not_fitted_line(piece: str, why: str, lang: str = "en") -> str:
    """``piece`` and its reason ``why`` (one entry of :func:`not_fitted`) as one line in
    ``lang``; a reason this module did not write is kept as given."""
    _ = gettext_for(check_language(lang))
    names = {
        "renewal_churn": _("renewal churn model"),
        "bg_nbd": _("purchase model (BG/NBD)"),
        "gamma_gamma": _("spend model (Gamma-Gamma)"),
    }
    text = why
    few, spend = _FEW_BUYERS.match(why), _FEW_SPENDERS.match(why)
    if piece == "renewal_churn" and why.startswith("no renewal decision yet"):
        text = _("no renewal decision yet: only the running terms count")
    elif piece == "bg_nbd" and few:
        text = _(
            "{buyers} buyers, {repeat} of them with repeat orders (at least {n} of each needed): "
            "no future orders are forecast by it"
        ).format(buyers=few[1], repeat=few[2], n=few[3])
    elif piece == "bg_nbd" and "no proper maximum" in why:
        text = _(
            "the likelihood has no proper maximum on this history (too few customers, repeat "
            "purchases or drop-outs): no future orders are forecast by it"
        )
    elif piece == "gamma_gamma" and spend:
        text = _(
            "fewer than {n} repeat buyers with positive spend: each account's own mean order "
            "value is used"
        ).format(n=spend[1])
    return _("{piece} not fitted: {why}").format(piece=names.get(piece, piece), why=text)
