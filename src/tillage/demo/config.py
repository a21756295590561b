"""Settings of the synthetic company (:class:`DemoConfig`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tillage.errors import ConfigurationError


@dataclass(frozen=True)
class DemoConfig:
    """What synthetic company to generate. Every field has a default; nothing reads the clock.

    Attributes:
        n_accounts: customer accounts (companies).
        n_reps: sales reps (role ``rep``), spread over the teams; each team also gets a manager.
        n_teams: sales teams.
        history_months: calendar months of history up to and including the month of ``as_of``.
        as_of: the observation date; ``tables`` hold only rows dated on or before it.
        horizon_months: months simulated after ``as_of``; those rows go only into ``truth``.
        seed: the random seed; the same config gives identical frames.
        locale: ``"ja"`` (Japanese names, prefectures, country JP) or ``"en"`` (US names).
        orders_per_account: approximate order lines per account (all accounts, not only buyers)
            over the history window; the default 100 gives about 10 million lines for 100,000
            accounts. Scales the mean purchase rate of the repeat-ordering process.
        currency: currency code written on amounts (amounts are JPY-sized whatever the code).
    """

    n_accounts: int = 2000
    n_reps: int = 40
    n_teams: int = 5
    history_months: int = 36
    as_of: dt.date = dt.date(2026, 9, 30)
    horizon_months: int = 12
    seed: int = 42
    locale: str = "ja"
    orders_per_account: float = 100.0
    currency: str = "JPY"

    def __post_init__(self) -> None:
        if self.n_accounts < 1:
            raise ConfigurationError("DemoConfig.n_accounts must be at least 1")
        if self.n_teams < 1 or self.n_reps < self.n_teams:
            raise ConfigurationError(
                "DemoConfig needs n_teams >= 1 and n_reps >= n_teams (one rep per team at least)"
            )
        if not 6 <= self.history_months <= 60:
            raise ConfigurationError("DemoConfig.history_months must be between 6 and 60")
        if not 1 <= self.horizon_months <= 36:
            raise ConfigurationError("DemoConfig.horizon_months must be between 1 and 36")
        if self.locale not in {"ja", "en"}:
            raise ConfigurationError(f"DemoConfig.locale must be 'ja' or 'en', not {self.locale!r}")
        if self.orders_per_account < 0:
            raise ConfigurationError("DemoConfig.orders_per_account must be >= 0")
