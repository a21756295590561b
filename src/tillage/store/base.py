"""The declarative base of every table, and the column types and helpers the models share.

``Money`` is an exact decimal in PostgreSQL returned to Python as float; the naming convention
makes migrations deterministic; ``key_column`` is a source row's natural key, ``account_fk`` a
reference to an account that goes with it.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, MetaData, Numeric, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Amounts: exact decimal in PostgreSQL, returned to Python as float (JPY amounts are integers;
# doubles are exact to 2**53, far beyond any account's revenue).
Money = Numeric(18, 2, asdecimal=False)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations are deterministic."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def key_column() -> Mapped[str]:
    return mapped_column(String(128), unique=True, nullable=False)


def account_fk(nullable: bool = False) -> Mapped[int]:
    return mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True, nullable=nullable
    )
