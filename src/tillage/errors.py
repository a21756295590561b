"""The one exception tree of tillage.

Every error a user can meet is one of these; each message names the object at fault and what to
do about it. Surfaces map them to exit codes (CLI) and HTTP statuses (API) in one place each.

::

    TillageError
    ├── ConfigurationError      settings or strategy file invalid
    ├── DataValidationError     input data refused (file, row, column, reason)
    │   └── TooLarge            an upload over the size limit
    ├── StoreError              database unreachable, schema out of date
    ├── NotFittedError          a model used before fit()
    ├── ConvergenceError        an estimator failed to converge
    ├── NotFoundError           an account, rep, snapshot … does not exist (or is not visible)
    ├── AuthenticationError     no valid credentials (login, session cookie or token)
    ├── TooManyAttempts         login refused for a while after repeated failures
    ├── Busy                    a background job runs already (one at a time)
    └── PermissionDenied        the user's role does not allow the action

    DataWarning (a UserWarning)  rows a model could not use were left out of it; the run goes on
    BoundaryWarning (UserWarning) a fit's maximum lies on the edge of the parameter space
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class TillageError(Exception):
    """Base class of every error raised on purpose by tillage."""


class ConfigurationError(TillageError):
    """A setting or the strategy file is invalid; the message names the field.

    ``fields`` lists ``(field, reason)`` pairs when the fault lies in named fields (a strategy
    file's ``portfolio.value_split``), so a form can show each reason beside the text.
    """

    def __init__(self, message: str, fields: Sequence[tuple[str, str]] = ()) -> None:
        self.fields = list(fields)
        super().__init__(message)


@dataclass(frozen=True)
class Problem:
    """One problem found in input data, located as the user sees the file.

    ``row`` is the row number as a spreadsheet shows it (header = row 1), or ``None`` when the
    problem concerns the whole file or column. ``rows`` is how many rows the line stands for:
    1, or N for a summary line ("N more rows: …") after the rows listed one by one.
    """

    file: str
    row: int | None
    column: str | None
    value: object
    reason: str
    severity: str = "error"
    rows: int = 1

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column!r}"
        value = "" if self.value is None else f" (value {self.value!r})"
        return f"{where}: {self.reason}{value}"


def rows_affected(problems: Sequence[Problem], severity: str = "error") -> int:
    """How many problem rows of ``severity`` the report holds: each line counts the rows it
    stands for (:attr:`Problem.rows`), so a report listing 1,000 errors and "4,902 more rows"
    counts 5,902."""
    return sum(p.rows for p in problems if (p.severity == "error") == (severity == "error"))


class DataValidationError(TillageError):
    """Input data was refused. ``problems`` lists every problem found, not just the first."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        self.problems = list(problems)
        detail = "\n".join(f"  - {p}" for p in self.problems[:20])
        more = len(self.problems) - 20
        if more > 0:
            detail += f"\n  … and {more} more"
        super().__init__(message + ("\n" + detail if detail else ""))


class ParameterError(DataValidationError):
    """A parameter the user typed (a period, a month, a date, a cursor) is malformed or out of
    range: a usage error — the CLI exits 2, the API answers 422, a page says why."""


class TooLarge(DataValidationError):
    """An uploaded file is larger than the configured limit; nothing was read."""


class StoreError(TillageError):
    """The store is unreachable or its schema is not at the expected revision."""


class SchemaOutOfDate(StoreError):
    """The store's schema is at ``revision`` (``None``: never migrated), not at ``head``."""

    def __init__(self, revision: str | None, head: str) -> None:
        super().__init__(
            f"the store is at schema revision {revision or 'none'}, expected {head}: "
            "run `tillage db upgrade` first."
        )
        self.revision = revision
        self.head = head


class NotFittedError(TillageError):
    """A model's prediction was asked for before ``fit`` was called."""


class ConvergenceError(TillageError):
    """An estimator's optimiser did not converge; the message says what was tried."""


class NotFoundError(TillageError):
    """The object asked for does not exist, or is not visible to the current user."""


class PermissionDenied(TillageError):
    """The current user's role does not allow the action."""


class Busy(TillageError):
    """The work asked for cannot start while other work runs (one background job at a time)."""


class AuthenticationError(TillageError):
    """The request carries no valid credentials: wrong login or password, an expired or revoked
    token, a session from before a logout or password change, a missing CSRF token."""


class TooManyAttempts(TillageError):
    """Logins are refused for a while after repeated failures (per user and per client address).

    ``retry_after`` is the number of seconds until the next attempt is accepted.
    """

    def __init__(self, message: str, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class DataWarning(UserWarning):
    """Some rows could not be used by one model and were left out of it (the message counts and
    names them); the run goes on and other models still use those rows."""


class BoundaryWarning(UserWarning):
    """A model fitted with ``boundary="accept"`` found its likelihood highest on the edge of the
    parameter space (e.g. the Pareto/NBD's ``s → 0``: nobody drops out); the estimates there are
    reported, as lifetimes does, and the message names the parameters without standard errors."""
