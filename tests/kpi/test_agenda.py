"""The 1on1 agenda on the hand-made company (snapshots of ``review_fixture.py``): selection,
visibility, behaviour against the team, questions in both languages, and the CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tillage.cli.main import app
from tillage.config import get_settings
from tillage.errors import NotFoundError
from tillage.report.review import render_agenda
from tillage.services.reviews import build_agenda
from tillage.store.access import Principal, account_filter
from tillage.store.database import make_engine

from . import review_fixture


@pytest.fixture(scope="module")
def store(handmade_store):  # type: ignore[no-untyped-def]
    url, kind = handmade_store
    engine = make_engine(url)
    try:
        review_fixture.write(engine)
    finally:
        engine.dispose()
    return url, kind


def test_sato_agenda_from_the_newest_snapshot(store) -> None:  # type: ignore[no-untyped-def]
    url, kind = store
    agenda = build_agenda(url, "R11", engine=kind)
    assert agenda.snapshot.as_of == review_fixture.SECOND and agenda.team == "West"
    # Sato's accounts in snapshot 2: 4 (priority 40) and 6 (85)
    assert [a.account_id for a in agenda.top_accounts] == [6, 4]
    # at risk: 6 (churn 0.5 ≥ 0.2); 4 has churn 0.1 and no silent churn
    assert [a.account_id for a in agenda.at_risk] == [6]
    assert agenda.at_risk[0].value_at_risk == pytest.approx(0.5 * 800_000)
    assert "churn risk 50%" in agenda.at_risk[0].reasons
    # the open deal o4 of account 6, scored 0.45 in snapshot 2
    assert [(d.opportunity_id, d.win_probability) for d in agenda.deals] == [(4, 0.45)]
    assert agenda.deals[0].expected_value == pytest.approx(0.45 * 40_000)
    behaviour = {b.kpi: b for b in agenda.behaviour}
    # Q3 proposals: Sato's accounts 6 (o3, o4), company 3 (o1 too); stories: none of Sato's
    assert (behaviour["expansion_proposals"].rep, behaviour["expansion_proposals"].company) == (
        2.0,
        3.0,
    )
    assert behaviour["success_stories"].rep == 0.0
    questions = [q.question for q in agenda.questions]
    # the source material's question, kept for the high-value account in trouble, with the
    # evidence; not for account 4 (lower LTV, churn 10%)
    assert (
        "Six (LTV ¥800K): churn risk 50% — what is the biggest obstacle to this customer's "
        "success right now?"
    ) in questions
    assert not any("Four" in q and "obstacle" in q for q in questions)
    # Six is asked about once, not again as an at-risk account
    assert sum("Six" in q and "deal" not in q for q in questions) == 1
    assert questions[-1] == "What support do you need from me or the team?"


def test_japanese_questions(store) -> None:  # type: ignore[no-untyped-def]
    url, kind = store
    agenda = build_agenda(url, "R11", lang="ja", engine=kind)
    asked = [q.question for q in agenda.questions]
    assert any(q.startswith("Six（LTV") and "いちばんの障害" in q for q in asked), asked
    assert render_agenda(agenda, "md").startswith("# 1on1 アジェンダ: Sato (West)")


def test_a_rep_never_sees_another_reps_accounts(store) -> None:  # type: ignore[no-untyped-def]
    url, kind = store
    ito = Principal(user_id=1, login="ito", display_name="Ito", role="rep", rep_key="R10")
    with pytest.raises(NotFoundError):
        build_agenda(url, "R11", visible=account_filter(ito), engine=kind)
    mine = build_agenda(url, "R10", visible=account_filter(ito), engine=kind)
    assert {a.account_id for a in mine.top_accounts} == {1, 2}


def test_cli_one_on_one_and_review(store, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url, _kind = store
    monkeypatch.setenv("TILLAGE_DATABASE_URL", url)
    get_settings.cache_clear()
    runner = CliRunner()
    result = runner.invoke(app, ["one-on-one", "--rep", "R10", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rep"] == "Ito"
    out = tmp_path / "review.html"
    result = runner.invoke(
        app,
        ["--lang", "en", "review", "--period", "2026-Q3", "--format", "html", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "<h1>Period review 2026-Q3</h1>" in out.read_text(encoding="utf-8")
    get_settings.cache_clear()
