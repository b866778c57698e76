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
   rows or refuse the file;
4. build the indexes, then rename ``core.<table>`` away and the staging table into its place, and
   drop the old one; ``meta.input`` is marked done.

The file's sha256 (for ``meta.input`` and the "unchanged, skip" check) is computed up front only when
the last successful load of that kind has the same size and options; otherwise the ledger row starts
with an empty sha256 and gets the real one, hashed while the server builds the indexes, in the same
transaction that marks it done.

A failure or a kill at any point rolls the whole transaction back: ``core.*`` keeps the previous
good data and no staging table survives (it was created inside the transaction). With the managed
cluster's ``wal_level=minimal``, COPY into a table created in the same transaction skips the WAL.
"""
from __future__ import annotations

import hashlib
import io
import itertools
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

from plekzoeker.errors import SourceError
from plekzoeker.faults import checkpoint
from plekzoeker.progress import Progress

from .guards import LoadPolicy, guard_rows, guard_shrink

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
    # plausibility guards of a load (plekzoeker/db/guards.py); stage outputs (replace_tables) are not guarded
    extent: str | None = "reject"   # rows outside the RD New domain / the area: "reject" them, or "warn" (kept)
    plausible: tuple[tuple[str, str], ...] = ()  # (SQL condition true for an implausible row, reason)
    municipality: str | None = None  # SQL: a row's 4-digit municipality code (area check, shrink per municipality)
    duplicate_geometry: bool = True  # refuse a file where most rows share one geometry
    shrink_guard: bool = True       # refuse a load that removes more than ingest.max_shrink of the rows

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
    implausible: int = 0            # of the rejected: rows failing a plausibility guard
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
    return _hex_records(rec)


def _hex_records(rec: np.ndarray) -> pa.Array:
    """Fixed-size EWKB point records -> Arrow strings of their upper-case hex."""
    n = len(rec)
    raw = rec.view(np.uint8).reshape(n, _EWKB_POINT.itemsize)
    hexed = np.empty((n, 2 * _EWKB_POINT.itemsize), dtype=np.uint8)
    hexed[:, 0::2], hexed[:, 1::2] = _HEX[raw >> 4], _HEX[raw & 15]
    offsets = np.arange(n + 1, dtype=np.int32) * (2 * _EWKB_POINT.itemsize)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(hexed)])


def _geoms_to_ewkb_hex(geoms: np.ndarray, kind: str | None, hex: bool = True) -> pa.Array:
    """Vectorised: force 2D and the target type (Polygon -> MultiPolygon), return EWKB hex (SRID 28992);
    with ``hex=False`` the EWKB bytes."""
    if hex and kind == "point" and len(geoms) and shapely.get_type_id(geoms).min() == 0 and shapely.get_type_id(geoms).max() == 0:
        return _points_to_ewkb_hex(geoms)
    geoms = shapely.force_2d(geoms)
    if kind == "multipolygon":
        types = shapely.get_type_id(geoms)
        single = types == 3  # Polygon
        if single.any():
            geoms = geoms.copy()
            geoms[single] = shapely.multipolygons(geoms[single][:, np.newaxis])
    geoms = shapely.set_srid(geoms, 28992)
    return pa.array(shapely.to_wkb(geoms, hex=hex, include_srid=True), type=pa.string() if hex else pa.binary())


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


def _wkb_point_records(wkb: pa.Array, kind: str | None, srid: int = 28992) -> np.ndarray | None:
    """EWKB point records (SRID set) straight from ISO WKB when every value is a little-endian 2D point
    and points are wanted; None otherwise (then shapely does the conversion)."""
    n = len(wkb)
    if not (kind == "point" and n and not wkb.null_count and pa.types.is_binary(wkb.type)):
        return None
    offsets = np.frombuffer(wkb.buffers()[1], dtype=np.int32, count=n + 1, offset=wkb.offset * 4)
    if not (np.diff(offsets) == 21).all():
        return None
    raw = np.frombuffer(wkb.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]].reshape(n, 21)
    if not (raw[:, :5] == np.frombuffer(b"\x01\x01\x00\x00\x00", dtype=np.uint8)).all():
        return None
    rec = np.empty(n, dtype=_EWKB_POINT)
    rec["order"], rec["type"], rec["srid"] = 1, 0x20000001, srid
    rec.view(np.uint8).reshape(n, _EWKB_POINT.itemsize)[:, 9:] = raw[:, 5:]
    return rec


def _wkb_to_ewkb_hex(wkb: pa.Array, kind: str | None, srid: int = 28992) -> pa.Array:
    """ISO WKB (binary) -> hex EWKB with SRID; little-endian 2D points without shapely."""
    rec = _wkb_point_records(wkb, kind, srid)
    if rec is not None:
        return _hex_records(rec)
    return _geoms_to_ewkb_hex(shapely.from_wkb(wkb.to_numpy(zero_copy_only=False), on_invalid="ignore"), kind)


def _arrow_column(arr: pa.Array) -> pa.Array:
    """One Arrow column in a form PostgreSQL's CSV COPY parses (lists as array literals, dates as dates)."""
    if pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
        return _pg_array_literal(arr)
    if pa.types.is_timestamp(arr.type):
        return pc.cast(arr, pa.date32())
    if pa.types.is_dictionary(arr.type):
        return arr.dictionary_decode()
    return arr


