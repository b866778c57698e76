"""A loader killed with SIGKILL at several points leaves the previous data intact; the next load works."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from plekzoeker.demo.synthetic_bag import write_bag_gpkg

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def gpkgs(tmp_path_factory):
    d = tmp_path_factory.mktemp("kill")
    return write_bag_gpkg(d / "a.gpkg", 2000, seed=1), write_bag_gpkg(d / "b.gpkg", 3000, seed=2)


def ingest(path: Path, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "plekzoeker.cli", "--quiet", "ingest", "bag", str(path), "--force"],
                            cwd=REPO, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def state(engine) -> tuple:
    with engine.connect() as c:
        return (c.execute(sa.text("SELECT count(*), min(identificatie), max(identificatie) FROM core.verblijfsobject")).one(),
                c.execute(sa.text("SELECT count(*) FROM core.pand")).scalar(),
                c.execute(sa.text("SELECT count(*) FROM pg_tables WHERE schemaname = 'raw'")).scalar())


@pytest.mark.parametrize("point", ["copy:pand", "copy:verblijfsobject", "validate:verblijfsobject", "swap"])
def test_sigkill_keeps_previous_data(db, gpkgs, tmp_path, point):
    a, b = gpkgs
    p = ingest(a)
    assert p.wait(120) == 0, p.stderr.read().decode()
    before = state(db)
    assert before[0][0] == 2000 and before[2] == 0
    marker = tmp_path / "reached"
    p = ingest(b, {"PLEKZOEKER_PAUSE_AT": point, "PLEKZOEKER_PAUSE_FILE": str(marker)})
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert p.poll() is None, f"loader ended before reaching {point}: {p.stderr.read().decode()}"
        assert time.monotonic() < deadline, f"checkpoint {point} not reached"
        time.sleep(0.05)
    os.kill(p.pid, signal.SIGKILL)
    p.wait(30)
    time.sleep(0.5)  # let the server notice the dead client and roll back
    assert state(db) == before
    p = ingest(b)  # the next load needs no manual clean-up
    assert p.wait(120) == 0, p.stderr.read().decode()
    after = state(db)
    assert after[0][0] == 3000 and after[2] == 0
    with db.connect() as c:
        statuses = [r[0] for r in c.execute(sa.text("SELECT status FROM meta.input WHERE kind = 'bag' ORDER BY input_id"))]
    assert statuses == ["done", "abandoned", "done"]
