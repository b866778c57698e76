"""Streaming, validated, atomic loads: COPY chunks into staging tables, validate, swap into core.

One load of one input file is one transaction:

1. ``CREATE TABLE raw.<table>__<input_id> (LIKE core.<table>)`` for every target table;
2. ``COPY`` the reader's chunks into it: DataFrame chunks as CSV (geometry as EWKB hex; PostgreSQL
   does the parsing), Arrow-table chunks (``geometry`` as WKB, e.g. the BAG GeoPackage units) in
   PostgreSQL's binary COPY format, built column-wise with numpy/Arrow (no text parsing on the server);
3. validate in SQL: reject rows with malformed identifiers (kept in ``meta.reject`` with the reason),
   drop duplicate identifiers (counted), repair invalid geometries with ``ST_MakeValid`` (counted),
   refuse an empty result; then the plausibility guards (``guards.py``: extent in RD New and the area,
   implausible rows, duplicate geometries at scale, the shrink guard against the current rows) reject
   rows or refuse the file. One scan (``guards.survey``) counts everything these steps need: rows,
   rows failing each check and each guard rule, the shrink guard's rows per municipality; while no
   row is rejected or dropped (the usual case) its counts are the answers and the table is not
   scanned again. The current rows of ``core.<table>`` are counted on a second connection, started
   before the COPY (``guards.CurrentRows``; used only if the table counted is still the one in place);
4. build the indexes and ``ANALYZE`` the staging table (its statistics swap in with it), then rename
   ``core.<table>`` away and the staging table into its place, and drop the old one; ``meta.input``
   is marked done (``ledger.py``, on this transaction's cursor).

The file's sha256 (for ``meta.input`` and the "unchanged, skip" check) is computed up front only when
the last successful load of that kind has the same size and options; otherwise the ledger row starts
with an empty sha256 and gets the real one, hashed while the server builds the indexes, in the same
transaction that marks it done.

A failure or a kill at any point rolls the whole transaction back: ``core.*`` keeps the previous
good data and no staging table survives (it was created inside the transaction). With the managed
cluster's ``wal_level=minimal``, COPY into a table created in the same transaction skips the WAL
(any other server works the same, only with WAL written).

Where the time goes (1M BAG units from a GeoPackage, benchmarks/bench_ingest.py's child, managed
cluster, 2 cores shared with other work at load average ~2.8; wall seconds of one profiled run of the
previous loader → this one, back to back): whole process 7.4 → 5.9; start and imports 0.7 (both);
COPY 2.1 → 2.0 (client-bound: reading ~0.5 s and encoding ~0.7 s of CPU against the server's
~1.1 s; the reader yields its first rows after ~0.12 s instead of ~0.35 s, as the first GDAL batch is
cleaned in quarters); validation and guards 1.45 in eight statements → 0.5 in two (the survey and the
duplicate-geometry sample; the current rows are counted beside the COPY); primary key 0.45; GiST
1.25-1.4 (PostgreSQL's sorted build, single-threaded: the floor of this load); ANALYZE 0.4 after the
commit → 0.3 inside; interpreter exit 0.3 → 0.1 (``gc.freeze``). The staging table is invisible to
other connections until the commit, so its indexes cannot be built side by side on a second one; the
primary key's B-tree does use PostgreSQL's parallel workers.

The parts live beside this module: ``tables.py`` (``TableSpec``, ``LoadStats``), ``copy_encoding.py``
(chunks → CSV / binary COPY bytes, the reader and encoder threads), ``guards.py`` (plausibility), ``ledger.py``
(everything in ``meta.*``). This module owns the staging tables: their names never leave it
(``post_sql`` is handed them).

:func:`probe` asks the same question without loading: inside ``with probe():`` a load whose file is
the one last loaded returns skipped exactly as it would in a run (it *is* the same code path, the
size/options/sha256 comparison of ``ledger``), and any other load raises :class:`WouldLoad` before it
touches the database or reads the file beyond its hash. The CLI uses it to tell whether a nightly
run would load anything at all.
"""
from __future__ import annotations

