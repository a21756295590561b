"""`tillage serve`: one worker serves the app built here; several are uvicorn's processes, each
building the app from the factory and the settings handed over in the environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tillage.cli import workers
from tillage.cli.main import app
from tillage.cli.serve import FACTORY, clean_start, settings_environment, uvicorn_arguments
from tillage.config import Settings, get_settings
from tillage.errors import ConfigurationError
from tillage.server import app_from_env
from tillage.web import staging

SECRET = "serve-test-Hq8Lr2Xv5Nc9Pt4Ws7Zb1Jm6Kd3Fg0Y"


def _settings(tmp_path: Path, **update: Any) -> Settings:
    return Settings(data_dir=tmp_path, secret_key=SECRET, language="en", _env_file=None, **update)


def test_one_worker_serves_the_app_built_here(tmp_path: Path) -> None:
    target, options = uvicorn_arguments(_settings(tmp_path), "127.0.0.1", 8123)
    assert isinstance(target, FastAPI)
    assert options == {"host": "127.0.0.1", "port": 8123, "log_level": "warning"}


def test_several_workers_serve_the_factory(tmp_path: Path) -> None:
    target, options = uvicorn_arguments(_settings(tmp_path), "0.0.0.0", 9000, workers=3)
    assert target == FACTORY == "tillage.server:app_from_env"
    assert options["factory"] is True and options["workers"] == 3
    assert (options["host"], options["port"]) == ("0.0.0.0", 9000)
    with pytest.raises(ConfigurationError, match="secret"):
        uvicorn_arguments(Settings(data_dir=tmp_path, _env_file=None), "h", 1, workers=2)


def test_the_environment_makes_the_same_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path, timezone="Europe/Berlin", currency="EUR", upload_limit_mb=7.5)
    env = settings_environment(settings)
    assert "TILLAGE_DATABASE_URL" not in env  # unset stays unset
    for name in [n for n in os.environ if n.startswith("TILLAGE_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Settings(_env_file=None) == settings
    built = app_from_env()
    assert built.state.settings == settings
    with TestClient(built) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/api/v1/accounts").status_code == 401


def test_serve_command_hands_the_settings_to_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, dict[str, Any]]] = []

    def run_workers(target: str, options: dict[str, Any], workers: int) -> int:
        calls.append((target, {**options, "workers": workers}))
        return 0

    monkeypatch.setattr(workers, "run_workers", run_workers)
    monkeypatch.setenv("TILLAGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TILLAGE_SECRET_KEY", SECRET)
    monkeypatch.setattr(os, "environ", dict(os.environ))  # keep what serve exports here
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["--lang", "en", "serve", "--workers", "2"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert calls == [
        (
            FACTORY,
            {
                "host": "127.0.0.1",
                "port": 8000,
                "log_level": "warning",
                "factory": True,
                "workers": 2,
            },
        )
    ]
    assert os.environ["TILLAGE_LANGUAGE"] == "en"  # --lang reaches the workers
    assert os.environ["TILLAGE_DATA_DIR"] == str(tmp_path)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> int:
    """How many sockets listen on ``port`` on this machine (``/proc/net/tcp``, IPv4)."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    found = 0
    for line in lines:
        local, state = line.split()[1], line.split()[3]
        if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
            found += 1
    return found


def test_a_taken_port_is_refused_with_a_message() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigurationError, match=f"127.0.0.1:{port}.*--port"):
            workers.run_workers(FACTORY, {"host": "127.0.0.1", "port": port}, 2)


@pytest.mark.slow
def test_two_workers_answer(tmp_path: Path) -> None:
    port = _free_port()
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p),
        "TILLAGE_DATA_DIR": str(tmp_path),
        "TILLAGE_SECRET_KEY": SECRET,
    }
    env.pop("TILLAGE_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "tillage", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        # waits for the health route, not a fixed time; the limit only stops a server that hangs
        # (two workers each import the app: seconds at low load, a minute or more when busy)
        deadline = time.monotonic() + 300
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "no answer within 300 s"
                time.sleep(0.3)
        assert response.json() == {"status": "ok"}
        answers = {
            httpx.get(f"http://127.0.0.1:{port}/api/v1/me", timeout=5).status_code for _ in range(6)
        }
        assert answers == {401}
        # each worker accepts on a socket of its own (SO_REUSEPORT): the kernel spreads the
        # connections over both, rather than the busiest worker taking them
        if workers.HAS_REUSE_PORT and Path("/proc/net/tcp").exists():
            assert _listening(port) == 2
    finally:
        process.terminate()
        process.communicate(timeout=30)  # waits, and closes the pipe


def test_start_removes_unconfirmed_uploads_past_their_time(tmp_path: Path) -> None:
    """A validated upload left by a server that stopped is removed when the next one starts,
    once its confirmation time is over; a fresh one (another worker's) stays."""
    settings = _settings(tmp_path)
    root = staging.staging_root(settings.data_dir)
    old, fresh = root / ("a" * 22), root / ("b" * 22)
    for folder in (old, fresh):
        folder.mkdir()
        (folder / "customers.csv").write_text("key,name\nA1,Acme\n", encoding="utf-8")
    now = time.time()
    os.utime(old, (now - staging.MAX_AGE - 60, now - staging.MAX_AGE - 60))
    clean_start(settings, now)
    assert not old.exists()
    assert (fresh / "customers.csv").exists()
    assert (root.stat().st_mode & 0o777) == 0o700  # the folder is the server user's alone
