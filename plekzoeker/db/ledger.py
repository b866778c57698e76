"""The run and input ledger (schema ``meta``): the only module that reads or writes ``meta.*``.

What it records, and why each record is trustworthy:

- ``meta.input``: one row per load attempt of an input file (kind, path, sha256, size, options,
  counts, status ``loading`` → ``done`` | ``failed`` | ``abandoned``). The row is inserted before
  the load's transaction and marked ``done`` *inside* it (:func:`finish_input` runs on the load's
  cursor), so ``done`` exists exactly when the swap committed; a killed load stays ``loading`` and
  the next load of that kind marks it ``abandoned``. "Unchanged, skip" compares with the latest
  ``done`` row only (:func:`already_loaded`), and costs a full hash only when size and options
  already match (:func:`may_be_loaded`).
- ``meta.reject``: rows a load refused, with the reason (written on the load's cursor, so a rolled
  back load leaves no rejects behind).
- ``meta.raster``: the registered rasters (kind → path, sha256, CRS).
- ``meta.run`` / ``meta.stage``: the run ledger and the stage keys that make reruns incremental; a
  stage whose key is unchanged is skipped, and marking a stage forgets every stage downstream of it.
  ``publish`` is marked after a nightly publish (never skipped by the flow; the CLI's up-to-date check,
  pipelines/unchanged.py, reads it).

Retention (config section ``ledger``, :class:`Retention`): ``meta.run`` and ``meta.input`` get a row per
night and per load, forever unless pruned. :func:`prune` (after every successful nightly) keeps the
newest ``keep_runs`` runs and ``keep_loads`` loads per kind, and never what a reader needs: runs still
running, the runs ``meta.stage`` names and the latest run holding each score summary (the readers
above), and per kind the latest successful load (``latest_done_input(s)``, the stage keys, the
reports) and any load in progress. So pruning cannot change a stage key or a skip decision.

The SQL is in ``ledger.sql`` beside this module. Functions take an engine (their own short
transaction) or, inside a load, the loader's psycopg cursor.
"""
from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from psycopg import sql

from plekzoeker.db.sqlfile import named_statements

SQL_FILE = Path(__file__).with_name("ledger.sql")
# a stage's result is input to these later stages: when it changes they are stale
DOWNSTREAM = {"detect": ["score", "publish"], "score": ["publish"], "publish": []}


def _q(name: str) -> str:
    return named_statements(SQL_FILE)[name]


# --- inputs: identity (sha256, size) -------------------------------------------------------------
def file_sha256(path: str | Path) -> tuple[str, int]:
    """sha256 and size of a file, or of all files in a directory (sorted by name)."""
    p = Path(path)
    files = sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
    h = hashlib.sha256()
    size = 0
    for f in files:
        if p.is_dir():
            h.update(str(f.relative_to(p)).encode())
        with f.open("rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
                size += len(block)
    return h.hexdigest(), size


def input_size(p: Path) -> int:
    """Bytes of a file, or of all files in a directory (as ``file_sha256`` counts them)."""
    if p.is_dir():
        return sum(q.stat().st_size for q in p.rglob("*") if q.is_file())
    return p.stat().st_size


class Sha256InBackground:
    """``file_sha256`` in a thread (hashlib releases the GIL), started when the client is idle."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._thread: threading.Thread | None = None
        self._out: tuple[str, int] | BaseException | None = None

    def _run(self) -> None:
        try:
            self._out = file_sha256(self._path)
        except BaseException as exc:  # noqa: BLE001 - re-raised by result()
            self._out = exc

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sha256", daemon=True)
            self._thread.start()

    def result(self) -> tuple[str, int]:
        self.start()
        self._thread.join()
        if isinstance(self._out, BaseException):
            raise self._out
        return self._out


# --- inputs: the ledger rows ---------------------------------------------------------------------
def _same_options(recorded: dict | None, options: dict) -> bool:
    return (recorded or {}) == json.loads(json.dumps(options, default=str))


def latest_input(conn: sa.Connection, kind: str):
    """The latest successful load of ``kind`` (sha256, size_bytes, options), or None."""
    return conn.execute(sa.text(_q("latest_done_input")), {"k": kind}).first()


def may_be_loaded(engine: sa.Engine, kind: str, size: int, options: dict) -> bool:
    """False when the latest successful load of ``kind`` cannot be this file (another size or options),
    so ``already_loaded`` would say no without the file's sha256."""
    with engine.connect() as conn:
        row = latest_input(conn, kind)
    return bool(row) and row.size_bytes == size and _same_options(row.options, options)


def already_loaded(engine: sa.Engine, kind: str, sha: str, options: dict) -> bool:
    """True when the latest successful load of ``kind`` was this exact file with these options."""
    with engine.connect() as conn:
        row = latest_input(conn, kind)
    return bool(row) and row.sha256 == sha and _same_options(row.options, options)


def latest_inputs(conn: sa.Connection) -> list:
    """(kind, sha256, options) of the latest successful load of every kind, by kind."""
    return conn.execute(sa.text(_q("latest_done_inputs"))).all()


def begin_input(engine: sa.Engine, kind: str, path: Path, sha: str, size: int, options: dict) -> int:
    """Record the start of a load (status ``loading``); an earlier unfinished one becomes ``abandoned``."""
    with engine.begin() as conn:
        conn.execute(sa.text(_q("abandon_unfinished")), {"k": kind})
        return conn.execute(sa.text(_q("begin_input")),
                            {"k": kind, "p": str(path.resolve()), "s": sha, "n": size,
                             "o": json.dumps(options, default=str)}).scalar_one()


def finish_input(cur, stats, sha256: str, size: int) -> None:
    """Mark the load ``done`` with its counts, on the load's own cursor (commits with the swap)."""
    cur.execute(_q("finish_input"), (stats.rows_in, stats.rows_out, stats.rejected, stats.repaired, stats.duplicates,
                                     stats.seconds, sha256, size, stats.input_id))


def correct_counts(engine: sa.Engine, input_id: int, rejected: int, rows_out: int) -> None:
    """Set an input's reject/output counts after checks the loader did not count (GTFS references)."""
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE meta.input SET rows_rejected = :r, rows_out = :o WHERE input_id = :i"),
                     {"r": rejected, "o": rows_out, "i": input_id})