def _arrow_rows(spec: TableSpec, table: pa.Table) -> int:
    """The chunk's row count, after checking the reader produced every column of ``spec``."""
    missing = [c for c in spec.columns if c not in table.column_names and c != "input_id"]
    if missing:
        raise ValueError(f"reader did not produce column(s) {missing} for {spec.table}")
    return table.num_rows


def _table_to_csv(spec: TableSpec, table: pa.Table, tag: int) -> tuple[int, bytes]:
    """An Arrow chunk (geometry as WKB in column ``geometry``) as CSV bytes in COPY column order."""
    n = _arrow_rows(spec, table)
    if n == 0:
        return 0, b""
    arrays = []
    for c in spec.columns:
        if c == "input_id":
            arrays.append(pa.array(np.full(n, tag, dtype=np.int64)))
        else:
            col = table.column(c)
            arrays.append(_arrow_column(col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col))
    if spec.geometry:
        g = table.column("geometry")
        arrays.append(_wkb_to_ewkb_hex(g.combine_chunks() if isinstance(g, pa.ChunkedArray) else g, spec.geom_kind))
    out = pa.Table.from_arrays(arrays, names=_copy_columns(spec))
    buf = io.BytesIO()
    pacsv.write_csv(out, buf, write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed",
                                                               batch_size=max(n, 1024)))
    return n, buf.getvalue()


# --------------------------------------------------------------------------- binary COPY of Arrow chunks
# PostgreSQL's binary COPY skips the server's text parsing (CSV scanning, hex geometry, array
# literals): the rows are built column-wise with numpy/Arrow, no per-row Python work.

_PGCOPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
_PGCOPY_TRAILER = b"\xff\xff"
# (no Arrow object at import time: the first one reserves ~1 GB of address space for Arrow's
# allocator, which must not happen before GDAL is loaded under a tight RLIMIT_AS)


def _nothing() -> pa.Scalar:
    return pa.scalar(b"", pa.binary())


_FIXED = {"integer": (">i4", np.int32), "bigint": (">i8", np.int64), "smallint": (">i2", np.int16),
          "double precision": (">f8", np.float64), "real": (">f4", np.float32), "boolean": ("u1", np.uint8),
          "date": (">i4", np.int32)}
_TEXT_TYPES = {"text", "character varying"}
_POSTGRES_EPOCH_DAYS = 10957  # 2000-01-01 - 1970-01-01


def _as_binary(piece: np.ndarray | pa.Array) -> pa.Array:
    return _fixed_binary(piece, piece.shape[1]) if isinstance(piece, np.ndarray) else piece


def _binary_plan(cur, staging: sql.Composed, spec: TableSpec) -> list[str] | None:
    """Per COPY column the binary encoding of its staging column type, or None when one is not supported."""
    cur.execute(sql.SQL("SELECT a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a "
                        "WHERE a.attrelid = {t}::regclass AND a.attnum > 0 AND NOT a.attisdropped").format(
        t=sql.Literal(staging.as_string(cur))))
    types = dict(cur.fetchall())
    plan = []
    for col in _copy_columns(spec):
        t = types.get(col)
        if t in _TEXT_TYPES or t in _FIXED or t == "text[]" or (t == "geometry" and col == spec.geometry):
            plan.append(t)
        else:
            return None
    return plan