import gc
import itertools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import psycopg
import sqlalchemy as sa
from psycopg import sql

from plekzoeker.db import ledger
from plekzoeker.db.copy_encoding import PGCOPY_SIGNATURE, PGCOPY_TRAILER, binary_plan, copy_columns, prepared_chunks
from plekzoeker.db.guards import CurrentRows, LoadPolicy, guard_rows, guard_shrink, survey
from plekzoeker.db.tables import ChunkSource, LoadStats, TableSpec, iter_frames
from plekzoeker.errors import SourceError
from plekzoeker.faults import checkpoint
from plekzoeker.progress import Progress

__all__ = ["ChunkSource", "LoadStats", "TableSpec", "WouldLoad", "iter_frames", "load_input", "probe", "probing",
           "replace_tables"]

log = logging.getLogger(__name__)
_PROBING: ContextVar[bool] = ContextVar("plekzoeker_load_probe", default=False)
_FROZEN = False


def _freeze_long_lived() -> None:
    """Once per process, before the first load: move every object alive now (the imported modules of
    pandas, geopandas, GDAL, Arrow, SQLAlchemy: several hundred thousand objects) into the cyclic
    collector's permanent generation. Full collections during the loads, and the interpreter's at
    exit, then stop walking them: a BAG load's process ends ~0.3 s sooner (measured ~0.3 s → ~0.05 s
    from the end of the work to the exit). Reference counting frees them as before; only cyclic garbage
    alive at this very moment would never be collected."""
    global _FROZEN
    if not _FROZEN:
        _FROZEN = True
        gc.freeze()


class WouldLoad(Exception):  # noqa: N818 - an answer, not a failure
    """Raised inside :func:`probe` by a load that would not be skipped (the file is not the one last loaded)."""

    def __init__(self, kind: str, path: Path) -> None:
        super().__init__(f"{kind}: {path} differs from the last successful load")
        self.kind, self.path = kind, path


@contextmanager
def probe() -> Iterator[None]:
    """Loads inside this block only answer "unchanged" (skipped stats) or raise :class:`WouldLoad`."""
    token = _PROBING.set(True)
    try:
        yield
    finally:
        _PROBING.reset(token)


def probing() -> bool:
    """True inside :func:`probe` (for registrations that are not loads, e.g. rasters)."""
    return _PROBING.get()


def _staging_name(spec: TableSpec, input_id: int) -> str:
    """The staging table of ``spec`` in this load (in schema raw): the loader's business only."""
    return f"{spec.table}__{input_id}"


def _staged(targets, tag: int) -> dict[str, str]:
    """table → its qualified staging table (``raw."candidate__7"``), for a load's ``post_sql``."""
    return {spec.table: f'raw."{_staging_name(spec, tag)}"' for spec in targets}


def _checks(spec: TableSpec) -> tuple[tuple[str, str], ...]:
    """(SQL true for a bad row, reason) of the validation: a row without its identifier is rejected like
    any malformed one (the staging table lets it in)."""
    return ((f'"{spec.id_column}" IS NULL', f"no {spec.id_column}"),) + spec.checks if spec.id_column else spec.checks


