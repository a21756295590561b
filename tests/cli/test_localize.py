"""The command line's own words in the user's language: usage errors and ``--help`` from the
installed command (``python -m tillage`` in a subprocess, as a user or a cron job runs it), in
Japanese by default and in English with the English setting, always exit status 2 for a usage
error."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tillage.cli.commands import COMMANDS, load_command
from tillage.cli.context import state
from tillage.cli.localize import usage_message
from tillage.i18n import gettext_for

from ..installed import run_tillage

ENGLISH = ("Error:", "Usage:", "Missing", "No such", "Invalid value", "Try '", "for help")


def _tillage(args: list[str], tmp_path: Path, lang: str | None) -> subprocess.CompletedProcess:
    return run_tillage(args, data_dir=tmp_path, lang=lang, columns=100, timeout=120)


# (command line, the Japanese reason, the English one); each but the last shows the usage line
USAGE_ERRORS = [
    (["clv", "orders.csv"], "オプション '--customer' が指定されていません。",
     "Missing option '--customer'."),
    (["clv"], "引数 'file' が指定されていません。", "Missing argument 'file'."),
    (["ltv", "--bogus"], "そのようなオプションはありません: --bogus", "No such option: --bogus"),
    (["ltv", "--top", "abc"], "'--top' の値が正しくありません: 'abc' は整数ではありません。",
     "Invalid value for '--top': 'abc' is not a whole number."),
    (["scroe"], "コマンド 'scroe' はありません。 'score' のことですか？",
     "No such command 'scroe'. Did you mean 'score'?"),
    (["accounts", "--order", "up"],
     "--order の値が正しくありません: asc または desc を指定してください",
     "Invalid value for --order: choose asc or desc"),
    (["ltv", "--top"], "オプション '--top' には値が必要です。", "Option '--top' needs a value."),
]  # fmt: skip


@pytest.mark.parametrize(("args", "japanese", "english"), USAGE_ERRORS)
def test_usage_errors_are_in_the_users_language_with_status_2(
    args: list[str], japanese: str, english: str, tmp_path: Path
) -> None:
    usage = args != USAGE_ERRORS[-1][0]  # Typer's parser gives that one no usage line
    done = _tillage(args, tmp_path, None)
    assert done.returncode == 2, done.stderr
    assert f"エラー: {japanese}" in done.stderr
    if usage:
        assert "使い方: " in done.stderr and "で使い方を表示できます。" in done.stderr
    assert not [word for word in ENGLISH if word in done.stderr], done.stderr
    assert "Traceback" not in done.stderr
    done = _tillage(["--lang", "en", *args], tmp_path, "ja")
    assert done.returncode == 2, done.stderr
    assert f"Error: {english}" in done.stderr
    if usage:
        assert "Usage: " in done.stderr and "for help." in done.stderr
    assert "エラー" not in done.stderr


def test_the_english_setting_gives_english_errors(tmp_path: Path) -> None:
    done = _tillage(["clv"], tmp_path, "en")
    assert done.returncode == 2
    assert "Error: Missing argument 'file'." in done.stderr
    assert "Usage: " in done.stderr and "[OPTIONS]" in done.stderr


@pytest.mark.parametrize("command", ["demo", "score", "import", "ltv", "accounts", "kpi", "serve"])
def test_help_is_in_japanese_by_default(command: str, tmp_path: Path) -> None:
    """The most used commands' help: the framework's titles, the command's line and every
    option's help in Japanese; nothing of it in English."""
    done = _tillage([command, "--help"], tmp_path, None)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "使い方: " in text and "[オプション]" in text and "オプション" in text
    assert "このヘルプを表示して終了する。" in text
    for english in ("Usage:", "Options", "Show this message", "[OPTIONS]", "[default:", "Store "):
        assert english not in text, (command, english)
    for python_type in ("<str>", "<int>", "<float>", "<bool>", "<Path>", "<text>", "<integer>"):
        assert python_type not in text, (command, python_type)  # value types in Japanese


def test_the_ltv_help_in_japanese_and_english(tmp_path: Path) -> None:
    """The option help, its default and the command's line, wrapped without being cut off."""
    japanese = _tillage(["ltv", "--help"], tmp_path, None).stdout
    assert "表示する取引先の数。" in japanese and "[既定: 20]" in japanese
    assert "取引先ごとのLTV" in japanese
    assert "…" not in japanese  # a long Japanese help folds onto the next line
    english = _tillage(["ltv", "--help"], tmp_path, "en").stdout
    assert "Accounts to print." in english and "[default: 20]" in english
    assert "Usage: " in english and "Show this message and exit." in english
    assert "<整数>" in japanese and "<integer>" in english  # --top's value type
    assert "<bool>" not in english  # a flag takes no value


def test_the_command_list_is_in_japanese(tmp_path: Path) -> None:
    done = _tillage(["--help"], tmp_path, None)
    assert done.returncode == 0
    assert "コマンド [引数]..." in done.stdout and "╭─ コマンド" in done.stdout
    assert "取引先をダッシュボードと同じく" in done.stdout
    assert "Commands" not in done.stdout and "Score every account" not in done.stdout


def test_an_unknown_message_goes_through_the_catalog() -> None:
    """A message of a command that is no pattern is looked up whole; one the catalog lacks is
    written as it is."""

    class Refusal:
        message = "Missing command."

    assert usage_message(Refusal(), gettext_for("ja")) == "コマンドが指定されていません。"
    Refusal.message = "something else entirely"
    assert usage_message(Refusal(), gettext_for("ja")) == "something else entirely"


def _option_help(command: Any) -> list[str]:
    """The help of every option and argument of ``command``, and of its subcommands with their
    own help."""
    helps = [p.help for p in command.params if getattr(p, "help", None)]
    for sub in (getattr(command, "commands", None) or {}).values():
        helps += [sub.help, *_option_help(sub)]
    return helps


def test_every_commands_option_help_is_translated(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each command's options and a group's subcommands have their help in the catalog: in
    Japanese none is left as the English source."""
    seen = 0
    for name in COMMANDS:
        monkeypatch.setattr(state, "lang", "en")
        english = _option_help(load_command(name))
        monkeypatch.setattr(state, "lang", "ja")
        japanese = _option_help(load_command(name))
        assert len(english) == len(japanese), name
        left = [e for e, j in zip(english, japanese, strict=True) if e == j]
        assert left == [], (name, left)
        seen += len(english)
    assert seen > 150  # every command walked, subcommands included
