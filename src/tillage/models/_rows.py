"""The rows a maximum-likelihood fit runs on, as float arrays: the input frame checked and its
columns read once, the rows a model cannot use left out (:class:`FitRows`, a mixin of
:class:`~tillage.models.base.BaseModel`), identical histories collapsed into weights
(:func:`distinct_rows`).

Written with NumPy and :func:`pandas.factorize` rather than a pandas group-by: on a few thousand
rows the group-by's fixed cost (index objects, a DataFrame built and taken apart) was about half
of a whole fit, and the factorize codes give each group's first row directly.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from tillage.errors import DataWarning
from tillage.models._checks import check_frame, first_bad

__all__ = ["FitRows", "distinct_rows"]

Data = dict[str, NDArray[Any]]

#: Bases smaller than this are always collapsed (grouping them costs little).
_SMALL = 10_000
#: An odd 64-bit multiplier (the golden ratio's) that combines the columns' hashes.
_MIX = np.uint64(0x9E3779B97F4A7C15)


def distinct_rows(
    columns: Data, weights: NDArray[np.float64], *, continuous: str | None = None
) -> tuple[Data, NDArray[np.float64]]:
    """Distinct rows of ``columns`` (float arrays of one length, weights > 0) in the order of
    their first appearance, with summed weights; the rows as they are where ``continuous``
    names a column of which over half the values of more than 10,000 rows are distinct
    (continuous times or amounts: grouping would cost more than it saves)."""
    n = weights.size
    names = list(columns)
    if continuous is not None and n > _SMALL and _mostly_distinct(columns[continuous]):
        return {c: np.ascontiguousarray(columns[c]) for c in names}, weights
    codes: dict[str, NDArray[np.intp]] = {}
    key = _hashed_codes(columns, names) if n else np.zeros(0, dtype=np.intp)
    if key is None:  # two distinct rows share a hash: number the rows column by column
        for name in names:
            code = codes.get(name)
            if code is None:
                code = pd.factorize(columns[name], sort=False)[0]
            if key is None:
                key = code
            else:  # codes below n, so the product stays below n**2
                key = pd.factorize(key * (int(code.max()) + 1) + code, sort=False)[0]
    assert key is not None
    groups = int(key.max()) + 1 if n else 0
    opens = _opening(key)
    data = {c: columns[c][opens] for c in names}
    return data, np.bincount(key, weights, minlength=groups)


def _mostly_distinct(values: NDArray[np.float64], size: int = 20_000) -> bool:
    """Whether over half the values are distinct, judged from ``size`` of them drawn at
    random (seeded): among ``s`` values drawn from ``n`` that each repeat ``k`` times, about
    ``s**2 (k - 1) / (2 n)`` pairs are equal, so fewer than ``s**2 / (2 n)`` equal ones means
    ``k < 2``. Counting them all would cost a hash table of every value; a wrong call only
    costs time (the likelihood is the same collapsed or not)."""
    n = values.size
    picked = values[np.random.default_rng(0).choice(n, size=min(size, n), replace=False)]
    equal = picked.size - pd.unique(picked).size
    return equal < picked.size**2 / (2.0 * n)


def _opening(key: NDArray[np.intp]) -> NDArray[np.bool_]:
    """Rows that open a group: factorize numbers groups by first appearance, so a row opens
    one where its code exceeds every earlier code."""
    opens = np.empty(key.size, dtype=bool)
    if key.size:
        opens[0] = True
        np.greater(key[1:], np.maximum.accumulate(key)[:-1], out=opens[1:])
    return opens


def _splitmix(bits: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64's finaliser: a bijection of 64-bit words whose every output bit depends on
    every input bit (a float's information sits in its high bits, which a multiplication
    alone would push out of the word)."""
    z = bits ^ (bits >> np.uint64(30))
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return z


def _hashed_codes(columns: Data, names: list[str]) -> NDArray[np.intp] | None:
    """Group numbers in order of first appearance from one hash of each row's bits (one
    factorize instead of one per column), or None if two different rows share a hash (each
    row is compared with its group's first)."""
    n = columns[names[0]].size
    mixed = np.zeros(n, dtype=np.uint64)
    for name in names:
        bits = np.ascontiguousarray(columns[name], dtype=np.float64).view(np.uint64)
        mixed *= _MIX  # wraps around modulo 2**64
        mixed ^= _splitmix(bits)
    key = pd.factorize(mixed, sort=False)[0]
    first = np.flatnonzero(_opening(key))
    for name in names:
        values = columns[name]
        if not np.array_equal(values[first][key], values):
            return None
    return key


