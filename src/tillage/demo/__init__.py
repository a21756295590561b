"""A synthetic B2B company generated from known latent processes (see docs/demo.md).

>>> from tillage.demo import DemoConfig, generate
>>> company = generate(DemoConfig(n_accounts=200, seed=1))
>>> sorted(company.tables)[:3]
['account_team_members', 'accounts', 'activities']
"""

from tillage.demo.company import DemoCompany, generate
from tillage.demo.config import DemoConfig

__all__ = ["DemoCompany", "DemoConfig", "generate"]
