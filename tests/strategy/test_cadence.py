"""The contact cadence in the plan: which accounts are due in a month, overdue, never
contacted; the meeting kind; and the plan's line in Japanese and English."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from tillage.strategy.cadence import cadence_due, cadence_line
from tillage.strategy.config import Strategy

D = dt.date
AS_OF, MONTH = D(2026, 9, 30), D(2026, 10, 1)


def test_due_overdue_and_never_contacted() -> None:
    cells = pd.DataFrame(
        {
            "account_id": [1, 2, 3, 4, 5],
            "segment": ["deepen", "deepen", "nurture", "reduce", "maintain"],
        }
    )
    contacts = pd.DataFrame(
        {
            "account_id": [1, 1, 2, 3, 4],
            "type": ["visit", "email", "visit", "meeting", "call"],
            "last": [D(2026, 9, 20), D(2026, 9, 29), D(2026, 8, 15), D(2026, 9, 1), D(2026, 6, 1)],
        }
    )
    due = cadence_due(cells, contacts, Strategy(), as_of=AS_OF, month=MONTH)
    by = due.set_index("account_id")
    # 1: visit 09-20 + 30 = 10-20, due in October (the e-mail does not count for a visit)
    assert by.loc[1, "due_by"] == D(2026, 10, 20) and not by.loc[1, "overdue"]
    # 2: visit 08-15 + 30 = 09-14: overdue
    assert by.loc[2, "overdue"]
    # 3: nurture wants a QBR: a meeting is not one, so none on record: due now (the as-of date)
    assert by.loc[3, "last_contact"] is None and by.loc[3, "due_by"] == AS_OF
    # 4: reduce: any contact every 182 days; a call on 06-01 is due 11-30, not in October
    assert 4 not in by.index
    # 5: maintain, never met: due now
    assert by.loc[5, "due_by"] == AS_OF
    assert list(due["due_by"]) == sorted(due["due_by"])


def test_the_plan_line_names_the_rule_the_last_contact_and_the_day() -> None:
    en = cadence_line("visit", 30, D(2026, 9, 20), D(2026, 10, 20), "en")
    assert en == "a visit every 30 days: last on 2026-09-20, due by 2026-10-20"
    ja = cadence_line("qbr", 91, None, AS_OF, "ja")
    assert "91" in ja and ja != cadence_line("qbr", 91, None, AS_OF, "en")
