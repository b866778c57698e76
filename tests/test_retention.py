"""What stays bounded over many nights: dated publishes in out/ (publish.keep_days) and the ledger (ledger.*)."""
import datetime as dt
import os

import pytest
import sqlalchemy as sa

from plekzoeker.db import ledger
from plekzoeker.errors import ConfigError
from plekzoeker.outputs.publish import prune
from plekzoeker.settings import load_config


def test_dated_publishes_older_than_keep_days_go_and_latest_always_stays(tmp_path):
    runs = tmp_path / "runs"
    for name in ("2026-01-01T020000-r1", "2026-01-02T020000-r2", "2026-01-20T020000-r3", "2026-01-24T020000-r4"):
        (runs / name).mkdir(parents=True)
    for day, target in (("2026-01-01", "r1"), ("2026-01-02", "r2"), ("2026-01-20", "r3"), ("2026-01-24", "r4")):
        os.symlink(f"runs/{next(p.name for p in runs.iterdir() if p.name.endswith(target))}", tmp_path / day)
    os.symlink("runs/2026-01-01T020000-r1", tmp_path / "latest")  # an old publish still current: kept
    prune(tmp_path, keep_days=14, today=dt.date(2026, 1, 25))
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_symlink()) == ["2026-01-20", "2026-01-24", "latest"]
    assert sorted(p.name for p in runs.iterdir()) == ["2026-01-01T020000-r1", "2026-01-20T020000-r3",
                                                      "2026-01-24T020000-r4"]


def test_retention_is_validated():
    assert ledger.Retention.from_config(load_config(None)).keep_runs >= 1
    assert ledger.Retention.from_config(load_config(None, {"ledger": {"keep_runs": None}})).keep_runs is None
    for bad in (0, -1, 2.5, True, "10"):
        with pytest.raises(ConfigError, match="ledger.keep_loads"):
            load_config(None, {"ledger": {"keep_loads": bad}})


def _input(conn, kind: str, status: str) -> int:
    return conn.execute(sa.text("INSERT INTO meta.input (kind, path, sha256, size_bytes, status) "
                                "VALUES (:k, '/x', 'h', 1, :s) RETURNING input_id"), {"k": kind, "s": status}).scalar()


def test_ledger_prune_keeps_what_readers_need(db):
    runs = []
    for i in range(8):
        r = ledger.start_run(db, "nightly", {}, "h")
        if i != 1:  # run 1 stays "running"
            ledger.finish_run(db, r, "success", {"score_coverage": {"i": i}} if i == 2 else {})
        runs.append(r)
    ledger.mark_stage(db, "detect", "k", runs[0])
    with db.begin() as conn:
        done_bag = [_input(conn, "bag", "done") for _ in range(4)]
        failed_bag = _input(conn, "bag", "failed")  # newer than the latest done one
        loading_osm = _input(conn, "osm", "loading")
        old_osm = [_input(conn, "osm", "done") for _ in range(3)]
        conn.execute(sa.text("INSERT INTO meta.reject (input_id, reason) VALUES (:i, 'bad')"), {"i": done_bag[0]})
        stage_score_input = done_bag[1]
    ledger.mark_stage(db, "score", "k", runs[3])
    before_key = ledger_latest(db)
    pruned = ledger.prune(db, ledger.Retention(keep_runs=2, keep_loads=1))
    with db.connect() as conn:
        kept_runs = {r[0] for r in conn.execute(sa.text("SELECT run_id FROM meta.run"))}
        kept_inputs = {r[0] for r in conn.execute(sa.text("SELECT input_id FROM meta.input"))}
        rejects = conn.execute(sa.text("SELECT count(*) FROM meta.reject")).scalar()
    # newest 2, the running one, the stage runs, the latest with a score summary
    assert kept_runs == {runs[6], runs[7], runs[1], runs[0], runs[3], runs[2]}
    # per kind: the newest attempt, the latest done one, any load in progress
    assert kept_inputs == {failed_bag, done_bag[-1], loading_osm, old_osm[-1]}
    assert stage_score_input not in kept_inputs and rejects == 0  # rejects go with their load
    assert pruned == {"meta.run": 2, "meta.input": 5}
    assert ledger_latest(db) == before_key  # what the stage keys read is unchanged


def ledger_latest(engine):
    with engine.connect() as conn:
        return ledger.latest_inputs(conn)
