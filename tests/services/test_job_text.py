"""The one table of the scoring steps' names (``services/job_text.step_labels``): the Data
page's progress bar and failure sentences use the short wording, the CLI's progress line the
detailed one; both name the same steps, in Japanese and English."""

from __future__ import annotations

import re

import pytest
from rich.console import Console
from rich.progress import Progress

from tillage.cli.context import state
from tillage.cli.score import scoring_progress
from tillage.services.job_text import failure_sentence, step_labels
from tillage.services.scoring import STEPS


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_both_wordings_name_every_step(lang: str) -> None:
    short, detailed = step_labels(lang), step_labels(lang, detailed=True)
    assert set(short) == set(detailed) == {*STEPS, "start", "import"}
    assert all(short.values()) and all(detailed.values())
    assert len(set(short.values())) == len(short)  # no two steps alike
    assert len(set(detailed.values())) == len(detailed)


def test_the_japanese_names_are_translated_and_use_one_term() -> None:
    english = step_labels("en", detailed=True) | step_labels("en")
    for detailed in (False, True):
        for step, label in step_labels("ja", detailed=detailed).items():
            assert label != step_labels("en", detailed=detailed)[step], step
            assert not re.search(r"[A-Za-z]{2,}", label.replace("LTV", "")), label
    assert "受注確率" in step_labels("ja", detailed=True)["deals"]  # the pages' word for it
    assert english["values"] == "Valuing accounts"


def test_the_cli_progress_line_shows_the_detailed_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state, "lang", "ja")
    progress = Progress(console=Console(file=None, force_terminal=False, width=100))
    on_step, done = scoring_progress(progress, "スコアリング")
    on_step("values")
    task = progress.tasks[0]
    assert task.description == "スコアリング: " + step_labels("ja", detailed=True)["values"]
    on_step("deals")
    assert task.description.endswith("進行中の商談：受注確率とゾーン")
    assert task.completed == 1
    done()
    assert task.completed == len(STEPS)


def test_a_failure_names_the_step_with_the_short_wording() -> None:
    sentence = failure_sentence("deals", "ja")
    assert step_labels("ja")["deals"] in sentence
    assert step_labels("ja", detailed=True)["deals"] not in sentence
