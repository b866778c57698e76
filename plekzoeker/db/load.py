"""Streaming, validated, atomic loads: COPY chunks into staging tables, validate, swap into core.

One load of one input file is one transaction:

1. ``CREATE TABLE raw.<table>__<input_id> (LIKE core.<table>)`` for every target table;
2. ``COPY`` the reader's chunks into it (geometry as EWKB hex; PostgreSQL does the parsing);
3. validate in SQL: reject rows with malformed identifiers (kept in ``meta.reject`` with the reason),
   drop duplicate identifiers (counted), repair invalid geometries with ``ST_MakeValid`` (counted),
   refuse an empty result;
4. build the indexes, then rename ``core.<table>`` away and the staging table into its place, and
   drop the old one; ``meta.input`` is marked done.

A failure or a kill at any point rolls the whole transaction back: ``core.*`` keeps the previous
good data and no staging table survives (it was created inside the transaction). With the managed
cluster's ``wal_level=minimal``, COPY into a table created in the same transaction skips the WAL.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import shapely
import sqlalchemy as sa
from psycopg import sql

from ..errors import SourceError
from ..faults import checkpoint
from ..progress import Progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableSpec:
    """How a reader's chunks map onto a core table."""

    table: str                      # name in core (and of the staging table in raw)
    columns: tuple[str, ...]        # non-geometry columns, in COPY order
    geometry: str | None = "geom"   # target geometry column, fed from the chunk's geometry
    geom_kind: str | None = None    # "multipolygon" | "point" | "linestring"
    id_column: str | None = None    # unique identifier; duplicates dropped and counted
    checks: tuple[tuple[str, str], ...] = ()  # (SQL condition true for a bad row, reason); bad rows are rejected
    private: tuple[str, ...] = ()   # columns with personal data: left out of the raw row kept in meta.reject
    indexes: tuple[str, ...] = ()   # extra index definitions: "(col)" or "USING gist (geom)"
    partition: str | None = None    # replace only rows with this column = the load's partition value
    required: bool = True           # an empty result refuses the whole load
    schema: str = "core"            # where the table lives (core for inputs, result for stage outputs)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass
class LoadStats:
    kind: str
    path: str
    input_id: int | None = None
    rows_in: int = 0
    rows_out: int = 0
    rejected: int = 0
    repaired: int = 0
    duplicates: int = 0
    seconds: float = 0.0
    skipped: bool = False
    per_table: dict[str, int] = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float:
        return self.rows_in / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        if self.skipped:
            return f"{self.kind}: {self.path} unchanged since last load (use --force to reload)"
        tables = ", ".join(f"{t} {n:,}" for t, n in self.per_table.items())
        return (f"{self.kind}: loaded {self.rows_out:,} rows ({tables}) from {self.path} in {self.seconds:.1f}s"
                f" ({self.rows_per_s:,.0f} rows/s); rejected {self.rejected}, repaired {self.repaired},"
                f" duplicates {self.duplicates}")


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


_HEX = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)
_EWKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8")])


def _points_to_ewkb_hex(geoms: np.ndarray, srid: int = 28992) -> pa.Array:
    """Points -> hex EWKB (little endian, with SRID) built with numpy: ~10x faster than shapely.to_wkb."""
    n = len(geoms)
    xy = shapely.get_coordinates(geoms)
    if len(xy) != n:  # empty or missing points: let the general path say what is wrong
        return _geoms_to_ewkb_hex(geoms, "other")
    rec = np.empty(n, dtype=_EWKB_POINT)
    rec["order"], rec["type"], rec["srid"] = 1, 0x20000001, srid
    rec["x"], rec["y"] = xy[:, 0], xy[:, 1]
    raw = rec.view(np.uint8).reshape(n, _EWKB_POINT.itemsize)
    hexed = np.empty((n, 2 * _EWKB_POINT.itemsize), dtype=np.uint8)
    hexed[:, 0::2], hexed[:, 1::2] = _HEX[raw >> 4], _HEX[raw & 15]
    offsets = np.arange(n + 1, dtype=np.int32) * (2 * _EWKB_POINT.itemsize)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(hexed)])


