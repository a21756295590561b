"""``tillage users add`` without ``--password``: the installed command asks for the password
twice, in the user's language, and asks again when the two differ."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from tillage.store.database import make_engine, session_factory
from tillage.store.users import authenticate

from ..installed import run_tillage


def _tillage(
    args: list[str], url: str, tmp_path: Path, given: str = ""
) -> subprocess.CompletedProcess:
    # without a terminal, so that the hidden prompt reads the standard input
    return run_tillage(
        args, data_dir=tmp_path, database_url=url, lang=None, input=given, new_session=True
    )


def test_the_password_is_asked_twice_in_japanese(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert _tillage(["db", "upgrade"], url, tmp_path).returncode == 0
    typed = "first-pass-1\nother-pass-2\nright-pass-3\nright-pass-3\n"
    done = _tillage(["users", "add", "sato@example.com", "--role", "admin"], url, tmp_path, typed)
    assert done.returncode == 0, done.stderr
    said = done.stdout + done.stderr
    assert said.count("パスワード（確認のためもう一度）") == 2
    assert said.count("二つのパスワードが一致しません。もう一度入力してください。") == 1
    # (without a terminal Python's getpass adds its own English warning that input may echo)
    assert "Password:" not in said and "Repeat for confirmation" not in said
    engine = make_engine(url)
    with session_factory(engine)() as session:  # the pair that matched is the password
        now = dt.datetime(2026, 12, 1)
        user = authenticate(session, "sato@example.com", "right-pass-3", client=None, now=now)
        assert user.role == "admin"
    engine.dispose()
