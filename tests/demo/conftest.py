"""Small seeded companies shared by the demo tests (generated once per session)."""

from __future__ import annotations

import pytest

from tillage.demo import DemoCompany, DemoConfig, generate


@pytest.fixture(scope="session")
def company() -> DemoCompany:
    return generate(DemoConfig(n_accounts=400, seed=7))


@pytest.fixture(scope="session")
def big_company() -> DemoCompany:
    """Enough renewals to see the planted effects clearly (about a second to generate)."""
    return generate(DemoConfig(n_accounts=3000, seed=11))
