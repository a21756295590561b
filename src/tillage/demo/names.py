"""Locale-specific names: companies, people, regions, industries, departments and titles.

Faker is called only to fill small pools (a few hundred names); the rows then draw from the pools
with NumPy, so naming 100,000 accounts and their contacts costs milliseconds, not minutes.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import numpy as np
from faker import Faker

# (label in ja, label in en, company-name suffixes in ja)
INDUSTRIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("製造業", "Manufacturing", ("工業", "製作所", "精機", "化学", "電機")),
    (
        "情報通信業",
        "Information & Communications",
        ("システム", "ソリューションズ", "情報", "通信"),
    ),
    ("卸売業", "Wholesale", ("商事", "物産", "商会", "トレーディング")),
    ("小売業", "Retail", ("商店", "ストア", "リテール")),
    ("建設業", "Construction", ("建設", "工務店", "設備")),
    ("金融・保険業", "Finance & Insurance", ("保険", "ファイナンス", "証券")),
    ("医療・福祉", "Healthcare", ("メディカル", "ヘルスケア", "薬品")),
    ("運輸業", "Transportation & Logistics", ("運輸", "物流", "ロジスティクス")),
    ("サービス業", "Professional Services", ("サービス", "コンサルティング", "企画")),
)
# Legal forms and punctuation: two names equal without them are one company to an importer.
_LEGAL_FORM = re.compile(r"株式会社|(?<![a-z])(?:inc|llc|ltd|plc|co)\b\.?|[\s\W_]+")


def distinct_companies(names: np.ndarray) -> np.ndarray:
    """``names`` with a repeated company name (equal up to legal form, width, case and
    punctuation) numbered from its second use on — ``ミライ情報株式会社 2`` — so no two demo
    accounts look like one company under two keys."""
    seen: Counter[str] = Counter()
    out = []
    for name in names.tolist():
        fold = _LEGAL_FORM.sub("", unicodedata.normalize("NFKC", name).casefold())
        seen[fold] += 1
        out.append(name if seen[fold] == 1 else f"{name} {seen[fold]}")
    return np.array(out)


INDUSTRY_WEIGHTS = np.array([0.24, 0.16, 0.13, 0.09, 0.09, 0.07, 0.07, 0.07, 0.08])

# Prefecture weights roughly follow where Japanese companies are registered.
_BIG_PREFECTURES = {
    "東京都": 30.0,
    "大阪府": 9.0,
    "愛知県": 7.0,
    "神奈川県": 6.0,
    "埼玉県": 3.5,
    "福岡県": 3.5,
    "兵庫県": 3.0,
    "北海道": 3.0,
    "千葉県": 2.5,
    "静岡県": 2.0,
    "京都府": 2.0,
    "広島県": 1.8,
}

_BRAND_WORDS = (
    "アサヒ",
    "ヤマト",
    "ミライ",
    "サクラ",
    "ひかり",
    "東洋",
    "日本",
    "大和",
    "昭和",
    "三和",
    "富士",
    "平和",
    "中央",
    "第一",
    "新日本",
    "太平洋",
    "丸栄",
    "共栄",
    "協和",
    "日進",
)

DEPARTMENTS = {
    "ja": ("情報システム部", "営業部", "経営企画部", "購買部", "総務部", "製造部", "経理部"),
    "en": ("IT", "Sales", "Strategy", "Procurement", "Operations", "Manufacturing", "Finance"),
}
# (title, is decision maker, weight)
TITLES = {
    "ja": (
        ("代表取締役", True, 0.04),
        ("取締役", True, 0.06),
        ("部長", True, 0.16),
        ("課長", False, 0.22),
        ("係長", False, 0.16),
        ("主任", False, 0.16),
        ("担当", False, 0.20),
    ),
    "en": (
        ("CEO", True, 0.04),
        ("VP", True, 0.06),
        ("Director", True, 0.16),
        ("Manager", False, 0.22),
        ("Team Lead", False, 0.16),
        ("Specialist", False, 0.16),
        ("Analyst", False, 0.20),
    ),
}


def industry_labels(locale: str) -> list[str]:
    return [ja if locale == "ja" else en for ja, en, _ in INDUSTRIES]


class NamePools:
    """Pools of names drawn once from a seeded Faker for one locale."""

    def __init__(self, locale: str, seed: int, size: int = 400) -> None:
        self.locale = locale
        fake = Faker("ja_JP" if locale == "ja" else "en_US")
        fake.seed_instance(seed)
        if locale == "ja":
            last = [fake.last_name_pair() for _ in range(size)]
            first = [fake.first_name_pair() for _ in range(size)]
            self.last = np.array([p[0] for p in last])
            self.last_roman = np.array([p[2].lower() for p in last])
            self.first = np.array([p[0] for p in first])
            self.first_roman = np.array([p[2].lower() for p in first])
            cores = {fake.last_name() for _ in range(size)}
            cores |= {re.split("[市区町村郡]", fake.city())[0] for _ in range(size)}
            cores |= set(_BRAND_WORDS)
            self.company_core = np.array(sorted(c for c in cores if 1 < len(c) <= 5))
            prefectures = list(dict.fromkeys(fake.prefecture() for _ in range(size * 4)))
            prefectures = sorted(set(prefectures) | set(_BIG_PREFECTURES))
            self.regions = np.array(prefectures)
            weights = np.array([_BIG_PREFECTURES.get(p, 0.6) for p in prefectures])
            self.country = "JP"
            self.email_domain = "example.co.jp"
        else:
            self.last = np.array([fake.last_name() for _ in range(size)])
            self.first = np.array([fake.first_name() for _ in range(size)])
            self.last_roman = np.char.lower(self.last)
            self.first_roman = np.char.lower(self.first)
            self.company_core = np.array(sorted({fake.company() for _ in range(size * 2)}))
            states = sorted({fake.state() for _ in range(size)})
            self.regions = np.array(states)
            weights = np.ones(len(states))
            self.country = "US"
            self.email_domain = "example.com"
        self.region_p = weights / weights.sum()

    def people(
        self, rng: np.random.Generator, n: int, *, unique: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """``n`` person names and the romanised ``first.last`` used for e-mail addresses.

        ``unique`` redraws repeated names (colleagues must be told apart by name: the dashboard
        and a HubSpot export name owners, not ids); it needs n below the number of combinations.
        """
        i = rng.integers(0, len(self.last), n)
        j = rng.integers(0, len(self.first), n)
        names = self._full_names(i, j)
        while unique:
            _, first_seen = np.unique(names, return_index=True)
            again = np.ones(n, dtype=bool)
            again[first_seen] = False
            if not again.any():
                break
            i[again] = rng.integers(0, len(self.last), int(again.sum()))
            j[again] = rng.integers(0, len(self.first), int(again.sum()))
            names = self._full_names(i, j)
        local = np.char.add(np.char.add(self.first_roman[j], "."), self.last_roman[i])
        return names, local

    def _full_names(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        if self.locale == "ja":
            return np.char.add(np.char.add(self.last[i], " "), self.first[j])
        return np.char.add(np.char.add(self.first[j], " "), self.last[i])

    def companies(self, rng: np.random.Generator, industry: np.ndarray) -> np.ndarray:
        """One company name per account; Japanese names carry an industry suffix and 株式会社."""
        n = len(industry)
        core = self.company_core[rng.integers(0, len(self.company_core), n)]
        if self.locale != "ja":
            return distinct_companies(core)
        suffix = np.empty(n, dtype=object)
        for k, (_, _, suffixes) in enumerate(INDUSTRIES):
            mask = industry == k
            suffix[mask] = np.array(suffixes, dtype=object)[
                rng.integers(0, len(suffixes), int(mask.sum()))
            ]
        base = np.char.add(core, suffix.astype(str))
        form = rng.choice(3, size=n, p=[0.55, 0.35, 0.10])
        return distinct_companies(
            np.where(
                form == 0,
                np.char.add("株式会社", base),
                np.where(form == 1, np.char.add(base, "株式会社"), base),
            )
        )

    def region(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.regions[rng.choice(len(self.regions), size=n, p=self.region_p)]
