"""Disk full or an unwritable output directory while publishing: a clear error, and out/latest intact."""
import errno
import json
import os
import subprocess
import sys

import pytest
from rel_helpers import REPO, published_ok, record, run_driver


@pytest.fixture
def published(db, town_versions, tmp_path):
    out = tmp_path / "out"
    run_driver(town_versions[0] / "demo.yaml", out)
    return out, published_ok(out), town_versions[0]


def _tree(out):
    return sorted(str(p.relative_to(out)) for p in out.rglob("*"))


def test_disk_full_mid_publish_keeps_latest(published, monkeypatch, db):
    from plekzoeker.outputs import geojson as gj
    from plekzoeker.outputs.publish import publish
    from plekzoeker.settings import load_config

    out, before, town = published
    tree = _tree(out)
    real_dump = json.dump
    calls = {"n": 0}

    def dump_then_full(obj, fh, *a, **kw):
        calls["n"] += 1
        if calls["n"] == 2:  # the second file hits a full disk
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_dump(obj, fh, *a, **kw)

    monkeypatch.setattr(gj.json, "dump", dump_then_full)
    with pytest.raises(Exception) as exc_info:
        publish(db, load_config(town / "demo.yaml"), out, run_id=999)
    assert "No space left on device" in str(exc_info.value) and str(out) in str(exc_info.value)
    assert "still points at the previous publish" in str(exc_info.value)
    assert published_ok(out) == before
    assert _tree(out) == tree, "no partial run directory or temp file may stay behind"
    record("disk_full_publish", {"latest_intact": True, "leftovers": 0})


def test_unwritable_output_dir_is_one_clear_line(published, tmp_path):
    out, before, town = published
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    res = subprocess.run([sys.executable, "-m", "plekzoeker.cli", "--config", str(town / "demo.yaml"), "publish",
                          "--out", str(blocker / "out")], capture_output=True, text=True, cwd=REPO, env={**os.environ})
    assert res.returncode != 0
    err = [l for l in res.stderr.strip().splitlines() if l.startswith("error:")]
    assert len(err) == 1 and "Traceback" not in res.stderr
    assert str(blocker) in err[0], err[0]
    assert published_ok(out) == before
    record("unwritable_out_dir", {"clear_error": True})
