"""Shared core of the probability models: a design matrix, an L2-penalised logistic regression
with an offset, and the calibrators.

The regression maximises ``Σ wᵢ [yᵢ log pᵢ + (1 − yᵢ) log(1 − pᵢ)] − λ/2 · ‖β‖²`` with
``logit pᵢ = oᵢ + β₀ + xᵢ·β`` over standardised features ``x``; the intercept is not penalised.
The offset ``o`` carries a baseline (the stage win rate, the base expansion rate), so a strong
penalty shrinks the model towards that baseline rather than towards 0.5: with thin data the
prediction *is* the baseline, and the data move it only as far as they can support.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import expit, logit

from tillage.errors import DataValidationError

EPS = 1e-4


def clip_logit(p: NDArray[np.float64]) -> NDArray[np.float64]:
    return logit(np.clip(p, EPS, 1.0 - EPS))


def require_columns(frame: object, columns: Sequence[str], owner: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise DataValidationError(
            f"{owner}: expected a pandas DataFrame, got {type(frame).__name__}"
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{owner}: the input frame lacks column(s) {', '.join(map(repr, missing))}; "
            "build it with tillage.features.deals (see docs/deals.md)"
        )
    return frame


def binary_labels(frame: pd.DataFrame, column: str, owner: str) -> NDArray[np.float64]:
    y = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isin(y, (0.0, 1.0))
    if bad.any():
        first = frame.index[int(np.flatnonzero(bad)[0])]
        raise DataValidationError(
            f"{owner}: {int(bad.sum())} row(s) where {column!r} is not 0 or 1 (first at index "
            f"{first!r}); keep only rows whose outcome is known"
        )
    return y


def weights_of(frame: pd.DataFrame, owner: str) -> NDArray[np.float64]:
    if "weight" not in frame.columns:
        return np.ones(len(frame))
    w = pd.to_numeric(frame["weight"], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(w)) or (w < 0).any():
        raise DataValidationError(f"{owner}: 'weight' must be finite and >= 0")
    return w


@dataclass
class Design:
    """Turns a frame into a standardised matrix: numeric columns (non-negative ones log1p'd,
    missing values set to the training median with a ``<name>_missing`` indicator) and one-hot
    categorical columns. Learned on the training frame, applied unchanged to any other."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...] = ()
    medians: dict[str, float] = field(default_factory=dict)
    logged: list[str] = field(default_factory=list)
    indicators: list[str] = field(default_factory=list)
    categories: dict[str, list[str]] = field(default_factory=dict)
    means: NDArray[np.float64] | None = None
    scales: NDArray[np.float64] | None = None
    names: list[str] = field(default_factory=list)

    def fit(self, frame: pd.DataFrame) -> Design:
        for name in self.numeric:
            values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
            finite = values[np.isfinite(values)]
            self.medians[name] = float(np.median(finite)) if finite.size else 0.0
            if finite.size and finite.min() >= 0:
                self.logged.append(name)
            if finite.size < values.size:
                self.indicators.append(name)
        for name in self.categorical:
            self.categories[name] = sorted(frame[name].astype(str).unique().tolist())
        raw, self.names = self._raw(frame)
        self.means = raw.mean(axis=0) if len(raw) else np.zeros(raw.shape[1])
        sd = raw.std(axis=0) if len(raw) else np.ones(raw.shape[1])
        self.scales = np.where(sd > 1e-12, sd, 1.0)
        return self

    def _raw(self, frame: pd.DataFrame) -> tuple[NDArray[np.float64], list[str]]:
        columns, names = [], []
        for name in self.numeric:
            values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
            missing = ~np.isfinite(values)
            values = np.where(missing, self.medians[name], values)
            if name in self.logged:
                values = np.log1p(np.maximum(values, 0.0))
            columns.append(values)
            names.append(name)
            if name in self.indicators:
                columns.append(missing.astype(float))
                names.append(f"{name}_missing")
        for name in self.categorical:
            text = frame[name].astype(str).to_numpy()
            for level in self.categories[name]:
                columns.append((text == level).astype(float))
                names.append(f"{name}={level}")
        matrix = np.column_stack(columns) if columns else np.zeros((len(frame), 0))
        return matrix, names

    def transform(self, frame: pd.DataFrame) -> NDArray[np.float64]:
        raw, _ = self._raw(frame)
        return (raw - self.means) / self.scales


