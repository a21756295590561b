"""The error tree and the way data problems are worded."""

from __future__ import annotations

import pytest

from tillage import errors
from tillage.errors import DataValidationError, Problem, TillageError


@pytest.mark.parametrize(
    "cls",
    [
        errors.ConfigurationError,
        errors.DataValidationError,
        errors.StoreError,
        errors.NotFittedError,
        errors.ConvergenceError,
        errors.NotFoundError,
        errors.PermissionDenied,
        errors.AuthenticationError,
        errors.TooManyAttempts,
    ],
)
def test_every_error_is_a_tillage_error(cls: type[Exception]) -> None:
    assert issubclass(cls, TillageError)


def test_problem_names_file_row_column_value_and_reason() -> None:
    problem = Problem("orders.csv", 14, "amount", "-5,000", "negative amount")
    assert str(problem) == "orders.csv, row 14, column 'amount': negative amount (value '-5,000')"


def test_validation_error_lists_problems_and_caps_the_list() -> None:
    problems = [Problem("a.csv", i, "x", i, "bad") for i in range(2, 30)]
    error = DataValidationError("a.csv was refused", problems)
    text = str(error)
    assert text.startswith("a.csv was refused")
    assert "row 2," in text and "row 21," in text and "row 22," not in text
    assert "… and 8 more" in text
    assert error.problems == problems
