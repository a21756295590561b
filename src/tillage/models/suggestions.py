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

**Product lifecycle**: a product marked ``discontinued`` (the ``products`` frame's column; see
:func:`tillage.strategy.deals.discontinued_products`) is never suggested: a suggestion of it is
replaced by its successor (followed down the chain while the successor is discontinued too,
``replaces`` naming the original) or dropped when the account already buys that successor or
is offered it already. A product the account buys — on contract, by order or by a won deal — is
never suggested.

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

#: Candidate rows (an owned product × one of its rules) expanded at once when suggesting.
CHUNK_ROWS = 2_000_000
#: The first pass of a suggestion reads this many × ``top_n`` best rules of each product.
SHORTLIST = 4

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
        ``product_id``, ``name``, ``successor_id``) gives names and the successor relation.

        The pair counts ``n(A, B)`` are the co-occurrence matrix ``XᵀX`` of the sparse
        account × product purchase matrix ``X`` (one sparse product in C, not a self-join of
        every account's purchases: a wholesaler's customers buy hundreds of products each)."""
        from scipy import sparse  # here: with scipy's base, 0.25 s of every command's start

        owner = type(self).__name__
        pairs = self._pairs(frame, owner)
        if pairs.empty:
            raise DataValidationError(f"{owner}: no purchases to learn from")
        accounts, rows = np.unique(pairs["account_id"].to_numpy(), return_inverse=True)
        products_, cols = np.unique(pairs["product_id"].to_numpy(), return_inverse=True)
        x = sparse.csr_array(
            (np.ones(len(pairs), dtype=np.int32), (rows, cols)),
            shape=(len(accounts), len(products_)),
        )
        n = len(accounts)
        buyers = np.asarray(x.sum(axis=0)).ravel().astype(np.int64)
        co = (x.T @ x).tocoo()
        keep_pair = (co.row != co.col) & (co.data >= self.min_accounts)
        i, j = co.row[keep_pair], co.col[keep_pair]
        n_ab = co.data[keep_pair].astype(np.int64)
        rules = pd.DataFrame(
            {
                "product_id_a": products_[i],
                "product_id_b": products_[j],
                "n_accounts": n_ab,
                "n_a": buyers[i],
                "n_b": buyers[j],
            }
        ).sort_values(["product_id_a", "product_id_b"], ignore_index=True)
        rules["support"] = rules["n_accounts"] / n
        rules["confidence"] = rules["n_accounts"] / rules["n_a"]
        rules["lift"] = rules["confidence"] / (rules["n_b"] / n)
        keep = (rules["confidence"] >= self.min_confidence) & (rules["lift"] >= self.min_lift)
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
        gone: set[int] = set()
        if products is not None and "discontinued" in products.columns:
            flagged = products["discontinued"].fillna(False).astype(bool).to_numpy()
            gone = set(products["product_id"].astype("int64").to_numpy()[flagged].tolist())
        self.discontinued_ = gone
        return self

    @property
    def params_(self) -> dict[str, object]:
        """What was learned: the number of accounts and of association rules kept."""
        if not hasattr(self, "rules_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit(purchases)")
        return {"n_accounts": self.n_accounts_, "n_rules": len(self.rules_)}

    def _live(self, product: int) -> int | None:
        """``product``, or the first product down its successor chain that is not discontinued
        (None when the chain ends in a discontinued product without a successor)."""
        seen: set[int] = set()
        while product in getattr(self, "discontinued_", set()):
            seen.add(product)
            nxt = self.successors_.get(product)
            if nxt is None or nxt in seen:
                return None
            product = nxt
        return product

    def _name(self, product: int) -> str:
        return str(self.product_names_.get(int(product), f"#{int(product)}"))

    def suggest(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Up to ``top_n`` suggestions per account of ``frame`` (its purchases), best first,
        indexed by account id; columns ``product_id``, ``kind`` (``successor`` or
        ``co_purchase``), ``score``, ``because_of`` (the product that led to it), ``support``,
        ``confidence``, ``lift``, ``n_accounts``, ``reason_en``, ``reason_ja`` and ``replaces``
        (the discontinued product a suggestion stands in for, else null)."""
        if not hasattr(self, "rules_"):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted yet: call fit(purchases) first"
            )
        pairs = self._pairs(frame, type(self).__name__)
        top_product = int(pairs["product_id"].max()) if len(pairs) else 0
        width = max(top_product, *self.successors_.values(), 0) + 1
        if not self.rules_.empty:
            width = max(width, int(self.rules_["consequent"].max()) + 1)
        owned = np.unique(pairs["account_id"].to_numpy() * width + pairs["product_id"].to_numpy())
        parts = []
        succ_keys = np.empty(0, dtype=np.int64)
        if self.successors and self.successors_:
            succ = pairs[pairs["product_id"].isin(list(self.successors_))].copy()
            succ["because_of"] = succ["product_id"]
            succ["product_id"] = succ["because_of"].map(self.successors_).astype("int64")
            keys = succ["account_id"].to_numpy() * width + succ["product_id"].to_numpy()
            succ = succ[~np.isin(keys, owned)]
            succ_keys = np.unique(keys[~np.isin(keys, owned)])
            succ = succ.assign(
                kind="successor", score=1.0, support=np.nan, confidence=np.nan, lift=np.nan
            )
            succ["n_accounts"] = np.nan
            parts.append(succ)
        parts.append(self._best_co_purchases(pairs, np.union1d(owned, succ_keys), width))
        out = pd.concat([p for p in parts if len(p)], ignore_index=True)
        if out.empty:
            out = pd.DataFrame(columns=[*_OUTPUT, "replaces"])
            return out.set_index("account_id", drop=False).rename_axis("id")
        out = self._lifecycle(out, owned, width)
        out = out.sort_values(
            ["account_id", "score", "lift"], ascending=[True, False, False], kind="stable"
        )
        out = out.drop_duplicates(["account_id", "product_id"])
        out = out.groupby("account_id", sort=True).head(self.top_n)
        out["reason_en"] = [self._reason(r, "en") for r in out.itertuples()]
        out["reason_ja"] = [self._reason(r, "ja") for r in out.itertuples()]
        out = out[[*_OUTPUT, "replaces"]].astype({"account_id": "int64", "product_id": "int64"})
        out["because_of"] = out["because_of"].astype("int64")
        return out.set_index("account_id", drop=False).rename_axis("id")

    def _lifecycle(self, out: pd.DataFrame, owned: np.ndarray, width: int) -> pd.DataFrame:
        """Discontinued products replaced by their live successor (``replaces`` the original),
        or dropped when there is none or the account already buys it."""
        out = out.assign(replaces=pd.array([pd.NA] * len(out), dtype="Int64"))
        if not getattr(self, "discontinued_", None) or out.empty:
            return out
        product = out["product_id"].astype("int64")
        gone = product.isin(list(self.discontinued_))
        live = product[gone].map(self._live)
        out.loc[gone, "replaces"] = product[gone].to_numpy()
        out = out.copy()
        out.loc[gone, "product_id"] = live.to_numpy()
        out = out[out["product_id"].notna()].copy()
        out["product_id"] = out["product_id"].astype("int64")
        keys = out["account_id"].to_numpy(dtype=np.int64) * width + out["product_id"].to_numpy()
        return out[~np.isin(keys, owned)]

    def _best_co_purchases(
        self, pairs: pd.DataFrame, excluded: np.ndarray, width: int
    ) -> pd.DataFrame:
        """:meth:`_co_purchases` over every rule, computed the fast way (exactly the same result).

        A first pass reads only each antecedent's ``SHORTLIST × top_n`` best rules. An account's
        answer is then final when it holds ``top_n`` candidates whose worst confidence beats
        every rule the pass skipped for its products (the best skipped confidence of each
        antecedent bounds them), or when nothing was skipped; the other accounts — few: those
        who already buy most of their products' usual companions — are redone over every rule.
        """
        rules = self.rules_.sort_values(
            ["antecedent", "confidence", "lift", "consequent"],
            ascending=[True, False, False, True],
            kind="stable",
        )
        rank = rules.groupby("antecedent").cumcount().to_numpy()
        cap = SHORTLIST * self.top_n
        short = rules[rank < cap]
        skipped = rules[rank == cap].set_index("antecedent")["confidence"]
        first = self._co_purchases(pairs, excluded, width, short)
        if skipped.empty:
            return first
        bound = (
            pairs.assign(bound=pairs["product_id"].map(skipped).fillna(0.0))
            .groupby("account_id")["bound"]
            .max()
        )
        got = first.groupby("account_id")["confidence"].agg(["size", "min"])
        got = got.reindex(bound.index).fillna({"size": 0, "min": 0.0})
        final = (bound <= 0) | ((got["size"] >= self.top_n) & (got["min"] > bound))
        redo = final.index[~final.to_numpy()]
        if len(redo) == 0:
            return first
        again = self._co_purchases(pairs[pairs["account_id"].isin(redo)], excluded, width, rules)
        kept = first[~first["account_id"].isin(redo)]
        return pd.concat([p for p in (kept, again) if len(p)] or [first], ignore_index=True)

    def _co_purchases(
        self, pairs: pd.DataFrame, excluded: np.ndarray, width: int, rules: pd.DataFrame
    ) -> pd.DataFrame:
        """Each account's best ``top_n`` co-purchase candidates (products it neither buys nor
        gets as a successor, keys ``account_id × width + product_id`` in ``excluded``), each
        through its best rule (highest confidence, then lift, then lowest antecedent id).

        Vectorised by chunks of accounts: every owned product ``A`` expands into the rules
        ``A → B`` (read by offset from the rules sorted by antecedent), so memory stays bounded
        however many products a wholesaler's customers buy. ``rules`` are sorted by antecedent."""
        columns = ["account_id", "product_id", "kind", "score", "because_of", "support"]
        columns += ["confidence", "lift", "n_accounts"]
        if rules.empty:
            return pd.DataFrame(columns=columns)
        antecedents, starts, counts = np.unique(
            rules["antecedent"].to_numpy(), return_index=True, return_counts=True
        )
        consequent = rules["consequent"].to_numpy()
        values = rules[["confidence", "lift", "support", "n_accounts"]].to_numpy(dtype=float)
        mine = pairs[pairs["product_id"].isin(antecedents)]
        mine = mine.sort_values(["account_id", "product_id"])
        if mine.empty:
            return pd.DataFrame(columns=columns)
        where = np.searchsorted(antecedents, mine["product_id"].to_numpy())
        fan = counts[where]
        account = mine["account_id"].to_numpy()
        # chunk boundaries: whole accounts, about CHUNK_ROWS candidate rows each
        first_row = np.flatnonzero(np.r_[True, account[1:] != account[:-1]])
        done = np.cumsum(fan)[np.r_[first_row[1:] - 1, len(fan) - 1]]
        chunk_of = (done - 1) // CHUNK_ROWS
        found = []
        for chunk in np.unique(chunk_of):
            accounts_in = np.flatnonzero(chunk_of == chunk)
            lo = first_row[accounts_in[0]]
            after = accounts_in[-1] + 1
            hi = first_row[after] if after < len(first_row) else len(fan)
            k = fan[lo:hi]
            offsets = np.repeat(starts[where[lo:hi]] - np.cumsum(k) + k, k) + np.arange(k.sum())
            acc = np.repeat(account[lo:hi], k)
            cons = consequent[offsets]
            keys = acc * width + cons
            free = ~np.isin(keys, excluded)
            acc, cons, offsets = acc[free], cons[free], offsets[free]
            ante = np.repeat(mine["product_id"].to_numpy()[lo:hi], k)[free]
            conf, lift = values[offsets, 0], values[offsets, 1]
            # best rule per (account, product), then the account's best top_n products
            order = np.lexsort((ante, -lift, -conf, cons, acc))
            acc, cons, ante, offsets = acc[order], cons[order], ante[order], offsets[order]
            first = np.r_[True, (acc[1:] != acc[:-1]) | (cons[1:] != cons[:-1])]
            acc, cons, ante, offsets = acc[first], cons[first], ante[first], offsets[first]
            conf, lift = values[offsets, 0], values[offsets, 1]
            order = np.lexsort((cons, -lift, -conf, acc))
            acc, cons, ante, offsets = acc[order], cons[order], ante[order], offsets[order]
            starts_acc = np.flatnonzero(np.r_[True, acc[1:] != acc[:-1]])
            rank = np.arange(len(acc)) - np.repeat(starts_acc, np.diff(np.r_[starts_acc, len(acc)]))
            top = rank < self.top_n
            found.append((acc[top], cons[top], ante[top], offsets[top]))
        acc, cons, ante, offsets = (np.concatenate(parts) for parts in zip(*found, strict=True))
        return pd.DataFrame(
            {
                "account_id": acc,
                "product_id": cons,
                "kind": "co_purchase",
                "score": values[offsets, 0],
                "because_of": ante,
                "support": values[offsets, 2],
                "confidence": values[offsets, 0],
                "lift": values[offsets, 1],
                "n_accounts": values[offsets, 3],
            }
        )

    def _reason(self, row: Any, lang: str) -> str:
        a, b = self._name(row.because_of), self._name(row.product_id)
        if pd.notna(row.replaces):
            old = self._name(row.replaces)
            if row.kind == "successor":
                if lang == "ja":
                    return f"{b}は利用中の{a}の後継製品です（{old}は販売終了）"
                return (
                    f"{b} is the successor of {a}, which the account uses ({old} is no longer sold)"
                )
            if lang == "ja":
                return f"{a}を購入している企業は{old}も購入しています（現在は後継の{b}）"
            return f"Accounts that buy {a} also buy {old}, now sold as its successor {b}"
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