def fit_logistic(
    X: NDArray[np.float64],
    y: NDArray[np.float64],
    w: NDArray[np.float64],
    offset: NDArray[np.float64],
    penalty: float,
    *,
    max_iter: int = 50,
) -> tuple[float, NDArray[np.float64]]:
    """Intercept and coefficients of the penalised logistic regression (Newton's method with
    step halving; the objective is strictly convex once λ > 0)."""
    n, k = X.shape
    Z = np.column_stack([np.ones(n), X])
    ridge = np.full(k + 1, float(penalty))
    ridge[0] = 1e-8

    def objective(theta: NDArray[np.float64]) -> float:
        eta = offset + Z @ theta
        return float(np.sum(w * (np.logaddexp(0.0, eta) - y * eta))) + 0.5 * float(
            np.sum(ridge * theta**2)
        )

    theta = np.zeros(k + 1)
    value = objective(theta)
    for _ in range(max_iter):
        p = expit(offset + Z @ theta)
        grad = Z.T @ (w * (p - y)) + ridge * theta
        hess = (Z * (w * p * (1 - p))[:, None]).T @ Z + np.diag(ridge)
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while True:
            candidate = theta - t * step
            new = objective(candidate)
            if new <= value + 1e-12 or t < 1e-6:
                break
            t /= 2
        theta, previous, value = candidate, value, new
        if abs(previous - value) < 1e-9 * (1 + abs(value)):
            break
    return float(theta[0]), theta[1:]


def log_loss_of(y: NDArray[np.float64], p: NDArray[np.float64], w: NDArray[np.float64]) -> float:
    p = np.clip(p, EPS, 1 - EPS)
    return float(-np.sum(w * (y * np.log(p) + (1 - y) * np.log(1 - p))) / max(w.sum(), 1e-12))


class Platt:
    """Platt scaling: ``p = expit(a + b · logit(raw))``, fitted by weighted maximum likelihood."""

    kind = "platt"

    def fit(
        self, raw: NDArray[np.float64], y: NDArray[np.float64], w: NDArray[np.float64]
    ) -> Platt:
        z = clip_logit(raw)[:, None]
        self.a_, coef = fit_logistic(z, y, w, np.zeros(len(y)), 1e-6)
        self.b_ = float(coef[0])
        return self

    def predict(self, raw: NDArray[np.float64]) -> NDArray[np.float64]:
        return expit(self.a_ + self.b_ * clip_logit(raw))

    def to_dict(self) -> dict[str, float | str]:
        return {"kind": self.kind, "a": self.a_, "b": self.b_}


class Isotonic:
    """Isotonic regression of the outcome on the raw probability (a monotone step function),
    kept as its thresholds and interpolated, clipped to ``[0.001, 0.999]``."""

    kind = "isotonic"

    def fit(
        self, raw: NDArray[np.float64], y: NDArray[np.float64], w: NDArray[np.float64]
    ) -> Isotonic:
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.001, y_max=0.999)
        iso.fit(raw, y, sample_weight=w)
        self.x_ = np.asarray(iso.X_thresholds_, dtype=float)
        self.y_ = np.asarray(iso.y_thresholds_, dtype=float)
        return self

    def predict(self, raw: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.interp(raw, self.x_, self.y_)

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "x": self.x_.tolist(), "y": self.y_.tolist()}


class Identity:
    """No calibration (too little held-out data)."""

    kind = "none"

    def fit(self, raw, y, w) -> Identity:  # type: ignore[no-untyped-def]
        return self

    def predict(self, raw: NDArray[np.float64]) -> NDArray[np.float64]:
        return raw

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind}