def _fixed_binary(data: np.ndarray, width: int) -> pa.Array:
    """Rows of ``width`` bytes (a C-contiguous uint8 matrix or record array) as an Arrow binary array."""
    n = len(data)
    offsets = np.arange(n + 1, dtype=np.int32) * width
    return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(data))])


def _ragged_binary(rows: np.ndarray, lengths: np.ndarray) -> pa.Array:
    """The first ``lengths[i]`` bytes of each row of a uint8 matrix, as an Arrow binary array."""
    n, width = rows.shape
    if (lengths == width).all():
        return _fixed_binary(rows, width)
    keep = np.arange(width)[np.newaxis, :] < lengths[:, np.newaxis]
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(rows[keep])])


def _length_words(lengths: np.ndarray) -> np.ndarray:
    """Big-endian int32 field lengths (-1 = NULL) as an n x 4 byte matrix."""
    return lengths.astype(">i4").view(np.uint8).reshape(-1, 4)


def _rows_or_ragged(rows: np.ndarray, lengths: np.ndarray) -> np.ndarray | pa.Array:
    """The byte matrix itself when every row is used in full, else the ragged binary array."""
    return rows if (lengths == rows.shape[1]).all() else _ragged_binary(rows, lengths)


def _valid(arr: pa.Array) -> np.ndarray:
    if arr.null_count == 0:
        return np.ones(len(arr), dtype=bool)
    return arr.is_valid().to_numpy(zero_copy_only=False)


def _binary_text(arr: pa.Array) -> list[np.ndarray | pa.Array]:
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.string())
    valid = _valid(arr)
    lengths = np.where(valid, pc.fill_null(pc.binary_length(arr), 0).to_numpy(zero_copy_only=False), -1)
    data = pc.cast(pc.fill_null(arr, ""), pa.binary())
    return [_length_words(lengths)] + ([data] if (lengths > 0).any() else [])


def _binary_fixed(arr: pa.Array, kind: str) -> list[np.ndarray | pa.Array]:
    be, np_type = _FIXED[kind]
    if kind == "date":
        if pa.types.is_timestamp(arr.type):
            arr = pc.cast(arr, pa.date32())
        values = pc.cast(arr, pa.int32()).fill_null(0).to_numpy() - _POSTGRES_EPOCH_DAYS
    elif kind == "boolean":
        values = pc.cast(arr, pa.bool_()).fill_null(False).to_numpy(zero_copy_only=False)
    else:  # a safe cast: an out-of-range value fails the load instead of wrapping around
        values = pc.cast(arr, pa.from_numpy_dtype(np_type)).fill_null(0).to_numpy(zero_copy_only=False)
    width = np.dtype(be).itemsize
    rec = np.empty(len(arr), dtype=[("len", ">i4"), ("v", be)])
    valid = _valid(arr)
    rec["len"] = np.where(valid, width, -1)
    rec["v"] = values
    rows = rec.view(np.uint8).reshape(len(arr), 4 + width)
    return [_rows_or_ragged(rows, np.where(valid, 4 + width, 4))]


def _binary_text_array(arr: pa.Array) -> list[np.ndarray | pa.Array]:
    """list<string> → text[] in array_recv's format (one dimension, lower bound 1, element oid 25)."""
    if pa.types.is_large_list(arr.type):
        arr = pc.cast(arr, pa.list_(arr.type.value_type))
    valid = _valid(arr)
    counts = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False).astype(np.int32)
    flat = arr.values.slice(arr.offsets[0].as_py(), arr.offsets[-1].as_py() - arr.offsets[0].as_py())
    cells = pc.binary_join_element_wise(*(_as_binary(x) for x in _binary_text(flat)), _nothing())
    offsets = pc.subtract(arr.offsets, arr.offsets[0])
    joined = pc.binary_join(pa.ListArray.from_arrays(offsets, cells), _nothing())
    joined = pc.fill_null(joined, _nothing())
    hdr = np.empty(len(arr), dtype=[("len", ">i4"), ("ndim", ">i4"), ("flags", ">i4"), ("oid", ">i4"),
                                    ("dim", ">i4"), ("lb", ">i4")])
    body = np.where(counts > 0, 20, 12) + pc.binary_length(joined).to_numpy(zero_copy_only=False)
    hdr["len"] = np.where(valid, body, -1)
    hdr["ndim"], hdr["flags"], hdr["oid"], hdr["dim"], hdr["lb"] = (counts > 0), 0, 25, counts, 1
    rows = hdr.view(np.uint8).reshape(len(arr), 24)
    return [_rows_or_ragged(rows, np.where(~valid, 4, np.where(counts > 0, 24, 16))), joined]