def _geoms_to_ewkb_hex(geoms: np.ndarray, kind: str | None) -> pa.Array:
    """Vectorised: force 2D and the target type (Polygon -> MultiPolygon), return EWKB hex (SRID 28992)."""
    if kind == "point" and len(geoms) and shapely.get_type_id(geoms).min() == 0 and shapely.get_type_id(geoms).max() == 0:
        return _points_to_ewkb_hex(geoms)
    geoms = shapely.force_2d(geoms)
    if kind == "multipolygon":
        types = shapely.get_type_id(geoms)
        single = types == 3  # Polygon
        if single.any():
            geoms = geoms.copy()
            geoms[single] = shapely.multipolygons(geoms[single][:, np.newaxis])
    geoms = shapely.set_srid(geoms, 28992)
    return pa.array(shapely.to_wkb(geoms, hex=True, include_srid=True), type=pa.string())


def _pg_array_literal(arr: pa.Array) -> pa.Array:
    """list<string> -> PostgreSQL array literal text, every element quoted: {"a","b"}; empty -> {}."""
    flat = pc.cast(pc.list_flatten(arr), pa.string())
    flat = pc.replace_substring(pc.replace_substring(flat, "\\", "\\\\"), '"', '\\"')
    rebuilt = pa.ListArray.from_arrays(arr.offsets, flat, mask=arr.is_null())
    joined = pc.binary_join(rebuilt, '","')
    lit = pc.binary_join_element_wise('{"', joined, '"}', "")
    empty = pc.equal(pc.list_value_length(arr), 0)
    return pc.if_else(empty, pa.scalar("{}"), lit)


