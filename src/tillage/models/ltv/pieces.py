"""Which pieces of the account value could not be fitted, and why (shown beside the values)."""

from __future__ import annotations

import pandas as pd

__all__ = ["not_fitted"]


def not_fitted(
    churn: object,
    purchase: object,
    spend: object,
    buyers: pd.DataFrame,
    min_buyers: int,
    purchase_failure: str | None = None,
) -> dict[str, str]:
    """Piece name → reason, for each of the renewal churn, BG/NBD and Gamma-Gamma models that
    is None (``buyers``: the RFM rows the purchase model would be fitted on;
    ``purchase_failure``: why its fit failed, when it was tried)."""
    out = {}
    if churn is None:
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