def _validate(cur, staging: sql.Composed, spec: TableSpec, input_id: int, stats: LoadStats,
              hits: tuple[int, ...]) -> None:
    """Reject the rows failing a check (``hits``: how many fail each, from the table's survey), repair
    invalid polygons."""
    for (bad, reason), hit in zip(_checks(spec), hits):  # internal constant SQL, never user input
        if not hit:
            continue
        n = ledger.reject_rows(cur, staging, spec.id_column, input_id, f"{spec.table}: {reason}", spec.private,
                               sql.SQL(bad))
        log.warning("%s: %d row(s) rejected: %s (see meta.reject, input %s)", spec.table, n, reason, input_id)
        stats.rejected += n
    if spec.geometry and spec.geom_kind == "multipolygon":
        g = sql.Identifier(spec.geometry)
        cur.execute(sql.SQL(
            "UPDATE {t} SET {g} = ST_Multi(ST_CollectionExtract(ST_MakeValid({g}), 3)) WHERE NOT ST_IsValid({g}) "
            "RETURNING ST_IsEmpty({g})").format(t=staging, g=g))
        empties = sum(1 for (e,) in cur.fetchall() if e)
        stats.repaired += cur.rowcount
        if empties:
            cur.execute(sql.SQL("DELETE FROM {t} WHERE ST_IsEmpty({g})").format(t=staging, g=g))
            ledger.reject_unnamed(cur, input_id, f"{spec.table}: geometry empty after repair", cur.rowcount)
            stats.rejected += cur.rowcount


def _make_unique(cur, spec: TableSpec, tag: int, stats: LoadStats) -> None:
    """Add the primary key; only when that fails on duplicates, drop them (keeping the last) and retry.

    The common case (no duplicates) then costs one index build, which the table needs anyway.
    """
    if not spec.id_column:
        return
    staging = sql.Identifier(_staging_name(spec, tag))
    add_pk = sql.SQL("ALTER TABLE raw.{s} ADD CONSTRAINT {c} PRIMARY KEY ({id})").format(
        s=staging, c=sql.Identifier(f"{_staging_name(spec, tag)}_pkey"), id=sql.Identifier(spec.id_column))
    cur.execute("SAVEPOINT make_unique")
    try:
        cur.execute(add_pk)
        cur.execute("RELEASE SAVEPOINT make_unique")
        return
    except psycopg.errors.UniqueViolation:
        cur.execute("ROLLBACK TO SAVEPOINT make_unique")
    cur.execute(sql.SQL("DELETE FROM raw.{s} a USING raw.{s} b WHERE a.{id} = b.{id} AND a.ctid < b.ctid").format(
        s=staging, id=sql.Identifier(spec.id_column)))
    log.warning("%s: %d duplicate %s values dropped (kept the last)", spec.table, cur.rowcount, spec.id_column)
    stats.duplicates += cur.rowcount
    cur.execute(add_pk)


def _replace_partition(cur, spec: TableSpec, input_id: int, value: str) -> None:
    staging = sql.Identifier(_staging_name(spec, input_id))
    t = sql.Identifier(spec.table)
    col = sql.Identifier(spec.partition)
    sch = sql.Identifier(spec.schema)
    cur.execute(sql.SQL("LOCK TABLE {sch}.{t} IN SHARE ROW EXCLUSIVE MODE").format(sch=sch, t=t))
    cur.execute(sql.SQL("DELETE FROM {sch}.{t} WHERE {c} = %s").format(sch=sch, t=t, c=col), (value,))
    cur.execute(sql.SQL("INSERT INTO {sch}.{t} SELECT * FROM raw.{s}").format(sch=sch, t=t, s=staging))
    cur.execute(sql.SQL("DROP TABLE raw.{s}").format(s=staging))


