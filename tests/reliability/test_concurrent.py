"""Concurrent runs: two nightly runs started at once never interleave, and a coordinator's
`outreach import` while a run is in progress is kept and shows up in the run's publish."""
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from rel_helpers import REPO, record, run_driver

LOCKED = "another plekzoeker run is in progress"


def _nightly(config: Path, out: Path, env: dict, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "plekzoeker.cli", "--quiet", "--config", str(config), "nightly",
                             "--force", "--out", str(out), *extra], cwd=REPO, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _prefect_env() -> dict:
    from prefect.settings import PREFECT_API_URL

    return {"PREFECT_API_URL": PREFECT_API_URL.value()} if PREFECT_API_URL.value() else {}


def test_two_nightly_runs_at_once(db, demo_dir, prefect_server, tmp_path):
    """Both start together; whichever takes the lock pauses inside its run (holding it) so the
    overlap is certain: the other exits at once with one clear line; with --wait it queues instead."""
    out = tmp_path / "out"
    env = {**_prefect_env(), "PLEKZOEKER_PAUSE_AT": "copy:pand#1", "PLEKZOEKER_PAUSE_SECONDS": "8",
           "PLEKZOEKER_PAUSE_FILE": str(tmp_path / "paused")}
    a, b = (_nightly(demo_dir / "demo.yaml", out, env) for _ in range(2))
    results = [(p.wait(300), *p.communicate()) for p in (a, b)]
    ok = [r for r in results if r[0] == 0]
    refused = [r for r in results if r[0] != 0]
    assert len(ok) == 1 and len(refused) == 1, [(r[0], r[2][-500:]) for r in results]
    err = refused[0][2].strip()
    assert LOCKED in err and "Traceback" not in err, err
    assert err.splitlines()[-1].startswith(f"error: {LOCKED}") and len(err.splitlines()) <= 3, err
    assert (tmp_path / "paused").read_text().count("copy:pand") == 1  # only the winner got into the run

    # --wait: the second queues behind the first and both finish, one after the other
    a, b = (_nightly(demo_dir / "demo.yaml", out, env, "--wait") for _ in range(2))
    results = [(p.wait(300), *p.communicate()) for p in (a, b)]
    assert [r[0] for r in results] == [0, 0], [r[2][-800:] for r in results]
    with db.connect() as c:
        runs = c.execute(sa.text("SELECT started_at, finished_at, status FROM meta.run WHERE flow = 'nightly' "
                                 "ORDER BY started_at DESC LIMIT 2")).all()
    assert [r.status for r in runs] == ["success", "success"]
    later, earlier = runs
    assert earlier.finished_at <= later.started_at, "two nightly runs overlapped"
    record("concurrent_runs", {"refused_cleanly": 1, "queued_with_wait": 1, "overlaps": 0})


def _edit_list(path: Path, row: int, status: str, note: str, into: Path) -> tuple[str, Path]:
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    key = rows[row]["candidate_key"]
    edited = into / f"edited_{row}.csv"  # not beside the list: out/latest moves when the run publishes
    with edited.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["candidate_key", "outreach_status", "outreach_note"])
        w.writeheader()
        w.writerow({"candidate_key": key, "outreach_status": status, "outreach_note": note})
    return key, edited


def test_outreach_import_during_a_run_is_kept(db, demo_dir, tmp_path):
    out = tmp_path / "out"
    run_driver(demo_dir / "demo.yaml", out)
    listed = out / "latest" / "outreach_GM9999.csv"
    imported = {}
    # pause the run in detection and in scoring; import while it waits there
    for i, point in enumerate(["copy:candidate#1", "copy:score#1", "swap#9"]):
        marker = tmp_path / f"reached_{i}"
        p = run_driver(demo_dir / "demo.yaml", out, wait=False,
                       env={"PLEKZOEKER_PAUSE_AT": point, "PLEKZOEKER_PAUSE_FILE": str(marker),
                            "PLEKZOEKER_PAUSE_SECONDS": "25"})  # the import CLI starts in ~10 s on a loaded box
        deadline = time.monotonic() + 120
        while not marker.exists() and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), f"checkpoint {point} never reached: {p.stderr.read().decode()[-1500:]}"
        key, edited = _edit_list(listed, i, "in talks", f"belde eigenaar, punt {i}", tmp_path)
        res = subprocess.run([sys.executable, "-m", "plekzoeker.cli", "outreach", "import", str(edited)],
                             cwd=REPO, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        imported[key] = f"belde eigenaar, punt {i}"
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-2000:]
        # the run that was in progress published every status imported so far
        rows = {r["candidate_key"]: r for r in csv.DictReader(listed.open(encoding="utf-8-sig"))}
        for k, note in imported.items():
            assert rows[k]["outreach_status"] == "in talks" and rows[k]["outreach_note"] == note, (point, k, rows[k])
    with db.connect() as c:
        stored = dict(c.execute(sa.text("SELECT candidate_key, note FROM result.outreach")).all())
    assert stored == imported
    record("outreach_import_during_run", {"imports": len(imported), "kept": len(stored)})
