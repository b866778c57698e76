"""Prefect's ephemeral server: prepared once, and a start that fails is one line saying what to do.

The first-run path itself (an empty PREFECT_HOME, no PREFECT_API_URL, a real nightly run) is taken
by tests/test_wheel.py; here the failure contract and the bookkeeping around it.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import prefect

from plekzoeker import prefect_env
from plekzoeker.errors import PrefectServerError

REPO = Path(__file__).resolve().parents[1]


def test_start_timeout_becomes_one_line(monkeypatch):
    monkeypatch.setenv(prefect_env.TIMEOUT_VAR, "180")
    err = prefect_env.explain_start_failure(RuntimeError(
        "Timed out while attempting to connect to ephemeral Prefect API server. stdout: ... stderr: ..."))
    assert isinstance(err, PrefectServerError)
    assert "within 180 s" in str(err) and "PREFECT_API_URL" in str(err) and "\n" not in str(err)
    assert prefect_env.explain_start_failure(RuntimeError("something else")) is None
    assert prefect_env.explain_start_failure(ValueError("ephemeral Prefect API server")) is None


def test_configure_keeps_what_the_user_set(monkeypatch, tmp_path):
    monkeypatch.setenv(prefect_env.TIMEOUT_VAR, "42")
    monkeypatch.delenv("PREFECT_HOME", raising=False)
    prefect_env.configure(tmp_path)
    assert os.environ[prefect_env.TIMEOUT_VAR] == "42"
    assert os.environ["PREFECT_HOME"] == str(tmp_path / "prefect")
    monkeypatch.delenv(prefect_env.TIMEOUT_VAR)
    prefect_env.configure(tmp_path)
    assert os.environ[prefect_env.TIMEOUT_VAR] == str(prefect_env.STARTUP_TIMEOUT_S)


def test_prepare_is_a_no_op_with_a_server_or_when_ready(monkeypatch, tmp_path):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:1/api")
    prefect_env.prepare()  # a real server owns its database: nothing written
    assert list(tmp_path.iterdir()) == []
    monkeypatch.delenv("PREFECT_API_URL")
    (tmp_path / "prefect.db").write_bytes(b"")
    (tmp_path / f".plekzoeker-db-ready-{prefect.__version__}").touch()
    prefect_env.prepare()  # stamped for this Prefect version: no migration
    assert (tmp_path / "prefect.db").read_bytes() == b""


def test_prepare_failure_is_one_line(monkeypatch, tmp_path):
    """Prefect's database cannot be created (its directory is a file): one PrefectServerError line."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", f"sqlite+aiosqlite:///{blocker}/prefect.db")
    try:
        prefect_env.prepare()
    except PrefectServerError as exc:
        assert "preparing Prefect's database" in str(exc) and "\n" not in str(exc)
    else:
        raise AssertionError("prepare() did not fail")
    assert not list((tmp_path / "home").glob(".plekzoeker-db-ready-*"))


def test_nightly_when_the_server_cannot_start(tmp_path, demo_dir):
    """The ephemeral server cannot come up (its database path is unusable): exit 2, one error line."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    home = tmp_path / "prefect-home"
    home.mkdir()
    (home / f".plekzoeker-db-ready-{prefect.__version__}").touch()  # skip preparing: go straight to the start
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", **{prefect_env.TIMEOUT_VAR: "5"},
               PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{blocker}/prefect.db")
    p = subprocess.run([sys.executable, "-m", "plekzoeker.cli", "--quiet", "--config", str(demo_dir / "demo.yaml"),
                        "nightly", "--out", str(tmp_path / "out")], capture_output=True, text=True, cwd=REPO, env=env,
                       timeout=300)
    assert p.returncode == 2, p.stderr[-2000:]
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert lines == [lines[-1]] and lines[-1].startswith("error: Prefect's temporary API server did not start"), \
        p.stderr[-2000:]
    assert not (tmp_path / "out").exists()