def _swap(cur, spec: TableSpec, input_id: int) -> None:
    staging = _staging_name(spec, input_id)
    t = spec.table
    if spec.geometry:
        cur.execute(sql.SQL("CREATE INDEX {i} ON raw.{s} USING gist ({g})").format(
            i=sql.Identifier(f"{staging}_geom"), s=sql.Identifier(staging), g=sql.Identifier(spec.geometry)))
    for n, idx in enumerate(spec.indexes):
        cur.execute(sql.SQL("CREATE INDEX {i} ON raw.{s} ").format(
            i=sql.Identifier(f"{staging}_ix{n}"), s=sql.Identifier(staging)) + sql.SQL(idx))
    # the planner statistics go in with the rows (ANALYZE samples this transaction's own rows), before
    # the exclusive lock on the current table: no moment without them, and no second pass after commit
    cur.execute(sql.SQL("ANALYZE raw.{s}").format(s=sql.Identifier(staging)))
    old = f"{t}__old_{input_id}"
    sch = sql.Identifier(spec.schema)
    cur.execute(sql.SQL("LOCK TABLE {sch}.{t} IN ACCESS EXCLUSIVE MODE").format(sch=sch, t=sql.Identifier(t)))
    cur.execute(sql.SQL("ALTER TABLE {sch}.{t} RENAME TO {o}").format(sch=sch, t=sql.Identifier(t), o=sql.Identifier(old)))
    cur.execute(sql.SQL("ALTER TABLE raw.{s} SET SCHEMA {sch}").format(s=sql.Identifier(staging), sch=sch))
    cur.execute(sql.SQL("ALTER TABLE {sch}.{s} RENAME TO {t}").format(sch=sch, s=sql.Identifier(staging), t=sql.Identifier(t)))
    # LIKE copies no table comment (core.owner's says it holds personal data): carry it over
    cur.execute("SELECT obj_description(c.oid, 'pg_class') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relname = %s", (spec.schema, old))
    comment = cur.fetchone()[0]
    if comment:
        cur.execute(sql.SQL("COMMENT ON TABLE {sch}.{t} IS {c}").format(sch=sch, t=sql.Identifier(t), c=sql.Literal(comment)))
    cur.execute(sql.SQL("DROP TABLE {sch}.{o}").format(sch=sch, o=sql.Identifier(old)))
    # canonical index names, so the next swap and humans find them where they expect
    renames = []
    if spec.id_column:
        renames.append((f"{staging}_pkey", f"{t}_pkey"))
    if spec.geometry:
        renames.append((f"{staging}_geom", f"{t}_geom"))
    renames += [(f"{staging}_ix{n}", f"{t}_ix{n}") for n, _ in enumerate(spec.indexes)]
    for a, b in renames:
        cur.execute(sql.SQL("ALTER INDEX {sch}.{a} RENAME TO {b}").format(sch=sch, a=sql.Identifier(a), b=sql.Identifier(b)))


def _stage_validate_swap(cur, targets: dict[TableSpec, ChunkSource], tag: int, stats: LoadStats, label: str,
                         path: Path | None, partition: str | None = None, post_sql=None,
                         after_copy: Callable[[], None] | None = None, policy: LoadPolicy | None = None,
                         connect: Callable[[], object] | None = None) -> None:
    """COPY every target into its staging table, validate, run ``post_sql``, then swap all (one transaction).

    With ``policy`` (every input load) the plausibility guards run on each validated staging table
    before anything is swapped (plekzoeker/db/guards.py); with ``connect`` too (a second connection)
    the shrink guard's current rows are counted beside the load (``guards.CurrentRows``).
    ``after_copy()`` runs once every table is loaded and validated: the client is idle while the
    server builds the indexes (single-threaded GiST builds)."""
    cur.execute("SET LOCAL lock_timeout = '10min'")
    current = CurrentRows(connect, list(targets), policy, partition).start() if policy and connect else None
    try:
        _stage_tables(cur, targets, tag, stats, label, path, partition, policy, current)
    finally:
        if current is not None:
            current.close()
    if after_copy is not None:
        after_copy()
    if post_sql is not None:
        post_sql(cur, _staged(targets, tag))
    checkpoint("swap")
    for spec in targets:
        if spec.partition:
            _replace_partition(cur, spec, tag, partition)
        else:
            _swap(cur, spec, tag)


