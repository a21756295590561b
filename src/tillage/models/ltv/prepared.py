"""The parameter-free inputs of an account-value evaluation, prepared once per frame.

:meth:`~tillage.models.account_ltv.AccountLTV.predict` evaluates the value at the point
estimate and at every bootstrap draw (200 by default). Everything that depends on the frame
alone — the contract holders, their decision counts and expected covariates, the past renewal
decisions, the buyers' quadrature nodes, the margin rates and the cost to serve per month — is
read here once, so that each draw is array arithmetic over all accounts at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from tillage.models.ltv._columns import column
from tillage.models.ltv.contracts import ContractInputs, contract_inputs
from tillage.models.ltv.margins import margin_rates
from tillage.models.ltv.orders import BetaNodes, OrderInputs, order_inputs
from tillage.models.renewal_churn import RenewalChurnModel

__all__ = ["Prepared", "prepare"]


@dataclass
class Prepared:
    """The inputs shared by the point estimate and every draw of one frame."""

    contracts: ContractInputs
    orders: OrderInputs
    rates: dict[str, NDArray[np.float64]]
    cost: NDArray[np.float64]  # cost to serve per month while active (currency / month)
    holder: NDArray[np.bool_]
    frame: pd.DataFrame


def prepare(
    frame: pd.DataFrame,
    history: pd.DataFrame | None,
    mix: pd.DataFrame | None,
    *,
    churn_model: RenewalChurnModel | None,
    nodes: BetaNodes | None,
    covariates: Sequence[str],
    horizon_months: int,
    uplift: pd.Series,
    uplift_by: str,
    drift: pd.DataFrame | None,
    period_days: float,
    margin_by_family: Mapping[str, float] | None,
    margin_rate: float,
    hourly_cost: float,
) -> Prepared:
    """The inputs of ``frame`` (see :class:`~tillage.models.account_ltv.AccountLTV` for the
    arguments). The cost to serve per month is ``service_hours_per_month`` (clipped at 0) ×
    ``hourly_cost`` (the frame's column, else the setting)."""
    return Prepared(
        contracts=contract_inputs(
            frame,
            churn_model,
            history,
            covariates=covariates,
            horizon_months=horizon_months,
            uplift=uplift,
            uplift_by=uplift_by,
            drift=drift,
        ),
        orders=order_inputs(frame, nodes, horizon_months=horizon_months, period_days=period_days),
        rates=margin_rates(frame, mix, margin_by_family, margin_rate),
        cost=np.clip(column(frame, "service_hours_per_month", 0.0), 0.0, None)
        * column(frame, "hourly_cost", hourly_cost),
        holder=column(frame, "mrr", 0.0) > 0,
        frame=frame,
    )
