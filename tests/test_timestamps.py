"""Times in API answers carry their offset (RFC 3339), and read back as the naive time kept."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from tillage.timestamps import LocalTimestamp, UtcTimestamp, business_zone


class _Answer(BaseModel):
    local: LocalTimestamp
    utc: UtcTimestamp
    maybe: LocalTimestamp | None = None


KEPT = dt.datetime(2026, 12, 7, 12, 4, 57)  # naive, as the store keeps both clocks


def test_an_answer_names_the_offset_of_each_clock() -> None:
    with business_zone(ZoneInfo("Asia/Tokyo")):
        text = _Answer(local=KEPT, utc=KEPT).model_dump_json()
    assert '"local":"2026-12-07T12:04:57+09:00"' in text
    assert '"utc":"2026-12-07T12:04:57+00:00"' in text
    # the schema still says date-time, which the answer now is
    schema = _Answer.model_json_schema(mode="serialization")["properties"]
    assert schema["local"]["type"] == "string" and schema["local"]["format"] == "date-time"


def test_read_back_it_is_the_naive_time_kept_and_python_values_stay_naive() -> None:
    with business_zone(ZoneInfo("America/New_York")):
        text = _Answer(local=KEPT, utc=KEPT, maybe=KEPT).model_dump_json()
    again = _Answer.model_validate_json(text)  # e.g. the page cache
    assert again.local == KEPT and again.local.tzinfo is None
    assert again.utc == KEPT and again.utc.tzinfo is None
    assert again.maybe == KEPT
    # an aware UTC time given to a UTC field is kept as its naive UTC time
    tokyo = dt.datetime(2026, 12, 7, 21, 4, 57, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert _Answer(local=KEPT, utc=tokyo).utc == KEPT


def test_outside_a_request_a_local_time_is_written_as_kept() -> None:
    assert '"local":"2026-12-07T12:04:57"' in _Answer(local=KEPT, utc=KEPT).model_dump_json()
