"""Times are stored business-local: 08:00 JST on 1 April is April, whatever the input's zone."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tillage.store.bulk import insert_frame
from tillage.store.schema import Activity
from tillage.store.timezone import business_date, to_business_local


def test_utc_instant_lands_on_the_business_local_day() -> None:
    utc = pd.Series(pd.to_datetime(["2024-03-31T23:00:00Z"], utc=True))
    local = to_business_local(utc, "Asia/Tokyo")
    assert local.iloc[0] == pd.Timestamp("2024-04-01 08:00")
    assert business_date(utc, "Asia/Tokyo").iloc[0].month == 4


def test_strings_with_offsets_and_naive_strings() -> None:
    mixed = pd.Series(["2024-03-31T23:00:00+00:00", "2024-04-01T08:00:00+09:00"])
    local = to_business_local(mixed, "Asia/Tokyo")
    assert (local == pd.Timestamp("2024-04-01 08:00")).all()
    naive = pd.Series(["2024-04-01 08:00:00"])
    assert to_business_local(naive, "Asia/Tokyo").iloc[0] == pd.Timestamp("2024-04-01 08:00")
    # Another business zone sees the same instant on another day.
    assert to_business_local(mixed, "America/New_York").iloc[0].day == 31


def test_stored_and_read_back_in_april(engine: Engine) -> None:
    instant = pd.Series(pd.to_datetime(["2024-03-31T23:00:00Z"], utc=True))
    with engine.begin() as connection:
        insert_frame(connection, "accounts", pd.DataFrame({"id": [1], "key": ["A"], "name": ["A"]}))
        insert_frame(
            connection,
            "activities",
            pd.DataFrame(
                {
                    "id": [1],
                    "key": ["X"],
                    "account_id": [1],
                    "type": ["call"],
                    "occurred_at": to_business_local(instant, "Asia/Tokyo"),
                }
            ),
        )
    with Session(engine) as session:
        stored = session.scalars(select(Activity.occurred_at)).one()
    assert stored == dt.datetime(2024, 4, 1, 8, 0)
