"""The pieces of :class:`~tillage.models.account_ltv.AccountLTV`, one concept per module.

* :mod:`.contracts` — recurring revenue: renewal survival, fixed-term contracts, expansion at
  renewal;
* :mod:`.orders` — repeat orders: BG/NBD paths and Gamma-Gamma spend;
* :mod:`.margins` — margin rates by product family;
* :mod:`.interval` — the parametric-bootstrap interval.
"""