def _stage_tables(cur, targets: dict[TableSpec, ChunkSource], tag: int, stats: LoadStats, label: str,
                  path: Path | None, partition: str | None, policy: LoadPolicy | None,
                  current: CurrentRows | None) -> None:
    """COPY each target into its staging table, validate and guard it (the first half of the load)."""
    for spec, chunks in targets.items():
        staging = sql.SQL("raw.{}").format(sql.Identifier(_staging_name(spec, tag)))
        cur.execute(sql.SQL("CREATE TABLE {s} (LIKE {sch}.{t} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)").format(
            s=staging, sch=sql.Identifier(spec.schema), t=sql.Identifier(spec.table)))
        if spec.id_column:  # NULL ids become rejects in _validate; the primary key added later is NOT NULL again
            cur.execute(sql.SQL("ALTER TABLE {s} ALTER COLUMN {c} DROP NOT NULL").format(
                s=staging, c=sql.Identifier(spec.id_column)))
        n_table = 0
        t_start = time.perf_counter()
        with Progress(f"{label} → {spec.table}") as bar:
            prepared = prepared_chunks(spec, chunks(), tag, binary_plan(cur, staging, spec))
            first = next(prepared, None)  # its format (CSV or binary) is the COPY's
            fmt = first[0] if first else "csv"
            stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT {})").format(
                staging, sql.SQL(", ").join(map(sql.Identifier, copy_columns(spec))), sql.SQL(fmt))
            try:
                with cur.copy(stmt) as copy:
                    if fmt == "binary":
                        copy.write(PGCOPY_SIGNATURE)
                    for _, n, data in itertools.chain([first] if first else [], prepared):
                        copy.write(data)
                        n_table += n
                        bar.advance(n)
                        checkpoint(f"copy:{spec.table}")
                    if fmt == "binary":
                        copy.write(PGCOPY_TRAILER)
            finally:
                prepared.close()  # stops the reader thread if the COPY failed
        stats.rows_in += n_table
        t_copy = time.perf_counter()
        # one scan counts what validation and the guards need; it stays exact while no row changes
        found = survey(cur, staging, spec, [bad for bad, _ in _checks(spec)], policy, partition)
        before = (stats.rejected, stats.duplicates, stats.repaired)
        _validate(cur, staging, spec, tag, stats, found.check_hits)
        _make_unique(cur, spec, tag, stats)
        unchanged = (stats.rejected, stats.duplicates, stats.repaired) == before
        if policy is not None:
            guard_rows(cur, staging, spec, tag, stats, policy, path or label, found if unchanged else None)
        checkpoint(f"validate:{spec.table}")
        log.debug("%s: COPY %d rows %.2fs, validate %.2fs", spec.table, n_table, t_copy - t_start,
                  time.perf_counter() - t_copy)
        # every row removed since the survey was counted (rejects, duplicates) as its DELETE's row count
        kept = found.total - (stats.rejected - before[0]) - (stats.duplicates - before[1])
        if kept == 0 and spec.required:
            in_area = " in the area" if policy is not None and policy.area is not None else ""
            hint = "; is this the file for the area?" if in_area and n_table == 0 else ""
            raise SourceError(path or label, f"no usable {spec.table} rows{in_area} (read {n_table}){hint}; "
                                             "nothing was changed")
        if policy is not None:
            guard_shrink(cur, staging, spec, policy, path or label, partition, current,
                         found.staged if kept == found.total and stats.repaired == before[2] else None)
        stats.per_table[spec.table] = kept
        stats.rows_out += kept


def _in_transaction(engine: sa.Engine, work: Callable[[object], None], lock: str | None = None,
                    before: Callable[[], None] | None = None) -> None:
    """Run ``work(cursor)`` in one psycopg transaction; roll back on any failure or interrupt.

    With ``lock``, a session advisory lock of that name is held first (two loads of the same kind
    queue instead of interleaving; the server drops it if this process dies), then ``before()`` runs.
    """
    raw_conn = engine.raw_connection()
    try:
        pg = raw_conn.driver_connection
        if lock:
            pg.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"plekzoeker.{lock}",))
            pg.commit()
        if before is not None:
            before()
        with pg.cursor() as cur:
            work(cur)
        pg.commit()
    except BaseException:
        try:
            raw_conn.driver_connection.rollback()
        except Exception:  # noqa: BLE001 - the connection may be gone (server down)
            pass
        raise
    finally:
        try:
            if lock:
                raw_conn.driver_connection.execute("SELECT pg_advisory_unlock_all()")
                raw_conn.driver_connection.commit()
        except Exception:  # noqa: BLE001 - a dead connection released its locks already
            pass
        raw_conn.close()


