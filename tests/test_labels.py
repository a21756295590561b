"""Rep and team labels: names, made unique with the key where two share one."""

from __future__ import annotations

import pandas as pd

from tillage.labels import label_column, unique_labels


def test_unique_names_stay_plain_and_shared_names_get_their_key() -> None:
    labels = unique_labels([(1, "R1", "Sato Yuki"), (2, "R2", "Sato Yuki"), (3, "R3", "Ito Ken")])
    assert labels == {1: "Sato Yuki (R1)", 2: "Sato Yuki (R2)", 3: "Ito Ken"}


def test_a_missing_name_falls_back_to_the_key() -> None:
    assert unique_labels([(1, "R1", None), (2, "R2", "  ")]) == {1: "R1", 2: "R2"}


def test_label_column_aligns_with_the_frame() -> None:
    frame = pd.DataFrame(
        {"id": [2, 1, None], "key": ["B", "A", None], "name": ["Same", "Same", None]}
    )
    got = label_column(frame, "id", "key", "name")
    assert got.tolist()[:2] == ["Same (B)", "Same (A)"] and pd.isna(got.iloc[2])
