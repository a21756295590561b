"""Product suggestions on a hand-made purchase table whose right answer is known.

Ten accounts. Printers (1) go with labels (2): accounts 1–5 buy both, 6 buys only the printer,
so the rule printer → labels has 5 accounts, confidence 5/6 and lift (5/6)/(6/10) = 25/18
(6 of the 10 accounts buy labels).
Account 7 buys labels only: labels → printer has confidence 5/6 too (5 of the 6 labels buyers).
Software (3) is bought by 8–10 and by nobody with printers. Product 4 is a legacy gateway with
successor 5: account 9 uses it and should be offered 5; account 10 already has 5.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tillage.errors import DataValidationError, NotFittedError
from tillage.models import suggestions
from tillage.models.suggestions import ProductSuggestions

PURCHASES = pd.DataFrame(
    [(a, 1) for a in range(1, 7)]
    + [(a, 2) for a in (1, 2, 3, 4, 5, 7)]
    + [(a, 3) for a in (8, 9, 10)]
    + [(9, 4), (10, 4), (10, 5)],
    columns=["account_id", "product_id"],
)
PRODUCTS = pd.DataFrame(
    {
        "product_id": [1, 2, 3, 4, 5],
        "name": ["Printer", "Labels", "Software", "Gateway G1", "Gateway G2"],
        "successor_id": [None, None, None, 5, None],
    }
)


def fitted() -> ProductSuggestions:
    return ProductSuggestions(min_accounts=3, min_confidence=0.5, min_lift=1.2).fit(
        PURCHASES, products=PRODUCTS
    )


def test_rules_have_the_known_support_confidence_and_lift() -> None:
    rules = fitted().rules_.set_index(["antecedent", "consequent"])
    rule = rules.loc[(1, 2)]
    assert rule["n_accounts"] == 5
    assert rule["support"] == pytest.approx(0.5)
    assert rule["confidence"] == pytest.approx(5 / 6)
    assert rule["lift"] == pytest.approx(25 / 18)
    assert (1, 3) not in rules.index and (3, 1) not in rules.index


def test_accounts_get_the_missing_half_of_the_pair_and_successors() -> None:
    out = fitted().suggest(PURCHASES)
    assert out.loc[[6], "product_id"].tolist() == [2]
    assert out.loc[[7], "product_id"].tolist() == [1]
    assert 1 not in out.index  # owns both
    nine = out.loc[[9]]
    assert nine["product_id"].tolist() == [5] and nine["kind"].tolist() == ["successor"]
    assert 10 not in out.index  # already on the successor
    six = out.loc[6]
    assert six["reason_en"] == (
        "Accounts that buy Printer also buy Labels (lift 1.4, 5 accounts, confidence 83%)"
    )
    assert six["reason_ja"].startswith("Printerを購入している企業はLabelsも購入しています")
    assert (
        nine["reason_en"].iloc[0]
        == "Gateway G2 is the successor of Gateway G1, which the account uses"
    )
    assert nine["reason_ja"].iloc[0] == "Gateway G2は利用中のGateway G1の後継製品です"


def test_errors() -> None:
    with pytest.raises(NotFittedError):
        ProductSuggestions().suggest(PURCHASES)
    with pytest.raises(DataValidationError, match="'product_id'"):
        ProductSuggestions().fit(PURCHASES.drop(columns="product_id"))


def _brute_force(model: ProductSuggestions, purchases: pd.DataFrame) -> pd.DataFrame:
    """Every account's co-purchase candidates through every rule, the slow obvious way."""
    rules = model.rules_
    rows = []
    for account, group in purchases.groupby("account_id"):
        owned = set(group["product_id"])
        best: dict[int, tuple[float, float, int]] = {}
        for rule in rules[rules["antecedent"].isin(owned)].itertuples():
            if rule.consequent in owned:
                continue
            key = (rule.confidence, rule.lift, -rule.antecedent)
            if rule.consequent not in best or key > best[rule.consequent]:
                best[rule.consequent] = key
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
        for product, (confidence, _lift, minus_antecedent) in ranked[: model.top_n]:
            rows.append((account, product, confidence, -minus_antecedent))
    return pd.DataFrame(rows, columns=["account_id", "product_id", "score", "because_of"])


@pytest.mark.parametrize("shortlist", [1, 4])
def test_fast_suggestions_equal_the_brute_force_ones(
    shortlist: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Heavy buyers own most of their products' usual companions, so the shortlist pass must
    # hand them to the exact pass; a shortlist of 1 × top_n forces that often.
    rng = np.random.default_rng(3)
    taste = rng.dirichlet(np.full(40, 0.3), size=6)
    rows = []
    for account in range(1, 301):
        group = taste[account % 6]
        size = int(rng.integers(2, 30))
        rows += [(account, int(p)) for p in rng.choice(40, size=size, replace=False, p=group)]
    purchases = pd.DataFrame(rows, columns=["account_id", "product_id"]).drop_duplicates()
    monkeypatch.setattr(suggestions, "SHORTLIST", shortlist)
    monkeypatch.setattr(suggestions, "CHUNK_ROWS", 500)  # many chunks
    model = ProductSuggestions(min_accounts=3, min_confidence=0.05, min_lift=1.0, top_n=4)
    model.fit(purchases)
    got = model.suggest(purchases).reset_index(drop=True)
    want = _brute_force(model, purchases)
    assert len(want) > 500
    pd.testing.assert_frame_equal(
        got[["account_id", "product_id", "score", "because_of"]]
        .sort_values(["account_id", "product_id"])
        .reset_index(drop=True),
        want.sort_values(["account_id", "product_id"]).reset_index(drop=True),
        check_dtype=False,
    )


def test_a_discontinued_product_is_replaced_by_its_successor_or_dropped() -> None:
    # labels (2) are discontinued, replaced by labels v2 (6), itself succeeded by nothing;
    # account 3 already buys labels v2
    purchases = pd.concat(
        [PURCHASES, pd.DataFrame({"account_id": [3], "product_id": [6]})], ignore_index=True
    )
    products = pd.DataFrame(
        {
            "product_id": [1, 2, 3, 4, 5, 6],
            "name": ["Printer", "Labels", "Software", "Gateway G1", "Gateway G2", "Labels v2"],
            "successor_id": pd.array([None, 6, None, 5, None, None], dtype="Int64"),
            "discontinued": [False, True, False, False, False, False],
        }
    )
    model = ProductSuggestions(min_accounts=3, min_confidence=0.5, min_lift=1.2)
    out = model.fit(purchases, products=products).suggest(purchases)
    # account 6 (printer only) was offered labels: now labels v2, naming what it replaces
    six = out.loc[[6]]
    assert six["product_id"].tolist() == [6] and six["replaces"].tolist() == [2]
    assert six["reason_en"].iloc[0] == (
        "Accounts that buy Printer also buy Labels, now sold as its successor Labels v2"
    )
    assert "後継のLabels v2" in six["reason_ja"].iloc[0]
    # nothing discontinued is ever suggested, nor anything an account already buys
    assert not out["product_id"].isin([2]).any()
    owned = set(zip(purchases["account_id"], purchases["product_id"], strict=True))
    assert not any(
        (a, p) in owned for a, p in zip(out["account_id"], out["product_id"], strict=True)
    )