def make_calibrator(method: str, n_holdout: float) -> Platt | Isotonic | Identity:
    """``auto``: isotonic with at least 1,000 held-out rows, Platt with at least 50, else none."""
    if method == "auto":
        method = "isotonic" if n_holdout >= 1000 else "platt" if n_holdout >= 50 else "none"
    if method == "isotonic":
        return Isotonic()
    if method in ("platt", "sigmoid"):
        return Platt()
    if method == "none":
        return Identity()
    raise DataValidationError(
        f"calibration must be 'auto', 'isotonic', 'platt' or 'none', not {method!r}"
    )


def time_holdout(frame: pd.DataFrame, share: float) -> NDArray[np.bool_]:
    """Rows of the latest ``as_of`` dates holding about ``share`` of the rows (all False when
    the frame has one date or no ``as_of`` column)."""
    if "as_of" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    dates = pd.to_datetime(frame["as_of"]).to_numpy()
    unique = np.unique(dates)
    if unique.size < 2:
        return np.zeros(len(frame), dtype=bool)
    counts = pd.Series(dates).value_counts().sort_index(ascending=False)
    cumulative = counts.cumsum() / counts.sum()
    chosen = cumulative.index[: max(1, int((cumulative < share).sum()) + 1)]
    if len(chosen) == unique.size:
        chosen = chosen[:-1]
    return np.isin(dates, np.asarray(chosen, dtype=dates.dtype))


PENALTIES = (1.0, 10.0, 100.0, 1000.0, 10000.0)


#: A feature whose own AUC is at least this far from 0.5 (AUC >= 0.98 or <= 0.02) nearly
#: determines the outcome: it was most likely recorded after the outcome was known.
LEAK_AUC = 0.98
#: Fewest rows of each outcome before a feature is judged on its own AUC.
LEAK_MIN_ROWS = 10


def leaking_features(
    frame: pd.DataFrame, y: NDArray[np.float64], w: NDArray[np.float64], numeric: Sequence[str]
) -> dict[str, float]:
    """Numeric features that on their own rank the outcomes almost perfectly, with their AUC.

    Each feature is scored by its weighted AUC against ``y`` (missing values ranked as their
    own lowest level, so "filled in only on won deals" is caught too). A feature with
    ``max(AUC, 1 − AUC) >= LEAK_AUC`` is returned: no honest predictor known before the outcome
    separates won from lost so cleanly (e.g. an amount that is zero on every lost deal).
    """
    from sklearn.metrics import roc_auc_score

    if min(float(np.sum(y == 1)), float(np.sum(y == 0))) < LEAK_MIN_ROWS:
        return {}
    out = {}
    for name in numeric:
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
        finite = np.isfinite(values)
        if not finite.any():
            continue
        values = np.where(finite, values, np.min(values[finite]) - 1.0)
        if np.unique(values).size < 2:
            continue
        auc = float(roc_auc_score(y, values, sample_weight=w))
        if max(auc, 1.0 - auc) >= LEAK_AUC:
            out[name] = auc
    return out


@dataclass
class LogisticFit:
    """A fitted penalised logistic model with its calibrator. ``refused`` lists the features
    left out as leaking (with their AUC); ``fallback`` says the model lost to the offset
    baseline out of time, so its coefficients are 0 and the calibrator maps the baseline."""

    design: Design
    intercept: float
    coef: NDArray[np.float64]
    penalty: float
    calibrator: Platt | Isotonic | Identity
    holdout_rows: int
    notes: list[str]
    refused: dict[str, float] = field(default_factory=dict)
    fallback: bool = False

    def raw(self, frame: pd.DataFrame, offset: NDArray[np.float64]) -> NDArray[np.float64]:
        return expit(offset + self.intercept + self.design.transform(frame) @ self.coef)

    def predict(self, frame: pd.DataFrame, offset: NDArray[np.float64]) -> NDArray[np.float64]:
        return self.calibrator.predict(self.raw(frame, offset))


