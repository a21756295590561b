r"""Customer lifetime value over a finite horizon from a purchase model and a spend model.

For a customer with history ``(x, t_x, T)``, a repeat-purchase model (BG/NBD or Pareto/NBD) gives
the expected number of purchases in ``(T, T + k]``, :math:`E[Y(k)]`; a spend model (Gamma-Gamma)
gives the expected value per purchase, :math:`E[Z]`. The value over ``H`` periods, discounted at
rate ``d`` per period with each period's purchases discounted to the end of that period, is

.. math:: \mathrm{CLV}_H = E[Z] \sum_{k=1}^{H} \frac{E[Y(k)] - E[Y(k - 1)]}{(1 + d)^k}.

This is revenue: multiply by a margin (and subtract the cost to serve) for a value in profit
terms. It is the discrete-time form used by lifetimes' ``customer_lifetime_value``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tillage.errors import DataValidationError
from tillage.models.beta_geo import BetaGeoModel
from tillage.models.gamma_gamma import GammaGammaModel
from tillage.models.pareto_nbd import ParetoNBDModel

__all__ = ["customer_lifetime_value", "per_period_rate"]


def per_period_rate(annual_rate: float, period_days: float) -> float:
    """Convert an annual discount rate into the rate per period of ``period_days`` days:
    ``(1 + annual_rate) ** (period_days / 365.25) - 1``."""
    if annual_rate <= -1:
        raise DataValidationError(f"the discount rate must be above -100 %, got {annual_rate!r}")
    return float((1.0 + annual_rate) ** (period_days / 365.25) - 1.0)


def customer_lifetime_value(
    purchases: BetaGeoModel | ParetoNBDModel,
    spend: GammaGammaModel,
    frame: pd.DataFrame,
    *,
    horizon: int,
    discount_rate: float,
) -> pd.Series:
    """Discounted expected revenue over ``horizon`` periods per customer (see module docstring).

    ``frame`` has ``frequency``, ``recency``, ``T`` and ``monetary_value``; ``discount_rate`` is
    per period. Returns a Series named ``clv`` indexed like ``frame``.
    """
    if horizon < 0 or int(horizon) != horizon:
        raise DataValidationError(f"horizon must be a whole number of periods >= 0, got {horizon}")
    value = spend.conditional_expected_average_profit(frame).to_numpy()
    total = np.zeros(len(frame))
    previous = np.zeros(len(frame))
    for k in range(1, int(horizon) + 1):  # one vectorized prediction per period of the horizon
        cumulative = purchases.conditional_expected_purchases(float(k), frame).to_numpy()
        total += (cumulative - previous) / (1.0 + discount_rate) ** k
        previous = cumulative
    return pd.Series(total * value, index=frame.index, name="clv")