def _analyze(engine: sa.Engine, specs) -> None:
    """ANALYZE the tables replaced by partition after the commit (a swapped table was analyzed before its swap)."""
    partitioned = [spec for spec in specs if spec.partition]
    if not partitioned:
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for spec in partitioned:
            conn.execute(sa.text(f"ANALYZE {spec.qualified}"))


def load_input(engine: sa.Engine, kind: str, path: str | Path, targets: dict[TableSpec, ChunkSource],
               options: dict | None = None, force: bool = False,
               post_sql: Callable[[object, dict[str, str]], None] | None = None,
               policy: LoadPolicy | None = None) -> LoadStats:
    """Load one input file into one or more core tables atomically (see module docstring).

    ``targets`` maps each table spec to a zero-argument callable returning the reader's chunks.
    ``post_sql(cursor, staged)`` may run extra statements inside the same transaction before the swap;
    ``staged`` maps each target table to its qualified staging table (``raw."candidate__7"``).
    ``policy``: the plausibility guards' limits and the load's area (default: ``LoadPolicy.default()``, the
    defaults of config/default.yaml; the guards always run).
    """
    _freeze_long_lived()
    policy = policy or LoadPolicy.default()
    p = Path(path)
    if not p.exists():
        raise SourceError(p, "file not found")
    options = options or {}
    stats = LoadStats(kind=kind, path=str(p))
    sha: str | None = None
    size = ledger.input_size(p)
    if not force and ledger.may_be_loaded(engine, kind, size, options):
        sha, size = ledger.file_sha256(p)
        if ledger.already_loaded(engine, kind, sha, options):
            stats.skipped = True
            log.info(stats.summary())
            return stats
    if _PROBING.get():
        raise WouldLoad(kind, p)
    # Otherwise the file cannot be the last one loaded (forced, or its size differs): its sha256 is
    # only needed for the ledger, so it is computed while the server builds the indexes.
    hasher = ledger.Sha256InBackground(p) if sha is None else None
    t0 = time.perf_counter()

    def register() -> None:
        stats.input_id = ledger.begin_input(engine, kind, p, sha or "", size, options)

    def work(cur) -> None:
        _stage_validate_swap(cur, targets, stats.input_id, stats, kind, p, options.get("partition"), post_sql,
                             after_copy=hasher.start if hasher else None, policy=policy, connect=engine.raw_connection)
        digest, nbytes = hasher.result() if hasher else (sha, size)
        stats.seconds = time.perf_counter() - t0
        ledger.finish_input(cur, stats, digest, nbytes)

    try:
        _in_transaction(engine, work, lock=f"load.{kind}", before=register)
    except BaseException:
        if stats.input_id is not None:
            _mark_failed(engine, stats.input_id)
        raise
    _analyze(engine, targets)
    log.info(stats.summary())
    return stats


def replace_tables(engine: sa.Engine, targets: dict[TableSpec, ChunkSource], tag: int, label: str,
                   post_sql: Callable[[object, dict[str, str]], None] | None = None) -> LoadStats:
    """Replace stage-output tables (e.g. result.candidate) atomically with the given chunks."""
    stats = LoadStats(kind=label, path="")
    t0 = time.perf_counter()
    _in_transaction(engine, lambda cur: _stage_validate_swap(cur, targets, tag, stats, label, None, None, post_sql))
    stats.seconds = time.perf_counter() - t0
    _analyze(engine, targets)
    return stats


def _mark_failed(engine: sa.Engine, input_id: int) -> None:
    try:
        ledger.fail_input(engine, input_id)
    except Exception:  # noqa: BLE001 - best effort; the load itself already failed
        log.debug("could not mark input %s failed", input_id)