def _wkb_to_ewkb(wkb: pa.Array, kind: str | None, srid: int = 28992) -> pa.Array:
    """ISO WKB -> EWKB bytes with SRID (target type forced as for the CSV path); plain points without shapely."""
    rec = _wkb_point_records(wkb, kind, srid)
    if rec is not None:
        return _fixed_binary(rec.view(np.uint8).reshape(len(rec), _EWKB_POINT.itemsize), _EWKB_POINT.itemsize)
    return _geoms_to_ewkb_hex(shapely.from_wkb(wkb.to_numpy(zero_copy_only=False), on_invalid="ignore"), kind,
                              hex=False)


def _table_to_binary(spec: TableSpec, table: pa.Table, tag: int, plan: list[str]) -> tuple[int, bytes]:
    """An Arrow chunk as binary COPY rows (no signature/trailer) in COPY column order."""
    n = _arrow_rows(spec, table)
    if n == 0:
        return 0, b""
    pieces: list[np.ndarray | pa.Array] = [np.full(n, len(plan), dtype=">i2").view(np.uint8).reshape(n, 2)]
    for col, kind in zip(_copy_columns(spec), plan):
        if col == "input_id" and col not in table.column_names:
            arr = pa.array(np.full(n, tag, dtype=np.int64))
        else:
            arr = table.column("geometry" if col == spec.geometry else col)
            arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        if col == spec.geometry:
            ewkb = _wkb_to_ewkb(arr, spec.geom_kind)
            valid = _valid(ewkb)
            lengths = np.where(valid, pc.fill_null(pc.binary_length(ewkb), 0).to_numpy(zero_copy_only=False), -1)
            offsets = np.frombuffer(ewkb.buffers()[1], dtype=np.int32, count=n + 1, offset=ewkb.offset * 4)
            if not ewkb.null_count and (np.diff(offsets) == _EWKB_POINT.itemsize).all():  # points: fixed width
                data = np.frombuffer(ewkb.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]].reshape(n, -1)
                pieces += [_length_words(lengths), data]
            else:
                pieces += [_length_words(lengths), pc.fill_null(ewkb, _nothing())]
        elif kind in _TEXT_TYPES:
            pieces += _binary_text(arr)
        elif kind == "text[]":
            pieces += _binary_text_array(arr)
        else:
            pieces += _binary_fixed(arr, kind)
    merged: list[np.ndarray | pa.Array] = []
    for piece in pieces:  # neighbouring fixed-width pieces become one (fewer arrays to interleave)
        if isinstance(piece, np.ndarray) and merged and isinstance(merged[-1], np.ndarray):
            merged[-1] = np.hstack([merged[-1], piece])
        else:
            merged.append(piece)
    rows = pc.binary_join_element_wise(*(_as_binary(x) for x in merged), _nothing())
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32, count=n + 1, offset=rows.offset * 4)
    return n, rows.buffers()[2][int(offsets[0]):int(offsets[-1])].to_pybytes()


def _copy_columns(spec: TableSpec) -> list[str]:
    return [*spec.columns, spec.geometry] if spec.geometry else list(spec.columns)


