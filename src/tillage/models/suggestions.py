"""Product suggestions: co-purchase association rules and successor products.

**Association rules** ``A → B`` between products, over accounts (an account "buys" a product when
it has an order line, a won deal or a contract for it). With ``N`` accounts, ``n(A)`` of them
buying ``A`` and ``n(A, B)`` buying both:

* support ``= n(A, B) / N`` — how common the pair is;
* confidence ``= n(A, B) / n(A)`` — the share of ``A``'s buyers that also buy ``B``;
* lift ``= confidence / (n(B) / N)`` — how much more likely ``B`` is among ``A``'s buyers than
  among all accounts (1 = no association).

Rules need at least ``min_accounts`` accounts buying both, ``min_confidence`` and ``min_lift``
(Agrawal, Imieliński & Swami 1993, with single-product antecedents). For an account, every product
it does not buy that is the consequent of a rule from a product it buys is a candidate, scored by
the best such rule's confidence (the estimated chance that it buys it, given what it buys).

**Successors**: a product the account buys whose ``successor_id`` it does not buy yet gives a
suggestion of the successor, ranked before the co-purchase ones (score 1).

Each suggestion carries a reason in English and Japanese.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import pandas as pd

from tillage.errors import DataValidationError, NotFittedError
from tillage.models._logistic import require_columns
from tillage.models._settings import EstimatorSettings

__all__ = ["ProductSuggestions"]

_OUTPUT = [
    "account_id",
    "product_id",
    "kind",
    "score",
    "because_of",
    "support",
    "confidence",
    "lift",
    "n_accounts",
    "reason_en",
    "reason_ja",
]


class ProductSuggestions(EstimatorSettings):
    """What similar accounts buy that this one does not, and successors of what it uses.

    Parameters
    ----------
    min_accounts:
        Fewest accounts buying both products for a rule to count.
    min_confidence:
        Smallest confidence of a rule.
    min_lift:
        Smallest lift of a rule (above 1: a real association, not just a popular product).
    top_n:
        Suggestions per account.
    successors:
        Whether to suggest successor products.
    """

    def __init__(
        self,
        *,
        min_accounts: int = 5,
        min_confidence: float = 0.1,
        min_lift: float = 1.2,
        top_n: int = 5,
        successors: bool = True,
    ) -> None:
        self.min_accounts = min_accounts
        self.min_confidence = min_confidence
        self.min_lift = min_lift
        self.top_n = top_n
        self.successors = successors

    @staticmethod
    def _pairs(frame: pd.DataFrame, owner: str) -> pd.DataFrame:
        require_columns(frame, ["account_id", "product_id"], owner)
        pairs = frame[["account_id", "product_id"]].dropna()
        if len(pairs) < len(frame):
            raise DataValidationError(
                f"{owner}: {len(frame) - len(pairs)} row(s) where 'account_id' or 'product_id' "
                "is missing; drop them first"
            )
        return pairs.astype({"account_id": "int64", "product_id": "int64"}).drop_duplicates()

    def fit(self, frame: pd.DataFrame, products: pd.DataFrame | None = None) -> Self:
        """Learn the rules from ``(account_id, product_id)`` purchases; ``products`` (optional:
        ``product_id``, ``name``, ``successor_id``) gives names and the successor relation."""
        owner = type(self).__name__
        pairs = self._pairs(frame, owner)
        if pairs.empty:
            raise DataValidationError(f"{owner}: no purchases to learn from")
        n = pairs["account_id"].nunique()
        buyers = pairs.groupby("product_id")["account_id"].nunique().rename("n_a")
        both = pairs.merge(pairs, on="account_id", suffixes=("_a", "_b"))
        both = both[both["product_id_a"] != both["product_id_b"]]
        counts = both.groupby(["product_id_a", "product_id_b"]).size().rename("n_accounts")
        rules = counts.reset_index()
        rules["n_a"] = buyers.reindex(rules["product_id_a"]).to_numpy()
        rules["n_b"] = buyers.reindex(rules["product_id_b"]).to_numpy()
        rules["support"] = rules["n_accounts"] / n
        rules["confidence"] = rules["n_accounts"] / rules["n_a"]
        rules["lift"] = rules["confidence"] / (rules["n_b"] / n)
        keep = (
            (rules["n_accounts"] >= self.min_accounts)
            & (rules["confidence"] >= self.min_confidence)
            & (rules["lift"] >= self.min_lift)
        )
        self.rules_ = (
            rules[keep]
            .rename(columns={"product_id_a": "antecedent", "product_id_b": "consequent"})
            .sort_values(["confidence", "lift"], ascending=False, kind="stable")
            .reset_index(drop=True)
        )
        self.n_accounts_ = int(n)
        names: dict[int, str] = {}
        successor: dict[int, int] = {}
        if products is not None:
            require_columns(products, ["product_id"], owner)
            if "name" in products.columns:
                names = dict(
                    zip(products["product_id"].astype("int64"), products["name"], strict=True)
                )
            if "successor_id" in products.columns:
                linked = products[products["successor_id"].notna()]
                successor = dict(
                    zip(
                        linked["product_id"].astype("int64"),
                        linked["successor_id"].astype("int64"),
                        strict=True,
                    )
                )
        self.product_names_ = names
        self.successors_ = successor
        return self

    def _name(self, product: int) -> str:
        return str(self.product_names_.get(int(product), f"#{int(product)}"))

    def suggest(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Up to ``top_n`` suggestions per account of ``frame`` (its purchases), best first,
        indexed by account id; columns ``product_id``, ``kind`` (``successor`` or
        ``co_purchase``), ``score``, ``because_of`` (the product that led to it), ``support``,
        ``confidence``, ``lift``, ``n_accounts``, ``reason_en``, ``reason_ja``."""
        if not hasattr(self, "rules_"):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted yet: call fit(purchases) first"
            )
        pairs = self._pairs(frame, type(self).__name__)
        owned = set(zip(pairs["account_id"], pairs["product_id"], strict=True))
        parts = []
        if self.successors and self.successors_:
            succ = pairs[pairs["product_id"].isin(list(self.successors_))].copy()
            succ["because_of"] = succ["product_id"]
            succ["product_id"] = succ["because_of"].map(self.successors_).astype("int64")
            succ = succ[
                [
                    (a, p) not in owned
                    for a, p in zip(succ["account_id"], succ["product_id"], strict=True)
                ]
            ]
            succ = succ.assign(
                kind="successor", score=1.0, support=np.nan, confidence=np.nan, lift=np.nan
            )
            succ["n_accounts"] = np.nan
            parts.append(succ)
        cand = pairs.merge(self.rules_, left_on="product_id", right_on="antecedent")
        cand = cand[
            [
                (a, p) not in owned
                for a, p in zip(cand["account_id"], cand["consequent"], strict=True)
            ]
        ]
        cand = cand.sort_values(["confidence", "lift"], ascending=False, kind="stable")
        cand = cand.drop_duplicates(["account_id", "consequent"])
        cand = pd.DataFrame(
            {
                "account_id": cand["account_id"].to_numpy(),
                "product_id": cand["consequent"].to_numpy(),
                "kind": "co_purchase",
                "score": cand["confidence"].to_numpy(),
                "because_of": cand["antecedent"].to_numpy(),
                "support": cand["support"].to_numpy(),
                "confidence": cand["confidence"].to_numpy(),
                "lift": cand["lift"].to_numpy(),
                "n_accounts": cand["n_accounts"].to_numpy(dtype=float),
            }
        )
        parts.append(cand)
        out = pd.concat([p for p in parts if len(p)], ignore_index=True) if parts else cand
        if out.empty:
            out = pd.DataFrame(columns=_OUTPUT)
            return out.set_index("account_id", drop=False).rename_axis("id")
        out = out.sort_values(["account_id", "score", "lift"], ascending=[True, False, False])
        out = out.drop_duplicates(["account_id", "product_id"])
        out = out.groupby("account_id", sort=True).head(self.top_n)
        out["reason_en"] = [self._reason(r, "en") for r in out.itertuples()]
        out["reason_ja"] = [self._reason(r, "ja") for r in out.itertuples()]
        out = out[_OUTPUT].astype({"account_id": "int64", "product_id": "int64"})
        out["because_of"] = out["because_of"].astype("int64")
        return out.set_index("account_id", drop=False).rename_axis("id")

    def _reason(self, row: Any, lang: str) -> str:
        a, b = self._name(row.because_of), self._name(row.product_id)
        if row.kind == "successor":
            if lang == "ja":
                return f"{b}は利用中の{a}の後継製品です"
            return f"{b} is the successor of {a}, which the account uses"
        n = int(row.n_accounts)
        if lang == "ja":
            return (
                f"{a}を購入している企業は{b}も購入しています"
                f"（リフト {row.lift:.1f}、{n:,}社、確信度 {row.confidence:.0%}）"
            )
        return (
            f"Accounts that buy {a} also buy {b} "
            f"(lift {row.lift:.1f}, {n:,} accounts, confidence {row.confidence:.0%})"
        )
