"""The mathematical core: probabilistic customer-base models with one fit/predict API.

* :class:`BetaGeoModel` — BG/NBD repeat buying (Fader, Hardie & Lee 2005);
* :class:`ParetoNBDModel` — Pareto/NBD repeat buying (Schmittlein, Morrison & Colombo 1987);
* :class:`GammaGammaModel` — spend per transaction (Fader, Hardie & Lee 2005);
* :class:`ShiftedBetaGeoModel` — contractual retention (Fader & Hardie 2007, 2010);
* :class:`RenewalChurnModel` — churn at renewal with covariates, the sBG as its special case.

Paper notation (``r``, ``alpha``, ``a``, ``b``, ``T`` …) lives only inside this package.
"""

from tillage.models.base import BaseModel
from tillage.models.beta_geo import BetaGeoModel
from tillage.models.gamma_gamma import GammaGammaModel, IndependenceCheck
from tillage.models.pareto_nbd import ParetoNBDModel
from tillage.models.renewal_churn import RenewalChurnModel
from tillage.models.shifted_beta_geo import ShiftedBetaGeoModel, cohort_frame

__all__ = [
    "BaseModel",
    "BetaGeoModel",
    "GammaGammaModel",
    "IndependenceCheck",
    "ParetoNBDModel",
    "RenewalChurnModel",
    "ShiftedBetaGeoModel",
    "cohort_frame",
]