def _column(values: pd.Series) -> pa.Array:
    """One chunk column as an Arrow array in a form PostgreSQL's CSV COPY parses."""
    if values.dtype == object:
        sample = values.dropna()
        first = sample.iloc[0] if len(sample) else None
        if isinstance(first, (list, tuple, np.ndarray)):
            try:  # C-level conversion when the elements are already strings
                arr = pa.array(values, type=pa.list_(pa.string()), from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
                arr = pa.array([None if v is None or (isinstance(v, float) and np.isnan(v)) else [str(x) for x in v]
                                for v in values], type=pa.list_(pa.string()))
            return _pg_array_literal(arr)
        if isinstance(first, dict):
            return pa.array([None if v is None else json.dumps(v, default=str) for v in values], type=pa.string())
        if first is None:
            return pa.nulls(len(values), pa.string())
    arr = pa.array(values, from_pandas=True)
    if pa.types.is_timestamp(arr.type):
        arr = pc.cast(arr, pa.date32())
    return arr


def _chunk_to_csv(spec: TableSpec, chunk: pd.DataFrame) -> tuple[int, bytes]:
    """One chunk as CSV bytes in COPY column order, built column-wise with Arrow (no per-row Python work)."""
    missing = [c for c in spec.columns if c not in chunk.columns]
    if missing:
        raise ValueError(f"reader did not produce column(s) {missing} for {spec.table}")
    if len(chunk) == 0:
        return 0, b""
    arrays = [_column(chunk[c].reset_index(drop=True)) for c in spec.columns]
    if spec.geometry:
        geoms = chunk.geometry.to_numpy() if isinstance(chunk, gpd.GeoDataFrame) else chunk["geometry"].to_numpy()
        arrays.append(_geoms_to_ewkb_hex(np.asarray(geoms, dtype=object), spec.geom_kind))
    table = pa.Table.from_arrays(arrays, names=_copy_columns(spec))
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return len(chunk), buf.getvalue()


def _copy_columns(spec: TableSpec) -> list[str]:
    return [*spec.columns, spec.geometry] if spec.geometry else list(spec.columns)


def _prepared_chunks(spec: TableSpec, chunks: Iterable[pd.DataFrame], tag: int, depth: int = 2) -> Iterator[tuple[int, bytes]]:
    """Read and convert chunks in a background thread while the caller COPYs the previous one.

    Reading (GDAL), geometry encoding (shapely) and CSV writing (Arrow) release the GIL, so the
    two cores overlap; the bounded queue keeps at most ``depth`` chunks in memory.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    DONE = object()

    def produce() -> None:
        try:
            for chunk in chunks:
                if stop.is_set():
                    return
                if "input_id" in spec.columns:
                    chunk = chunk.assign(input_id=tag)
                q.put(_chunk_to_csv(spec, chunk))
            q.put(DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer and re-raised there
            q.put(exc)

    t = threading.Thread(target=produce, name=f"read-{spec.table}", daemon=True)
    t.start()
    try:
        while True:
            item = q.get()
            if item is DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while t.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                t.join(0.05)


def _staging_name(spec: TableSpec, input_id: int) -> str:
    return f"{spec.table}__{input_id}"


def _validate(cur, staging: sql.Composed, spec: TableSpec, input_id: int, stats: LoadStats) -> None:
    """Reject rows failing a check (one scan for all checks), repair invalid polygons."""
    ref = sql.SQL("{}::text").format(sql.Identifier(spec.id_column)) if spec.id_column else sql.SQL("NULL")
    if spec.checks:  # internal constant SQL, never user input
        probe = sql.SQL(", ").join(sql.SQL("coalesce(bool_or(") + sql.SQL(bad) + sql.SQL("), false)") for bad, _ in spec.checks)
        cur.execute(sql.SQL("SELECT ") + probe + sql.SQL(" FROM {t}").format(t=staging))
        hits = cur.fetchone()
        for (bad, reason), hit in zip(spec.checks, hits):
            if not hit:
                continue
            cur.execute(sql.SQL("INSERT INTO meta.reject (input_id, row_ref, reason, raw) SELECT %s, {ref}, %s, "
                                "(to_jsonb(t) - %s::text[])::text FROM {t} t WHERE ").format(ref=ref, t=staging)
                        + sql.SQL(bad), (input_id, f"{spec.table}: {reason}", list(spec.private)))
            cur.execute(sql.SQL("DELETE FROM {t} WHERE ").format(t=staging) + sql.SQL(bad))
            log.warning("%s: %d row(s) rejected: %s (see meta.reject, input %s)", spec.table, cur.rowcount, reason, input_id)
            stats.rejected += cur.rowcount
    if spec.geometry and spec.geom_kind == "multipolygon":
        g = sql.Identifier(spec.geometry)
        cur.execute(sql.SQL(
            "UPDATE {t} SET {g} = ST_Multi(ST_CollectionExtract(ST_MakeValid({g}), 3)) WHERE NOT ST_IsValid({g}) "
            "RETURNING ST_IsEmpty({g})").format(t=staging, g=g))
        empties = sum(1 for (e,) in cur.fetchall() if e)
        stats.repaired += cur.rowcount
        if empties:
            cur.execute(sql.SQL("DELETE FROM {t} WHERE ST_IsEmpty({g})").format(t=staging, g=g))
            cur.execute("INSERT INTO meta.reject (input_id, reason) SELECT %s, %s FROM generate_series(1, %s)",
                        (input_id, f"{spec.table}: geometry empty after repair", cur.rowcount))
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
    old = f"{t}__old_{input_id}"
    sch = sql.Identifier(spec.schema)
    cur.execute(sql.SQL("LOCK TABLE {sch}.{t} IN ACCESS EXCLUSIVE MODE").format(sch=sch, t=sql.Identifier(t)))
    cur.execute(sql.SQL("ALTER TABLE {sch}.{t} RENAME TO {o}").format(sch=sch, t=sql.Identifier(t), o=sql.Identifier(old)))
    cur.execute(sql.SQL("ALTER TABLE raw.{s} SET SCHEMA {sch}").format(s=sql.Identifier(staging), sch=sch))
    cur.execute(sql.SQL("ALTER TABLE {sch}.{s} RENAME TO {t}").format(sch=sch, s=sql.Identifier(staging), t=sql.Identifier(t)))
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


ChunkSource = Callable[[], Iterable[pd.DataFrame]]


def already_loaded(engine: sa.Engine, kind: str, sha: str, options: dict) -> bool:
    """True when the latest successful load of ``kind`` was this exact file with these options."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT sha256, options FROM meta.input WHERE kind = :k AND status = 'done' "
            "ORDER BY input_id DESC LIMIT 1"), {"k": kind}).first()
    return bool(row) and row.sha256 == sha and (row.options or {}) == json.loads(json.dumps(options, default=str))


