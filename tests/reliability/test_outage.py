"""The database goes away in the middle of a flow: tasks retry and the run completes, or it fails clearly.

These tests run against a cluster of their own (not the shared test cluster) because they stop it.
"""
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from rel_helpers import REPO, published_ok, record

pytestmark = pytest.mark.prefect


@pytest.fixture(scope="module")
def own_cluster():
    from plekzoeker.db.cluster import Cluster

    home = Path(os.environ["PLEKZOEKER_HOME"]).resolve() / f"test-outage-{os.getpid()}"
    c = Cluster(home)
    url = c.start()
    yield c, url
    c.stop("immediate")
    shutil.rmtree(c.root, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def on_own_cluster(own_cluster, monkeypatch):
    from plekzoeker.db.engine import _engine

    c, url = own_cluster
    monkeypatch.setenv("DATABASE_URL", url)
    _engine.cache_clear()
    yield c
    _engine.cache_clear()


def test_server_restart_mid_flow_is_survived(on_own_cluster, town_versions, prefect_server, tmp_path, monkeypatch):
    import plekzoeker.pipelines.flows as flows
    from plekzoeker.db.engine import get_engine

    cluster = on_own_cluster
    town = town_versions[0]
    out = tmp_path / "out"
    flows.nightly(config_path=str(town / "demo.yaml"), out_dir=str(out))
    engine = get_engine(start=False)
    with engine.begin() as c:
        key = c.execute(sa.text("SELECT candidate_key FROM result.candidate ORDER BY candidate_key LIMIT 1")).scalar()
        c.execute(sa.text("INSERT INTO result.outreach (candidate_key, status, note) VALUES (:k, 'contacted', 'belde 3x')"), {"k": key})
    before = published_ok(out)

    real = flows.run_detect
    calls = {"n": 0}

    def detect_during_outage(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:  # first attempt: the server goes down under our feet, and comes back 1 s later
            cluster.stop("immediate")
            threading.Timer(1.0, cluster.start).start()
        return real(*args, **kwargs)

    monkeypatch.setattr(flows, "run_detect", detect_during_outage)
    res = flows.nightly(config_path=str(town / "demo.yaml"), out_dir=str(out), force=True)
    assert calls["n"] >= 2, "the detect task should have been retried"
    assert res["publish"]["total"] == before["total"]
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT status, note FROM result.outreach WHERE candidate_key = :k"), {"k": key}).one() == \
            ("contacted", "belde 3x")
        assert c.execute(sa.text("SELECT status FROM meta.run ORDER BY run_id DESC LIMIT 1")).scalar() == "success"
    record("db_restart_mid_flow", {"retries_needed": calls["n"] - 1, "completed": True})


def test_server_down_fails_with_one_clear_line_and_outputs_survive(on_own_cluster, town_versions, tmp_path):
    cluster = on_own_cluster
    town = town_versions[0]
    out = tmp_path / "out"
    env = dict(os.environ)
    cmd = [sys.executable, str(Path(__file__).with_name("driver.py")), str(town / "demo.yaml"), str(out)]
    subprocess.run(cmd, env=env, check=True, capture_output=True, cwd=REPO)
    before = published_ok(out)
    cluster.stop("immediate")
    try:
        res = subprocess.run([sys.executable, "-m", "plekzoeker.cli", "--config", str(town / "demo.yaml"), "detect"],
                             env=env, capture_output=True, text=True, cwd=REPO)
        assert res.returncode != 0
        lines = [l for l in res.stderr.strip().splitlines() if l.startswith("error:")]
        assert len(lines) == 1 and "cannot reach the database" in lines[0] and "Traceback" not in res.stderr
        assert published_ok(out) == before
    finally:
        cluster.start()
    subprocess.run(cmd, env=env, check=True, capture_output=True, cwd=REPO)  # the next run needs no clean-up
    assert published_ok(out)["run_id"] > before["run_id"]
    record("db_down", {"clear_error": True, "outputs_intact": True, "next_run_ok": True})