def _prepared_chunks(spec: TableSpec, chunks: Iterable[pd.DataFrame | pa.Table], tag: int,
                     binary_plan: list[str] | None = None, depth: int = 2) -> Iterator[tuple[str, int, bytes]]:
    """Read and convert chunks in a background thread while the caller COPYs the previous one.

    Yields ``(format, rows, data)``. Reading (GDAL), geometry encoding (shapely) and CSV writing
    (Arrow) release the GIL, so the two cores overlap; the bounded queue keeps at most ``depth``
    chunks in memory. A source yields either DataFrames (sent as CSV) or Arrow tables (sent in
    binary when ``binary_plan`` covers every column, else as CSV); the first chunk fixes the format.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    DONE = object()

    def produce() -> None:
        fmt = None
        try:
            for chunk in chunks:
                if stop.is_set():
                    return
                if fmt is None:
                    fmt = "binary" if isinstance(chunk, pa.Table) and binary_plan else "csv"
                if fmt == "binary":
                    if not isinstance(chunk, pa.Table):
                        raise TypeError(f"{spec.table}: a reader must yield only Arrow tables or only DataFrames")
                    q.put(("binary", *_table_to_binary(spec, chunk, tag, binary_plan)))
                    continue
                if isinstance(chunk, pa.Table):
                    q.put(("csv", *_table_to_csv(spec, chunk, tag)))
                    continue
                if "input_id" in spec.columns:
                    chunk = chunk.assign(input_id=tag)
                q.put(("csv", *_chunk_to_csv(spec, chunk)))
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
    # a row without its identifier is rejected like any malformed one (the staging table lets it in)
    checks = ((f'"{spec.id_column}" IS NULL', f"no {spec.id_column}"),) + spec.checks if spec.id_column else spec.checks
    if checks:  # internal constant SQL, never user input
        probe = sql.SQL(", ").join(sql.SQL("coalesce(bool_or(") + sql.SQL(bad) + sql.SQL("), false)") for bad, _ in checks)
        cur.execute(sql.SQL("SELECT ") + probe + sql.SQL(" FROM {t}").format(t=staging))
        hits = cur.fetchone()
        for (bad, reason), hit in zip(checks, hits):
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


ChunkSource = Callable[[], Iterable[pd.DataFrame]]


def _input_size(p: Path) -> int:
    """Bytes of a file, or of all files in a directory (as ``file_sha256`` counts them)."""
    if p.is_dir():
        return sum(q.stat().st_size for q in p.rglob("*") if q.is_file())
    return p.stat().st_size


def _may_be_loaded(engine: sa.Engine, kind: str, size: int, options: dict) -> bool:
    """False when the latest successful load of ``kind`` cannot be this file (another size or options),
    so ``already_loaded`` would say no without the file's sha256."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT size_bytes, options FROM meta.input WHERE kind = :k AND status = 'done' "
            "ORDER BY input_id DESC LIMIT 1"), {"k": kind}).first()
    return bool(row) and row.size_bytes == size and (row.options or {}) == json.loads(json.dumps(options, default=str))


class _Sha256InBackground:
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


