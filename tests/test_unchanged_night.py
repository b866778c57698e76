"""An unchanged night through the CLI: one line, no Prefect run, the night recorded; any change runs the flow."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from db_helpers import TRUNCATE

from plekzoeker.pipelines import stages
from plekzoeker.pipelines.unchanged import current_publish, skip_unchanged_night
from plekzoeker.settings import load_config

pytestmark = pytest.mark.prefect
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def town(engine, demo_dir, prefect_server, tmp_path_factory):
    """A copy of the demo town (its files may be changed here) after one full nightly flow."""
    from plekzoeker.pipelines.flows import nightly

    with engine.begin() as conn:
        conn.execute(sa.text(TRUNCATE))
    d = tmp_path_factory.mktemp("unchanged") / "town"
    shutil.copytree(demo_dir, d)
    out = d.parent / "out"
    first = nightly(config_path=str(d / "demo.yaml"), out_dir=str(out))
    return d, out, first


def runs(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "runs").iterdir())


def test_after_a_full_run_the_night_is_current_and_is_recorded_without_a_flow(town, engine):
    d, out, first = town
    before = runs(out)
    summary, why = current_publish(engine, load_config(str(d / "demo.yaml")), str(out))
    assert summary is not None and summary["run_id"] == first["run_id"], why
    assert "unchanged since run" in why
    res = skip_unchanged_night(str(d / "demo.yaml"), str(out), None, {"out_dir": str(out)})
    assert res["total"] == first["publish"]["total"]
    assert runs(out) == before  # nothing republished
    with engine.connect() as c:
        row = c.execute(sa.text("SELECT flow, status, summary FROM meta.run ORDER BY run_id DESC LIMIT 1")).one()
    assert (row.flow, row.status) == ("nightly", "success")
    assert row.summary["up_to_date"] is True and row.summary["published_by_run"] == first["run_id"]
    # a night recorded this way is no manual stage command: the next night is still current
    assert current_publish(engine, load_config(str(d / "demo.yaml")), str(out))[0] is not None


def test_the_cli_says_so_in_one_line_and_exits_0(town):
    d, out, _ = town
    before = runs(out)
    env = {**os.environ, "PREFECT_API_URL": "http://127.0.0.1:9/api"}  # a flow would fail: none may start
    p = subprocess.run([sys.executable, "-m", "plekzoeker.cli", "--config", str(d / "demo.yaml"), "nightly",
                        "--out", str(out)], capture_output=True, text=True, cwd=REPO, env=env)
    assert p.returncode == 0, p.stderr
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "nothing to do" in lines[0] and "no Prefect run started" in lines[0], p.stderr
    assert "Published" in p.stdout
    assert runs(out) == before


def test_a_changed_input_is_not_loaded_by_the_check_and_runs_the_flow(town, engine, tmp_path):
    d, out, _ = town
    copy = tmp_path / "town"
    shutil.copytree(d, copy)
    with (copy / "vacancy.csv").open("a", encoding="utf-8") as fh:
        fh.write("\n")  # another size: the loader would load it
    with engine.connect() as c:
        inputs = c.execute(sa.text("SELECT count(*) FROM meta.input")).scalar()
    summary, why = current_publish(engine, load_config(str(copy / "demo.yaml")), str(out))
    assert summary is None and "signal:vacancy" in why
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM meta.input")).scalar() == inputs  # the check loaded nothing


def test_a_changed_raster_runs_the_flow(town, engine, tmp_path):
    d, out, _ = town
    copy = tmp_path / "town"
    shutil.copytree(d, copy)
    import rasterio

    with rasterio.open(copy / "noise_lden.tif", "r+") as r:
        band = r.read(1)
        band[0, 0] += 1
        r.write(band, 1)
    summary, why = current_publish(engine, load_config(str(copy / "demo.yaml")), str(out))
    assert summary is None and "raster:noise_lden" in why


def test_config_outreach_manual_commands_and_another_out_dir_run_the_flow(town, engine, tmp_path):
    d, out, _ = town
    cfg = load_config(str(d / "demo.yaml"))
    assert current_publish(engine, load_config(str(d / "demo.yaml"), {"publish": {"keep_days": 3}}), str(out))[0] is None
    assert current_publish(engine, load_config(str(d / "demo.yaml"), {"score": {"weights": {"stop": 9.0}}}),
                           str(out))[0] is None
    assert current_publish(engine, cfg, str(tmp_path / "elsewhere"))[0] is None
    with engine.connect() as c:
        cand = c.execute(sa.text("SELECT candidate_key FROM result.candidate ORDER BY candidate_key LIMIT 1")).scalar()
    with engine.begin() as c:  # a coordinator's record changes what the lists show
        c.execute(sa.text("INSERT INTO result.outreach (candidate_key, status, note, updated_at, version, updated_by) "
                          "VALUES (:k, 'contacted', 'called', now(), 1, 'test')"), {"k": cand})
    try:
        summary, why = current_publish(engine, cfg, str(out))
        assert summary is None and why.startswith("publish")
    finally:
        with engine.begin() as c:
            c.execute(sa.text("DELETE FROM result.outreach WHERE candidate_key = :k"), {"k": cand})
    assert current_publish(engine, cfg, str(out))[0] is not None
    run_id = stages.start_run(engine, "detect", {}, cfg)  # `plekzoeker detect` rewrites result.* behind the keys
    stages.finish_run(engine, run_id, "success", {})
    summary, why = current_publish(engine, cfg, str(out))
    assert summary is None and why.startswith("publish")


def test_another_run_holding_the_lock_runs_the_flow(town, engine):
    d, out, _ = town
    from plekzoeker.pipelines.flows import nightly

    nightly(config_path=str(d / "demo.yaml"), out_dir=str(out))  # current again after the manual detect above
    with engine.connect() as holder:
        holder.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": stages.NIGHTLY_LOCK})
        holder.commit()
        try:
            assert skip_unchanged_night(str(d / "demo.yaml"), str(out), None, {}) is None
        finally:
            holder.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": stages.NIGHTLY_LOCK})
            holder.commit()
    assert skip_unchanged_night(str(d / "demo.yaml"), str(out), None, {}) is not None