def _platt_loss(raw: NDArray[np.float64], y: NDArray[np.float64], w: NDArray[np.float64]) -> float:
    """Log loss after Platt scaling (two parameters, whatever the predictor): a fair score for
    comparing two predictors calibrated on the same rows."""
    return log_loss_of(y, Platt().fit(raw, y, w).predict(raw), w)


def fit_calibrated(
    frame: pd.DataFrame,
    y: NDArray[np.float64],
    w: NDArray[np.float64],
    offset: NDArray[np.float64],
    *,
    numeric: Sequence[str],
    categorical: Sequence[str],
    penalty: float | None,
    calibration: str,
    holdout_share: float,
) -> LogisticFit:
    """Fit on the earlier dates, choose the penalty and calibrate on the latest dates held out
    (``time_holdout``), and use exactly that model: the calibrator maps the predictions of the
    model it was fitted on, out of time, so a base rate that drifts between the two periods
    is corrected rather than counted twice. (Refitting on every row after calibrating, as
    before, shifted the raw predictions the calibrator had never seen: on a funnel whose
    wins grew more common every deal came out near 0.99.)

    Features that nearly determine the outcome (:func:`leaking_features`) are left out, with a
    note. If the model does not beat the offset baseline on the held-out dates (log loss, both
    Platt-scaled on them), the prediction falls back to the baseline, calibrated there, and a
    note says so. With a single as-of date there is nothing to hold out: the regression is fitted
    on every row without calibration.
    """
    notes: list[str] = []
    refused = leaking_features(frame, y, w, numeric)
    for name, auc in refused.items():
        notes.append(
            f"feature {name!r} nearly determines the outcome on its own (AUC {auc:.3f}): it is "
            "probably recorded after the outcome (e.g. an amount filled in only on won deals); "
            "left out of the model"
        )
    numeric = tuple(n for n in numeric if n not in refused)
    hold = time_holdout(frame, holdout_share)
    early = ~hold
    if not (hold.any() and early.any()):
        notes.append("one as-of date only: no held-out calibration")
        chosen = PENALTIES[-1] if penalty is None else float(penalty)
        design = Design(numeric, tuple(categorical)).fit(frame)
        b0, b = fit_logistic(design.transform(frame), y, w, offset, chosen)
        return LogisticFit(design, b0, b, chosen, Identity(), 0, notes, refused)
    design = Design(numeric, tuple(categorical)).fit(frame[early])
    X_early, X_hold = design.transform(frame[early]), design.transform(frame[hold])
    best = None
    for lam in [penalty] if penalty is not None else PENALTIES:
        b0, b = fit_logistic(X_early, y[early], w[early], offset[early], float(lam))
        p = expit(offset[hold] + b0 + X_hold @ b)
        loss = log_loss_of(y[hold], p, w[hold])
        if best is None or loss < best[0]:
            best = (loss, float(lam), p, b0, b)
    assert best is not None
    _, chosen, p_hold, b0, b = best
    y_hold, w_hold = y[hold], w[hold]
    n_hold = float(w_hold.sum())
    calibrator = make_calibrator(calibration, n_hold)
    base_hold = expit(offset[hold])
    model_loss, base_loss = (
        _platt_loss(p_hold, y_hold, w_hold),
        _platt_loss(base_hold, y_hold, w_hold),
    )
    if model_loss >= base_loss:
        notes.append(
            f"the model does not beat the baseline on the latest {n_hold:.0f} held-out rows "
            f"(log loss {model_loss:.4f} against {base_loss:.4f}): the predictions are the "
            "baseline rates, calibrated on those rows"
        )
        calibrator.fit(base_hold, y_hold, w_hold)
        zeros = np.zeros(len(design.names))
        return LogisticFit(
            design, 0.0, zeros, chosen, calibrator, int(hold.sum()), notes, refused, True
        )
    calibrator.fit(p_hold, y_hold, w_hold)
    return LogisticFit(design, b0, b, chosen, calibrator, int(hold.sum()), notes, refused)
