"""The product catalogue: families, margins, successors and cross-sell affinities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# family key, ja label, en label, margin rate
FAMILIES: tuple[tuple[str, str, str, float], ...] = (
    ("licence", "ライセンス", "Licences", 0.85),
    ("module", "オプションモジュール", "Modules", 0.80),
    ("service", "サービス", "Services", 0.35),
    ("consumable", "消耗品", "Consumables", 0.30),
    ("hardware", "ハードウェア", "Hardware", 0.20),
)

# A successor comes before the product it replaces, so the self-reference points backwards and
# loads row by row with foreign keys enforced.
# (family index, ja name, en name, list price JPY, recurring, successor name (en) or None)
_PRODUCTS: tuple[tuple[int, str, str, float, bool, str | None], ...] = (
    (0, "スタンダードライセンス", "Standard Licence", 100_000, True, None),
    (0, "プロフェッショナルライセンス", "Professional Licence", 300_000, True, None),
    (0, "エンタープライズライセンス", "Enterprise Licence", 900_000, True, None),
    (0, "オンプレミス版ライセンス", "On-premises Licence", 250_000, True, "Professional Licence"),
    (1, "分析モジュール", "Analytics Module", 180_000, False, None),
    (1, "ワークフローモジュール", "Workflow Module", 150_000, False, None),
    (1, "API連携モジュール", "API Integration Module", 120_000, False, None),
    (1, "セキュリティモジュール", "Security Module", 200_000, False, None),
    (2, "導入支援サービス", "Onboarding Service", 400_000, False, None),
    (2, "トレーニング", "Training", 150_000, False, None),
    (2, "カスタマイズ開発", "Custom Development", 800_000, False, None),
    (2, "保守サポート", "Maintenance Support", 60_000, True, None),
    (3, "ラベル用紙", "Label Stock", 12_000, False, None),
    (3, "トナーカートリッジ", "Toner Cartridge", 18_000, False, None),
    (3, "センサー交換部品", "Sensor Spare Part", 35_000, False, None),
    (3, "メンテナンスキット", "Maintenance Kit", 25_000, False, None),
    (4, "ハンディターミナル", "Handheld Terminal", 150_000, False, None),
    (4, "ラベルプリンタ", "Label Printer", 220_000, False, None),
    (4, "ゲートウェイ端末 第2世代", "Gateway Device Gen 2", 350_000, False, None),
    (4, "ゲートウェイ端末 第1世代", "Gateway Device Gen 1", 300_000, False, "Gateway Device Gen 2"),
)

# P(next line's family | first line's family) for order lines: hardware goes with consumables,
# modules with services and licences. Rows: first family; columns: next family.
FAMILY_AFFINITY = np.array(
    [
        [0.20, 0.45, 0.25, 0.05, 0.05],
        [0.15, 0.40, 0.35, 0.05, 0.05],
        [0.10, 0.40, 0.35, 0.05, 0.10],
        [0.02, 0.03, 0.05, 0.60, 0.30],
        [0.02, 0.03, 0.15, 0.50, 0.30],
    ]
)
# Orders' first-line family, for the account's own preference and for the base mix.
ORDER_FAMILY_BASE = np.array([0.03, 0.17, 0.15, 0.40, 0.25])


@dataclass(frozen=True)
class Catalog:
    """Products as arrays plus the switch month after which successors replace their ancestors."""

    family: np.ndarray  # family index per product
    list_price: np.ndarray
    recurring: np.ndarray
    successor: np.ndarray  # product index or -1
    margin_rate: np.ndarray  # per family
    switch_month: int  # grid month from which successor products replace old ones
    frame: pd.DataFrame  # the canonical ``products`` rows

    @classmethod
    def build(cls, locale: str, switch_month: int) -> Catalog:
        names_en = [p[2] for p in _PRODUCTS]
        successor = np.array(
            [names_en.index(p[5]) if p[5] else -1 for p in _PRODUCTS], dtype=np.int64
        )
        family = np.array([p[0] for p in _PRODUCTS], dtype=np.int64)
        ids = np.arange(1, len(_PRODUCTS) + 1)
        frame = pd.DataFrame(
            {
                "id": ids,
                "key": [f"PRD-{i:03d}" for i in ids],
                "name": [p[1] if locale == "ja" else p[2] for p in _PRODUCTS],
                "family": [FAMILIES[f][1] if locale == "ja" else FAMILIES[f][2] for f in family],
                "list_price": np.array([p[3] for p in _PRODUCTS], dtype=float),
                "is_recurring": np.array([p[4] for p in _PRODUCTS], dtype=bool),
                "successor_id": pd.array(np.where(successor >= 0, successor + 1, 0), "Int64"),
            }
        )
        frame.loc[successor < 0, "successor_id"] = pd.NA
        return cls(
            family=family,
            list_price=frame["list_price"].to_numpy(),
            recurring=frame["is_recurring"].to_numpy(),
            successor=successor,
            margin_rate=np.array([f[3] for f in FAMILIES]),
            switch_month=switch_month,
            frame=frame,
        )

    def products_of(self, family: int, month_after_switch: bool) -> np.ndarray:
        """Indices of products on sale in ``family`` before/after the successor switch."""
        in_family = self.family == family
        if month_after_switch:
            on_sale = self.successor < 0
        else:
            is_successor = np.isin(np.arange(len(self.family)), self.successor[self.successor >= 0])
            on_sale = ~is_successor
        return np.flatnonzero(in_family & on_sale)

    def params(self) -> dict:
        return {
            "families": [f[0] for f in FAMILIES],
            "margin_rate": {f[0]: f[3] for f in FAMILIES},
            "family_affinity": FAMILY_AFFINITY.tolist(),
            "order_family_base": ORDER_FAMILY_BASE.tolist(),
            "successor_switch_month_index": self.switch_month,
        }