def input_id_of(staging: str) -> int:
    """The input id of a load from one of its staging table names (``raw."gtfs_stop__7"`` → 7)."""
    return int(staging.rstrip('"').rsplit("__", 1)[1])


def fail_input(engine: sa.Engine, input_id: int) -> None:
    """Mark a load ``failed`` (after its transaction rolled back)."""
    with engine.begin() as conn:
        conn.execute(sa.text(_q("fail_input")), {"i": input_id})


def inputs_used(conn: sa.Connection) -> list[dict]:
    """The latest successful load of every kind and the registered rasters (kind, path, loaded_at, counts)."""
    return [dict(r) for r in conn.execute(sa.text(_q("inputs_used"))).mappings().all()]


# --- rejects (on the load's cursor) --------------------------------------------------------------
def reject_rows(cur, staging: sql.Composable, id_column: str | None, input_id: int, reason: str,
                private: tuple[str, ...], cond: sql.Composable) -> int:
    """Move the staging rows matching ``cond`` into meta.reject (raw row without ``private`` columns).

    Returns the number of rows rejected."""
    ref = sql.SQL("{}::text").format(sql.Identifier(id_column)) if id_column else sql.SQL("NULL")
    cur.execute(sql.SQL(_q("reject_rows")).format(ref=ref, t=staging, c=cond), (input_id, reason, list(private)))
    cur.execute(sql.SQL("DELETE FROM {t} WHERE {c}").format(t=staging, c=cond))
    return cur.rowcount


def reject_unnamed(cur, input_id: int, reason: str, n: int) -> None:
    """Record ``n`` rejected rows that have nothing left to show (e.g. empty after repair)."""
    cur.execute(_q("reject_unnamed"), (input_id, reason, n))


# --- rasters -------------------------------------------------------------------------------------
def record_raster(engine: sa.Engine, kind: str, path: str | Path, sha256: str, crs: str) -> None:
    """Register the raster of ``kind``, replacing an earlier one of that kind."""
    with engine.begin() as conn:
        conn.execute(sa.text(_q("record_raster")), {"k": kind, "p": str(Path(path).resolve()), "s": sha256, "c": crs})


def raster_is_registered(engine: sa.Engine, kind: str, path: str | Path, sha256: str, crs: str) -> bool:
    """True when ``kind`` is registered with exactly this file (path, sha256, CRS): registering it again
    would change nothing but the time."""
    with engine.connect() as conn:
        return bool(conn.execute(sa.text(_q("raster_is_registered")),
                                 {"k": kind, "p": str(Path(path).resolve()), "s": sha256, "c": crs}).scalar())


def registered_rasters(engine: sa.Engine) -> dict[str, str]:
    """kind → path of every registered raster."""
    with engine.connect() as conn:
        return {r.kind: r.path for r in conn.execute(sa.text(_q("registered_rasters")))}


def raster_hashes(conn: sa.Connection) -> list:
    """(kind, sha256) of every registered raster, by kind."""
    return conn.execute(sa.text(_q("raster_hashes"))).all()