def _stage_validate_swap(cur, targets: dict[TableSpec, ChunkSource], tag: int, stats: LoadStats, label: str,
                         path: Path | None, partition: str | None = None, post_sql=None) -> None:
    """COPY every target into its staging table, validate, run ``post_sql``, then swap all (one transaction)."""
    cur.execute("SET LOCAL lock_timeout = '10min'")
    for spec, chunks in targets.items():
        staging = sql.SQL("raw.{}").format(sql.Identifier(_staging_name(spec, tag)))
        cur.execute(sql.SQL("CREATE TABLE {s} (LIKE {sch}.{t} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)").format(
            s=staging, sch=sql.Identifier(spec.schema), t=sql.Identifier(spec.table)))
        n_table = 0
        t_start = time.perf_counter()
        with Progress(f"{label} → {spec.table}") as bar:
            stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
                staging, sql.SQL(", ").join(map(sql.Identifier, _copy_columns(spec))))
            with cur.copy(stmt) as copy:
                for n, data in _prepared_chunks(spec, chunks(), tag):
                    copy.write(data)
                    n_table += n
                    bar.advance(n)
                    checkpoint(f"copy:{spec.table}")
        stats.rows_in += n_table
        t_copy = time.perf_counter()
        _validate(cur, staging, spec, tag, stats)
        _make_unique(cur, spec, tag, stats)
        checkpoint(f"validate:{spec.table}")
        log.debug("%s: COPY %d rows %.2fs, validate %.2fs", spec.table, n_table, t_copy - t_start,
                  time.perf_counter() - t_copy)
        cur.execute(sql.SQL("SELECT count(*) FROM {s}").format(s=staging))
        kept = cur.fetchone()[0]
        if kept == 0 and spec.required:
            raise SourceError(path or label, f"no usable {spec.table} rows (read {n_table}); nothing was changed")
        stats.per_table[spec.table] = kept
        stats.rows_out += kept
    if post_sql is not None:
        post_sql(cur, tag)
    checkpoint("swap")
    for spec in targets:
        if spec.partition:
            _replace_partition(cur, spec, tag, partition)
        else:
            _swap(cur, spec, tag)


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
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for spec in specs:
            conn.execute(sa.text(f"ANALYZE {spec.qualified}"))


def load_input(engine: sa.Engine, kind: str, path: str | Path, targets: dict[TableSpec, ChunkSource],
               options: dict | None = None, force: bool = False,
               post_sql: Callable[[object, int], None] | None = None) -> LoadStats:
    """Load one input file into one or more core tables atomically (see module docstring).

    ``targets`` maps each table spec to a zero-argument callable returning the reader's chunks.
    ``post_sql(cursor, input_id)`` may run extra statements inside the same transaction before the swap.
    """
    p = Path(path)
    if not p.exists():
        raise SourceError(p, "file not found")
    options = options or {}
    sha, size = file_sha256(p)
    stats = LoadStats(kind=kind, path=str(p))
    if not force and already_loaded(engine, kind, sha, options):
        stats.skipped = True
        log.info(stats.summary())
        return stats
    t0 = time.perf_counter()

    def register() -> None:
        with engine.begin() as conn:
            # a load of this kind that was killed earlier never finished: say so in the ledger
            conn.execute(sa.text("UPDATE meta.input SET status = 'abandoned' WHERE kind = :k AND status = 'loading'"),
                         {"k": kind})
            stats.input_id = conn.execute(sa.text(
                "INSERT INTO meta.input (kind, path, sha256, size_bytes, options) "
                "VALUES (:k, :p, :s, :n, CAST(:o AS jsonb)) RETURNING input_id"),
                {"k": kind, "p": str(p.resolve()), "s": sha, "n": size, "o": json.dumps(options, default=str)}).scalar_one()

    def work(cur) -> None:
        _stage_validate_swap(cur, targets, stats.input_id, stats, kind, p, options.get("partition"), post_sql)
        stats.seconds = time.perf_counter() - t0
        cur.execute(
            "UPDATE meta.input SET status = 'done', rows_in = %s, rows_out = %s, rows_rejected = %s, repaired = %s, "
            "duplicates = %s, seconds = %s WHERE input_id = %s",
            (stats.rows_in, stats.rows_out, stats.rejected, stats.repaired, stats.duplicates, stats.seconds,
             stats.input_id))

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
                   post_sql: Callable[[object, int], None] | None = None) -> LoadStats:
    """Replace stage-output tables (e.g. result.candidate) atomically with the given chunks."""
    stats = LoadStats(kind=label, path="")
    t0 = time.perf_counter()
    _in_transaction(engine, lambda cur: _stage_validate_swap(cur, targets, tag, stats, label, None, None, post_sql))
    stats.seconds = time.perf_counter() - t0
    _analyze(engine, targets)
    return stats


def _mark_failed(engine: sa.Engine, input_id: int) -> None:
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE meta.input SET status = 'failed' WHERE input_id = :i"), {"i": input_id})
    except Exception:  # noqa: BLE001 - best effort; the load itself already failed
        log.debug("could not mark input %s failed", input_id)


def iter_frames(frames: Iterator[pd.DataFrame] | Iterable[pd.DataFrame]) -> ChunkSource:
    """Wrap an already-made iterable as a ChunkSource (for tests and small tables)."""
    return lambda: frames