class FitRows:
    """Mixin: validation of the input frame and the rows a fit runs on. The class it is mixed
    into declares the columns (``_columns``, ``_count_columns``, ``_nonnegative_columns``,
    ``_positive_columns``, ``_continuous_column``)."""

    _columns: ClassVar[tuple[str, ...]] = ()
    _count_columns: ClassVar[tuple[str, ...]] = ()
    _nonnegative_columns: ClassVar[tuple[str, ...]] = ()
    _positive_columns: ClassVar[tuple[str, ...]] = ()
    _continuous_column: ClassVar[str | None] = None

    def _validate(
        self,
        frame: object,
        columns: Sequence[str] | None = None,
        arrays: Data | None = None,
    ) -> pd.DataFrame:
        """Check a summary frame and return it; raise DataValidationError naming each problem.
        With ``arrays``, the checked columns are put there as float arrays."""
        return check_frame(
            frame,
            owner=type(self).__name__,
            columns=self._columns if columns is None else columns,
            count_columns=self._count_columns,
            nonnegative_columns=self._nonnegative_columns,
            positive_columns=self._positive_columns,
            arrays=arrays,
        )

    _first_bad = staticmethod(first_bad)

    def _fit_mask(self, columns: Data) -> NDArray[np.bool_] | None:
        """Rows the likelihood is defined on (``None``: all, unless a model says otherwise)."""
        return None

    def _unusable(self, columns: Data) -> tuple[NDArray[np.bool_], str]:
        """Rows of a valid frame (its columns as float arrays) this model cannot use, and why
        (none, unless a model says otherwise): they are left out of the fit, listed in
        ``excluded_`` and named in a :class:`~tillage.errors.DataWarning`; their predictions
        are NaN."""
        return np.zeros(next(iter(columns.values())).size, dtype=bool), ""

    @property
    def excluded_(self) -> pd.Series:
        """The rows left out of the last fit (:meth:`_unusable`): the reason per row label."""
        found = self.__dict__.get("_excluded")
        if found is None:
            raise AttributeError(f"{type(self).__name__} has no excluded_ before fit")
        if not isinstance(found, pd.Series):  # built when first read, not at every fit
            index, bad, reason = found
            found = pd.Series(reason, index=index[bad], name="reason", dtype=object)
            self._excluded = found
        return found

    def _exclude(self, frame: pd.DataFrame, columns: Data) -> NDArray[np.bool_]:
        """The rows :meth:`_unusable` flags, recorded for ``excluded_``, with a warning naming
        how many and the first few."""
        bad, reason = self._unusable(columns)
        self._excluded = (frame.index, bad, reason)
        if bad.any():
            labels = ", ".join(map(str, frame.index[bad][:5]))
            more = " …" if bad.sum() > 5 else ""
            warnings.warn(
                f"{type(self).__name__}: {int(bad.sum())} of {len(frame)} row(s) left out of "
                f"the fit because {reason} (first: {labels}{more}); their predictions are blank",
                DataWarning,
                stacklevel=4,
            )
        return bad

    def _fit_rows(self, frame: pd.DataFrame, arrays: Data) -> tuple[Data, NDArray[np.float64]]:
        """The likelihood's columns (``arrays``: as :meth:`_validate` read them), less the rows
        excluded, outside :meth:`_fit_mask` or of weight 0, collapsed by :meth:`_collapse`."""
        columns = {c: arrays[c] for c in self._columns}
        weights = arrays.get("weight")
        keep = ~self._exclude(frame, columns)
        mask = self._fit_mask(columns)
        if mask is not None:
            keep &= mask
        if weights is not None:
            keep &= weights > 0
        if not keep.all():
            columns = {c: v[keep] for c, v in columns.items()}
            weights = None if weights is None else weights[keep]
        if weights is None:
            weights = np.ones(next(iter(columns.values())).size)
        return self._collapse({**columns, "weight": weights})

    def _collapse(self, columns: Data) -> tuple[Data, NDArray[np.float64]]:
        """Distinct rows of the likelihood's columns (``columns`` also holds ``weight``, all
        positive), with summed weights; the rows as they are where over half the
        :attr:`_continuous_column` values of more than 10,000 rows are distinct
        (:func:`distinct_rows`)."""
        data = {c: columns[c] for c in self._columns}
        return distinct_rows(data, columns["weight"], continuous=self._continuous_column)
