"""How a reader's chunks become the bytes of a PostgreSQL ``COPY``: CSV or binary, encoded column-wise.

DataFrame chunks are sent as CSV (geometry as EWKB hex; PostgreSQL does the parsing); Arrow-table
chunks (``geometry`` as WKB, e.g. the BAG GeoPackage units) in PostgreSQL's binary COPY format,
built column-wise with numpy/Arrow, no per-row Python work and no text parsing on the server. The
encoders are pure (chunk in, bytes out); :func:`prepared_chunks` runs them in a background thread so
reading and encoding overlap the COPY of the previous chunk. The loader (``load.py``) owns the
staging tables these bytes go into; this module never talks to the database except to read the
staging table's column types (:func:`binary_plan`).
"""
from __future__ import annotations

import io
import json
import queue
import threading
from collections.abc import Iterable, Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import shapely
from psycopg import sql

from plekzoeker.db.tables import TableSpec

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
    table = pa.Table.from_arrays(arrays, names=copy_columns(spec))
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
    out = pa.Table.from_arrays(arrays, names=copy_columns(spec))
    buf = io.BytesIO()
    pacsv.write_csv(out, buf, write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed",
                                                               batch_size=max(n, 1024)))
    return n, buf.getvalue()


# --------------------------------------------------------------------------- binary COPY of Arrow chunks
# PostgreSQL's binary COPY skips the server's text parsing (CSV scanning, hex geometry, array
# literals): the rows are built column-wise with numpy/Arrow, no per-row Python work.

PGCOPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
PGCOPY_TRAILER = b"\xff\xff"
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


def binary_plan(cur, staging: sql.Composed, spec: TableSpec) -> list[str] | None:
    """Per COPY column the binary encoding of its staging column type, or None when one is not supported."""
    cur.execute(sql.SQL("SELECT a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a "
                        "WHERE a.attrelid = {t}::regclass AND a.attnum > 0 AND NOT a.attisdropped").format(
        t=sql.Literal(staging.as_string(cur))))
    types = dict(cur.fetchall())
    plan = []
    for col in copy_columns(spec):
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
    for col, kind in zip(copy_columns(spec), plan):
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


def copy_columns(spec: TableSpec) -> list[str]:
    return [*spec.columns, spec.geometry] if spec.geometry else list(spec.columns)


PIECE_ROWS = 25_000  # Arrow chunks are encoded and sent in pieces of at most this many rows


def _pieces(table: pa.Table, rows: int) -> Iterator[pa.Table]:
    """``table`` in zero-copy slices of at most ``rows`` rows (the whole table when it is smaller)."""
    if table.num_rows <= rows:
        yield table
        return
    for start in range(0, table.num_rows, rows):
        yield table.slice(start, rows)


def _put(q: queue.Queue, item, stop: threading.Event) -> bool:
    """Put ``item`` on a bounded queue unless ``stop`` is set first; False when stopped."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _read_ahead(chunks: Iterable, stop: threading.Event, name: str) -> Iterator:
    """Iterate ``chunks`` in a thread of its own, one chunk ahead of the caller: GDAL reads the next
    chunk while the caller encodes this one (both release the GIL). Ends early when ``stop`` is set."""
    q: queue.Queue = queue.Queue(maxsize=1)
    done = object()

    def read() -> None:
        try:
            for chunk in chunks:
                if not _put(q, chunk, stop):
                    return
            _put(q, done, stop)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller and re-raised there
            _put(q, exc, stop)

    threading.Thread(target=read, name=name, daemon=True).start()
    while not stop.is_set():
        try:
            item = q.get(timeout=0.1)
        except queue.Empty:
            continue
        if item is done:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


def prepared_chunks(spec: TableSpec, chunks: Iterable[pd.DataFrame | pa.Table], tag: int,
                     binary_plan: list[str] | None = None, depth: int = 2,
                     piece_rows: int = PIECE_ROWS, read_ahead: bool = True) -> Iterator[tuple[str, int, bytes]]:
    """Read and convert chunks in a background thread while the caller COPYs the previous one.

    Yields ``(format, rows, data)``. Reading (GDAL), geometry encoding (shapely) and CSV writing
    (Arrow) release the GIL, so the two cores overlap; the bounded queue keeps at most ``depth``
    chunks in memory. A source yields either DataFrames (sent as CSV) or Arrow tables (sent in
    binary when ``binary_plan`` covers every column, else as CSV); the first chunk fixes the format.
    Arrow tables are encoded in slices of ``piece_rows`` rows, so the server starts on the first
    rows sooner and is left with less to do after the last one (the pipeline fills and drains in a
    quarter of a reader chunk), at no cost per row. With ``read_ahead`` the reader runs in a third
    thread, a chunk ahead of the encoder (:func:`_read_ahead`).
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    DONE = object()

    def produce() -> None:
        fmt = None
        try:
            for chunk in (_read_ahead(chunks, stop, f"read-{spec.table}") if read_ahead else chunks):
                if stop.is_set():
                    return
                if fmt is None:
                    fmt = "binary" if isinstance(chunk, pa.Table) and binary_plan else "csv"
                if fmt == "binary":
                    if not isinstance(chunk, pa.Table):
                        raise TypeError(f"{spec.table}: a reader must yield only Arrow tables or only DataFrames")
                    for piece in _pieces(chunk, piece_rows):
                        q.put(("binary", *_table_to_binary(spec, piece, tag, binary_plan)))
                    continue
                if isinstance(chunk, pa.Table):
                    for piece in _pieces(chunk, piece_rows):
                        q.put(("csv", *_table_to_csv(spec, piece, tag)))
                    continue
                if "input_id" in spec.columns:
                    chunk = chunk.assign(input_id=tag)
                q.put(("csv", *_chunk_to_csv(spec, chunk)))
            q.put(DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer and re-raised there
            q.put(exc)

    t = threading.Thread(target=produce, name=f"encode-{spec.table}", daemon=True)
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
