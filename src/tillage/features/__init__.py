"""tillage.features: per-account features as of a date, written once, run on several engines.

See ``docs/features.md`` for every column. :func:`build_features` executes the joined feature
table on a backend opened with :func:`feature_backend` (``duckdb``, ``postgres`` or ``spark``).
"""

from tillage.features.build import build_features, features_expr
from tillage.features.engine import ENGINES, feature_backend

__all__ = ["ENGINES", "build_features", "feature_backend", "features_expr"]