# --- runs and stages -----------------------------------------------------------------------------
def start_run(engine: sa.Engine, flow: str, params: dict, config_hash: str) -> int:
    with engine.begin() as conn:
        return conn.execute(sa.text(_q("start_run")),
                            {"f": flow, "p": json.dumps(params, default=str), "h": config_hash}).scalar_one()


def finish_run(engine: sa.Engine, run_id: int, status: str, summary: dict) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(_q("finish_run")), {"s": status, "m": json.dumps(summary, default=str), "r": run_id})


def running_runs(conn: sa.Connection) -> set[int]:
    """Ids of the runs recorded as still running."""
    return {int(r[0]) for r in conn.execute(sa.text(_q("running_runs")))}


def stage_is_current(engine: sa.Engine, stage: str, key: str) -> bool:
    with engine.connect() as conn:
        row = conn.execute(sa.text(_q("stage_key")), {"s": stage}).first()
    return bool(row) and row.input_key == key


def stage_row(engine: sa.Engine, stage: str):
    """(input_key, run_id) of the last success of ``stage``, or None."""
    with engine.connect() as conn:
        return conn.execute(sa.text(_q("stage_row")), {"s": stage}).first()


def publish_state(conn: sa.Connection) -> list:
    """What a publish depends on besides the stage results: outreach records and manual stage commands."""
    return [str(v) for v in conn.execute(sa.text(_q("publish_state"))).one()]


def mark_stage(engine: sa.Engine, stage: str, key: str, run_id: int) -> None:
    """Record that ``stage`` ran with ``key``; every stage downstream of it becomes stale."""
    with engine.begin() as conn:
        conn.execute(sa.text(_q("mark_stage")), {"s": stage, "k": key, "r": run_id})
        downstream = DOWNSTREAM.get(stage, [])
        if downstream:
            conn.execute(sa.text(_q("forget_stages")), {"d": downstream})


def save_score_summary(engine: sa.Engine, run_id: int, parts: dict) -> None:
    """Keep what the score stage used and found with its run: ``parts`` (e.g. ``score_coverage``,
    ``score_profiles``) merged into meta.run.summary, for publish and the summary."""
    if parts:
        with engine.begin() as conn:
            conn.execute(sa.text(_q("merge_run_summary")), {"c": json.dumps(parts), "r": run_id})


def last_score_summary(conn: sa.Connection, key: str):
    """``key`` of the summary of the run that last scored; else of the latest run that has it; else None."""
    row = conn.execute(sa.text(_q("summary_of_last_score")), {"k": key}).first()
    if row is None or row[0] is None:
        row = conn.execute(sa.text(_q("summary_of_latest_run")), {"k": key}).first()
    return row[0] if row and row[0] is not None else None


def save_coverage(engine: sa.Engine, run_id: int, coverage: dict) -> None:
    """Keep the coverage report with the run (meta.run.summary.score_coverage)."""
    save_score_summary(engine, run_id, {"score_coverage": coverage})


def read_coverage(conn: sa.Connection) -> dict | None:
    """The coverage report of the run that last scored (None when unknown, e.g. scored before it existed)."""
    return last_score_summary(conn, "score_coverage")


# --- retention -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Retention:
    """Config section ``ledger`` (documented, with its defaults, in config/default.yaml): how many
    ``meta.run`` rows and ``meta.input`` rows per kind are kept; None keeps everything."""

    keep_runs: int | None
    keep_loads: int | None

    @classmethod
    def from_config(cls, cfg: dict) -> Retention:
        from plekzoeker.errors import ConfigError

        sec = cfg.get("ledger")
        keys = ("keep_runs", "keep_loads")
        if not isinstance(sec, dict) or set(sec) != set(keys):
            got = sorted(sec) if isinstance(sec, dict) else sec
            raise ConfigError(f"config ledger: {got!r} must have exactly the keys {', '.join(keys)}")
        for key in keys:
            v = sec[key]
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ConfigError(f"config ledger.{key}: {v!r} must be a whole number >= 1, or null to keep every row")
        return cls(keep_runs=sec["keep_runs"], keep_loads=sec["keep_loads"])


def prune(engine: sa.Engine, retention: Retention) -> dict[str, int]:
    """Delete the ledger rows beyond ``retention`` (see the module docstring); returns rows deleted per table."""
    done = {"meta.run": 0, "meta.input": 0}
    with engine.begin() as conn:
        if retention.keep_runs is not None:
            done["meta.run"] = conn.execute(sa.text(_q("prune_runs")), {"n": retention.keep_runs}).rowcount
        if retention.keep_loads is not None:
            done["meta.input"] = conn.execute(sa.text(_q("prune_inputs")), {"n": retention.keep_loads}).rowcount
    return done