def already_loaded(engine: sa.Engine, kind: str, sha: str, options: dict) -> bool:
    """True when the latest successful load of ``kind`` was this exact file with these options."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT sha256, options FROM meta.input WHERE kind = :k AND status = 'done' "
            "ORDER BY input_id DESC LIMIT 1"), {"k": kind}).first()
    return bool(row) and row.sha256 == sha and (row.options or {}) == json.loads(json.dumps(options, default=str))


def _stage_validate_swap(cur, targets: dict[TableSpec, ChunkSource], tag: int, stats: LoadStats, label: str,
                         path: Path | None, partition: str | None = None, post_sql=None,
                         after_copy: Callable[[], None] | None = None, policy: LoadPolicy | None = None) -> None:
    """COPY every target into its staging table, validate, run ``post_sql``, then swap all (one transaction).

    With ``policy`` (every input load) the plausibility guards run on each validated staging table
    before anything is swapped (plekzoeker/db/guards.py). ``after_copy()`` runs once every table is
    loaded and validated: the client is idle while the server builds the indexes (single-threaded GiST
    builds)."""
    cur.execute("SET LOCAL lock_timeout = '10min'")
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
            prepared = _prepared_chunks(spec, chunks(), tag, _binary_plan(cur, staging, spec))
            first = next(prepared, None)  # its format (CSV or binary) is the COPY's
            fmt = first[0] if first else "csv"
            stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT {})").format(
                staging, sql.SQL(", ").join(map(sql.Identifier, _copy_columns(spec))), sql.SQL(fmt))
            try:
                with cur.copy(stmt) as copy:
                    if fmt == "binary":
                        copy.write(_PGCOPY_SIGNATURE)
                    for _, n, data in itertools.chain([first] if first else [], prepared):
                        copy.write(data)
                        n_table += n
                        bar.advance(n)
                        checkpoint(f"copy:{spec.table}")
                    if fmt == "binary":
                        copy.write(_PGCOPY_TRAILER)
            finally:
                prepared.close()  # stops the reader thread if the COPY failed
        stats.rows_in += n_table
        t_copy = time.perf_counter()
        _validate(cur, staging, spec, tag, stats)
        _make_unique(cur, spec, tag, stats)
        if policy is not None:
            guard_rows(cur, staging, spec, tag, stats, policy, path or label)
        checkpoint(f"validate:{spec.table}")
        log.debug("%s: COPY %d rows %.2fs, validate %.2fs", spec.table, n_table, t_copy - t_start,
                  time.perf_counter() - t_copy)
        cur.execute(sql.SQL("SELECT count(*) FROM {s}").format(s=staging))
        kept = cur.fetchone()[0]
        if kept == 0 and spec.required:
            in_area = " in the area" if policy is not None and policy.area is not None else ""
            hint = "; is this the file for the area?" if in_area and n_table == 0 else ""
            raise SourceError(path or label, f"no usable {spec.table} rows{in_area} (read {n_table}){hint}; "
                                             "nothing was changed")
        if policy is not None:
            guard_shrink(cur, staging, spec, policy, path or label, partition)
        stats.per_table[spec.table] = kept
        stats.rows_out += kept
    if after_copy is not None:
        after_copy()
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
               post_sql: Callable[[object, int], None] | None = None,
               policy: LoadPolicy | None = None) -> LoadStats:
    """Load one input file into one or more core tables atomically (see module docstring).

    ``targets`` maps each table spec to a zero-argument callable returning the reader's chunks.
    ``post_sql(cursor, input_id)`` may run extra statements inside the same transaction before the swap.
    ``policy``: the plausibility guards' limits and the load's area (default: ``LoadPolicy()``, the
    defaults of config/default.yaml; the guards always run).
    """
    policy = policy or LoadPolicy()
    p = Path(path)
    if not p.exists():
        raise SourceError(p, "file not found")
    options = options or {}
    stats = LoadStats(kind=kind, path=str(p))
    sha: str | None = None
    size = _input_size(p)
    if not force and _may_be_loaded(engine, kind, size, options):
        sha, size = file_sha256(p)
        if already_loaded(engine, kind, sha, options):
            stats.skipped = True
            log.info(stats.summary())
            return stats
    # Otherwise the file cannot be the last one loaded (forced, or its size differs): its sha256 is
    # only needed for the ledger, so it is computed while the server builds the indexes.
    hasher = _Sha256InBackground(p) if sha is None else None
    t0 = time.perf_counter()

    def register() -> None:
        with engine.begin() as conn:
            # a load of this kind that was killed earlier never finished: say so in the ledger
            conn.execute(sa.text("UPDATE meta.input SET status = 'abandoned' WHERE kind = :k AND status = 'loading'"),
                         {"k": kind})
            stats.input_id = conn.execute(sa.text(
                "INSERT INTO meta.input (kind, path, sha256, size_bytes, options) "
                "VALUES (:k, :p, :s, :n, CAST(:o AS jsonb)) RETURNING input_id"),
                {"k": kind, "p": str(p.resolve()), "s": sha or "", "n": size,
                 "o": json.dumps(options, default=str)}).scalar_one()

    def work(cur) -> None:
        _stage_validate_swap(cur, targets, stats.input_id, stats, kind, p, options.get("partition"), post_sql,
                             after_copy=hasher.start if hasher else None, policy=policy)
        digest, nbytes = hasher.result() if hasher else (sha, size)
        stats.seconds = time.perf_counter() - t0
        cur.execute(
            "UPDATE meta.input SET status = 'done', rows_in = %s, rows_out = %s, rows_rejected = %s, repaired = %s, "
            "duplicates = %s, seconds = %s, sha256 = %s, size_bytes = %s WHERE input_id = %s",
            (stats.rows_in, stats.rows_out, stats.rejected, stats.repaired, stats.duplicates, stats.seconds,
             digest, nbytes, stats.input_id))

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
