"""The deployment in prefect.yaml works as the README says: create the pool, `prefect deploy --all`,
start a process worker, run the deployment once (demo town) to completion."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.prefect

REPO = Path(__file__).resolve().parents[1]
PREFECT = [sys.executable, "-m", "prefect"]


def _run(args: list[str], env: dict, timeout: float = 120) -> str:
    p = subprocess.run(PREFECT + args, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout,
                       check=False)
    assert p.returncode == 0, f"prefect {' '.join(args)} failed:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}"
    return p.stdout


def _stop(proc: subprocess.Popen) -> None:
    """Stop the worker we started (and the flow-run processes it started: its own process group)."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


def test_deploy_from_prefect_yaml_and_run_once_on_a_worker(prefect_server, engine, demo_dir, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import get_current_settings

    api_url = get_current_settings().api.url
    assert api_url, "the Prefect test server gives no API URL"
    env = {**os.environ, "PREFECT_API_URL": str(api_url), "PREFECT_HOME": str(tmp_path / "prefect-home"),
           "PLEKZOEKER_DIR": str(REPO), "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    _run(["--no-prompt", "work-pool", "create", "plekzoeker", "--type", "process", "--overwrite"], env)
    out = _run(["--no-prompt", "deploy", "--all"], env)
    assert "nightly/nightly" in out

    with get_client(sync_client=True) as client:
        dep = client.read_deployment_by_name("nightly/nightly")
    assert dep.work_pool_name == "plekzoeker" and dep.entrypoint == "pipelines/entrypoint.py:nightly"
    assert [(s.schedule.cron, s.schedule.timezone) for s in dep.schedules] == [("0 2 * * *", "Europe/Amsterdam")]

    with open(tmp_path / "worker.log", "w") as log:
        worker = subprocess.Popen(PREFECT + ["worker", "start", "--pool", "plekzoeker", "--type", "process", "--limit", "1"],
                                  cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            out_dir = tmp_path / "out"
            t0 = time.monotonic()
            run = run_deployment("nightly/nightly", timeout=300, poll_interval=2,
                                 parameters={"config_path": str(demo_dir / "demo.yaml"), "out_dir": str(out_dir)})
            assert run.state is not None and run.state.is_completed(), \
                f"deployment run ended {run.state}; worker log:\n{(tmp_path / 'worker.log').read_text()[-3000:]}"
            assert time.monotonic() - t0 < 300
        finally:
            _stop(worker)
    assert (out_dir / "latest" / "vacant_buildings.geojson").exists()
    assert (out_dir / "latest" / "undeveloped_plots.geojson").exists()
