"""BAG from PDOK's GeoPackage (``bag-light.gpkg``, layers ``pand`` and ``verblijfsobject``).

Column mapping, area filtering and errors: see ``bag_read``'s docstring (the BAG contract). The
units are read with Arrow end to end (:func:`gpkg_vbo_arrow`: pyarrow.compute for the cleaning,
numpy for the bookkeeping, shapely only for geometries that are not plain RD points): the loader
takes these tables as they are (binary COPY); :func:`vbo_frame` converts one to the GeoDataFrame
of the contract.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely
from pyproj import CRS

from plekzoeker.area import Area
from plekzoeker.errors import SourceError
from plekzoeker.sources._columns import as_date, as_ids, as_int, as_text, find_columns, finish_frame
from plekzoeker.sources._gdal import (
    RD_NEW,
    arrow_batches,
    batch_table,
    check_gpkg,
    is_rd,
    ogr_spatial_filter,
    rd_crs_or_error,
    source_errors,
    wkb_geoms,
)
from plekzoeker.sources.bag_common import PAND_COLUMNS, VBO_COLUMNS, SortedIds

_GPKG_PAND = {
    "identificatie": ("identificatie",), "status": ("status",), "bouwjaar": ("bouwjaar", "oorspronkelijkbouwjaar"),
    "documentdatum": ("documentdatum",), "begingeldigheid": ("begingeldigheid",),
}


_GPKG_VBO = {
    "identificatie": ("identificatie",), "pand_ids": ("pand_identificatie", "pandidentificatie", "pandref"),
    "gebruiksdoelen": ("gebruiksdoel", "gebruiksdoelen"), "oppervlakte": ("oppervlakte",), "status": ("status",),
    "openbare_ruimte": ("openbare_ruimte_naam", "openbare_ruimte", "openbareruimte", "straatnaam"),
    "huisnummer": ("huisnummer",), "huisletter": ("huisletter",),
    "toevoeging": ("toevoeging", "huisnummertoevoeging"), "postcode": ("postcode",),
    "woonplaats": ("woonplaats_naam", "woonplaats", "woonplaatsnaam"),
    "documentdatum": ("documentdatum",), "begingeldigheid": ("begingeldigheid",),
}


_PAND_REQUIRED = ("identificatie", "status", "bouwjaar")


_VBO_REQUIRED = ("identificatie", "status", "gebruiksdoelen", "oppervlakte", "pand_ids")


@dataclass
class _GpkgLayer:
    path: str
    layer: str
    columns: dict[str, str | None]
    crs: CRS
    id_is_int: bool


def _open_gpkg_layer(path: str | Path, layer: str, wanted: dict, required: Sequence[str]) -> _GpkgLayer:
    check_gpkg(path)
    with source_errors(path, "a GeoPackage"):
        layers = [str(name) for name, _ in pyogrio.list_layers(str(path))]
        match = next((name for name in layers if name.lower() == layer), None)
        if match is None:
            raise SourceError(path, f"has no '{layer}' layer (layers: {', '.join(layers) or 'none'})")
        info = pyogrio.read_info(str(path), layer=match)
    fields = [str(f) for f in info["fields"]]
    cols = find_columns(fields, wanted)
    missing = [wanted[c][0] for c in required if cols[c] is None]
    if info.get("geometry_type") is None:
        missing.append("geometry")
    if missing:
        raise SourceError(path, f"layer '{match}' lacks required column(s): {', '.join(missing)}")
    crs = rd_crs_or_error(path, info.get("crs"))
    id_dtype = dict(zip(fields, info["dtypes"]))[cols["identificatie"]]
    return _GpkgLayer(str(path), match, cols, crs, str(id_dtype).startswith("int"))


def _gpkg_where(lyr: _GpkgLayer, area: Area | None) -> str | None:
    """Attribute filter on the identifier prefix (the municipality code), exact check later."""
    if area is None or not area.municipality:
        return None
    col = '"' + lyr.columns["identificatie"].replace('"', '""') + '"'
    code = area.municipality  # validated: 4 digits
    if lyr.id_is_int:
        lo = int(code) * 10**12
        return f"{col} >= {lo} AND {col} < {lo + 10**12}"
    return f"({col} LIKE '{code}%' OR {col} LIKE '%.{code}%')"


def _gpkg_batches(lyr: _GpkgLayer, area: Area | None, chunk_size: int) -> Iterator[tuple[pa.Table, np.ndarray]]:
    """(attribute table, geometries in RD New) per batch of a GeoPackage layer."""
    cols = [c for c in lyr.columns.values() if c is not None]
    spatial = ogr_spatial_filter(area, lyr.crs)
    with source_errors(lyr.path, "a GeoPackage"):
        for meta, batch in arrow_batches(lyr.path, lyr.layer, columns=cols, chunk_size=chunk_size,
                                    where=_gpkg_where(lyr, area), **spatial):
            table = batch_table(batch)
            geom_col = meta["geometry_name"] or "wkb_geometry"
            geoms = wkb_geoms(table, geom_col)
            if not is_rd(lyr.crs):
                geoms = np.asarray(gpd.GeoSeries(geoms, crs=lyr.crs).to_crs(RD_NEW).array, dtype=object)
            yield table.drop_columns([geom_col]), geoms


def _col(table: pa.Table, name: str | None) -> pd.Series | None:
    return None if name is None else table.column(name).to_pandas()


def gpkg_pand(path: str | Path, area: Area | None, chunk_size: int) -> Iterator[gpd.GeoDataFrame]:
    lyr = _open_gpkg_layer(path, "pand", _GPKG_PAND, _PAND_REQUIRED)
    c = lyr.columns
    for table, geoms in _gpkg_batches(lyr, area, chunk_size):
        n = table.num_rows
        bouwjaar = as_int(_col(table, c["bouwjaar"]))
        frame = pd.DataFrame({
            "identificatie": as_ids(_col(table, c["identificatie"])),
            "status": as_text(_col(table, c["status"])),
            "bouwjaar": bouwjaar.mask(bouwjaar == 9999),
            "documentdatum": as_date(_col(table, c["documentdatum"]), n),
            "begingeldigheid": as_date(_col(table, c["begingeldigheid"]), n),
        })
        out = finish_frame(frame, geoms, area, PAND_COLUMNS)
        if len(out):
            yield out


def postcode_text(values: pd.Series) -> pd.Series:
    """'1234 ab' → '1234AB'."""
    return values.str.replace(" ", "", regex=False).str.upper()


def as_points(geoms: np.ndarray) -> np.ndarray:
    """Units are points; a polygon-shaped unit becomes its point on surface."""
    geoms = np.asarray(geoms, dtype=object)
    types = shapely.get_type_id(geoms)
    other = (types != 0) & (types != -1) & ~shapely.is_empty(geoms)
    if other.any():
        geoms = geoms.copy()
        geoms[other] = shapely.point_on_surface(geoms[other])
    return geoms


_WKB_POINT_LE = b"\x01\x01\x00\x00\x00"  # little-endian 2D Point header (5 bytes) + x, y doubles


def _a(column: pa.ChunkedArray | pa.Array | None) -> pa.Array | None:
    if column is None:
        return None
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _data_bytes(arr: pa.Array) -> np.ndarray:
    """The UTF-8 bytes behind a string array's values (no copy)."""
    wide = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
    if len(arr) == 0 or arr.buffers()[2] is None:
        return np.empty(0, dtype=np.uint8)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64 if wide else np.int32, count=len(arr) + 1,
                            offset=arr.offset * (8 if wide else 4))
    return np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]


def _may_need_trim(arr: pa.Array) -> bool:
    """False when no value can hold whitespace (no control, space or non-ASCII byte): trimming is a no-op."""
    data = _data_bytes(arr)
    return bool(len(data)) and bool(((data <= 32) | (data >= 128)).any())


def _has_byte(arr: pa.Array, byte: bytes) -> bool:
    return bool((_data_bytes(arr) == byte[0]).any())


def _text_a(arr: pa.Array) -> pa.Array:
    """Any column as Arrow text, trimmed; empty strings become null (as ``as_text``)."""
    if pa.types.is_floating(arr.type) or pa.types.is_decimal(arr.type):
        return pa.array(as_text(arr.to_pandas()).to_numpy(dtype=object, na_value=None), type=pa.string())
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if not pa.types.is_string(arr.type):
        arr = pc.cast(arr, pa.string())
    if _may_need_trim(arr):
        arr = pc.utf8_trim_whitespace(arr)
    if pc.any(pc.equal(pc.binary_length(arr), 0)).as_py():
        arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    return arr


def _strip_prefix_a(arr: pa.Array) -> pa.Array:
    """``NL.IMBAG.Pand.0221…`` → ``0221…`` (everything up to the last dot removed)."""
    return pc.replace_substring_regex(arr, r"^.*\.", "") if _has_byte(arr, b".") else arr


def _ids_a(arr: pa.Array) -> pa.Array:
    """As ``as_ids``: prefix stripped, 1-15 digit identifiers zero-padded to 16."""
    s = _strip_prefix_a(_text_a(arr))
    if len(s) - s.null_count and pc.min(pc.binary_length(s)).as_py() < 16:
        short = pc.match_substring_regex(s, r"^[0-9]{1,15}$")
        if pc.any(short).as_py():
            s = pc.if_else(short, pc.utf8_lpad(s, 16, "0"), s)
    return s


def _int_a(arr: pa.Array | None, n: int) -> pa.Array:
    if arr is None:
        return pa.nulls(n, pa.int64())
    if pa.types.is_integer(arr.type):
        return pc.cast(arr, pa.int64())
    if pa.types.is_null(arr.type):
        return pa.nulls(n, pa.int64())
    return pa.array(as_int(arr.to_pandas()), type=pa.int64(), from_pandas=True)


def _date_a(arr: pa.Array | None, n: int) -> pa.Array:
    """As ``as_date``, as Arrow date32."""
    if arr is None or pa.types.is_null(arr.type):
        return pa.nulls(n, pa.date32())
    if pa.types.is_date(arr.type):
        return pc.cast(arr, pa.date32())
    if pa.types.is_timestamp(arr.type):
        if arr.type.tz is not None:
            arr = pc.local_timestamp(arr)
        return pc.cast(pc.floor_temporal(arr, unit="day"), pa.date32())
    return pa.array(as_date(arr.to_pandas(), n), from_pandas=True).cast(pa.date32())


def _split_list_a(column: pa.Array | None, n: int, strip_prefix: bool = False) -> pa.ListArray:
    """Comma-separated text → list<string> of trimmed, non-empty parts (no nulls); with ``strip_prefix``
    an ``NL.IMBAG.Pand.`` style prefix is removed from every part."""
    if column is None:
        return pa.ListArray.from_arrays(pa.array(np.zeros(n + 1, dtype=np.int32)), pa.array([], pa.string()))
    arr = pc.fill_null(pc.cast(column, pa.string()), "")
    lists = pc.split_pattern(arr, ",")
    flat = pc.list_flatten(lists)
    if _may_need_trim(flat):
        flat = pc.utf8_trim_whitespace(flat)
    if strip_prefix:
        flat = _strip_prefix_a(flat)
    empty = pc.equal(pc.binary_length(flat), 0)
    if not pc.any(empty).as_py():
        return pa.ListArray.from_arrays(lists.offsets, flat)
    keep = pc.invert(empty)
    parents = pc.list_parent_indices(lists).filter(keep).to_numpy()
    offsets = np.concatenate([[0], np.cumsum(np.bincount(parents, minlength=len(arr)))]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), flat.filter(keep))


def _plain_points(wkb: pa.Array) -> bool:
    """True when every value is a little-endian 2D WKB point with finite coordinates (no work for shapely)."""
    if wkb.null_count or len(wkb) == 0:
        return False
    if not (pa.types.is_binary(wkb.type) or pa.types.is_large_binary(wkb.type)):
        return False
    offsets = np.frombuffer(wkb.buffers()[1], dtype=np.int64 if pa.types.is_large_binary(wkb.type) else np.int32,
                            count=len(wkb) + 1, offset=wkb.offset * (8 if pa.types.is_large_binary(wkb.type) else 4))
    if not (np.diff(offsets) == 21).all():
        return False
    raw = np.frombuffer(wkb.buffers()[2], dtype=np.uint8, count=21 * len(wkb), offset=int(offsets[0]))
    rec = raw.reshape(len(wkb), 21)
    if not (rec[:, :5] == np.frombuffer(_WKB_POINT_LE, dtype=np.uint8)).all():
        return False
    xy = rec[:, 5:].copy().view("<f8")
    return bool(np.isfinite(xy).all())


def _vbo_geometry(wkb: pa.Array, crs: CRS) -> tuple[pa.Array, np.ndarray | None]:
    """(2D WKB points in RD New, shapely geometries or None) for one batch; non-points become their
    point on surface, unreadable geometries null. Plain RD points pass through untouched."""
    if is_rd(crs) and _plain_points(wkb):
        return pc.cast(wkb, pa.binary()), None
    geoms = shapely.from_wkb(wkb.to_numpy(zero_copy_only=False), on_invalid="ignore")
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
    if not is_rd(crs):
        geoms = np.asarray(gpd.GeoSeries(geoms, crs=crs).to_crs(RD_NEW).array, dtype=object)
    geoms = as_points(geoms)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    out = np.full(len(geoms), None, dtype=object)
    out[ok] = shapely.to_wkb(geoms[ok])
    return pa.array(out, type=pa.binary()), geoms


def _keys_a(ids: pa.Array) -> np.ndarray:
    """As ``id_keys``: 16-digit ids → int64, -1 for anything else."""
    valid = pc.fill_null(pc.and_(pc.equal(pc.binary_length(ids), 16), pc.ascii_is_decimal(ids)), False)
    if pc.all(valid).as_py():
        return pc.cast(ids, pa.int64()).to_numpy()
    return pc.fill_null(pc.cast(pc.if_else(valid, ids, pa.scalar(None, pa.string())), pa.int64()), -1).to_numpy()


def _merge_vbo_rows_a(table: pa.Table, seen: SortedIds) -> pa.Table:
    """One row per unit: rows repeated per building are merged (pand ids of repeated rows united and
    sorted; the first row wins), units emitted in an earlier chunk dropped."""
    ids = _a(table.column("identificatie"))
    keys = _keys_a(ids)
    dup = np.zeros(len(ids), dtype=bool)
    increasing = len(keys) < 2 or (keys[0] >= 0 and bool((keys[1:] > keys[:-1]).all()))  # then no repeats
    if not increasing:
        codes = pc.fill_null(pc.dictionary_encode(ids).indices, 0).to_numpy(zero_copy_only=False)
        valid = ids.is_valid().to_numpy(zero_copy_only=False)
        if valid.any():
            dup[valid] = np.bincount(codes[valid])[codes[valid]] > 1
    if dup.any():
        keep = ~dup
        pos = np.flatnonzero(dup)
        _, first = np.unique(codes[pos], return_index=True)
        first_rows = np.sort(pos[first])
        keep[first_rows] = True
        by_code: dict[int, set] = {}
        for code, parts in zip(codes[pos], _a(table.column("pand_ids")).take(pa.array(pos)).to_pylist()):
            by_code.setdefault(int(code), set()).update(parts)
        merged = pa.array([sorted(by_code[int(codes[r])]) for r in first_rows], type=pa.list_(pa.string()))
        pand_ids = _a(table.column("pand_ids"))
        n = len(pand_ids)
        take = np.arange(n, dtype=np.int64)
        take[first_rows] = n + np.arange(len(first_rows))
        pand_ids = pa.concat_arrays([pand_ids, merged]).take(pa.array(take))
        table = table.set_column(table.schema.get_field_index("pand_ids"), "pand_ids", pand_ids)
        table = table.filter(pa.array(keep))
        keys = keys[keep]
    fresh = (keys < 0) | ~seen.contains(keys)
    seen.add(keys[fresh & (keys >= 0)])
    return table if fresh.all() else table.filter(pa.array(fresh))


def _finish_a(table: pa.Table, area: Area | None) -> pa.Table:
    """As ``finish_frame``: drop rows without geometry, apply the exact area filter."""
    keep = _a(table.column("geometry")).is_valid().to_numpy(zero_copy_only=False)
    if area is not None and not area.is_empty and table.num_rows:
        if area.municipality:
            keep &= pc.fill_null(pc.starts_with(_a(table.column("identificatie")), area.municipality),
                                 False).to_numpy(zero_copy_only=False)
        mask = area.mask()
        if mask is not None:
            shapely.prepare(mask)
            geoms = shapely.from_wkb(_a(table.column("geometry")).to_numpy(zero_copy_only=False))
            keep &= shapely.intersects(geoms, mask)
    return table if keep.all() else table.filter(pa.array(keep))


def _first_in_quarters(batches: Iterator[tuple[dict, pa.RecordBatch]]) -> Iterator[tuple[dict, pa.RecordBatch]]:
    """The first batch in four slices, the others whole: the cleaning is per batch, so the loader's COPY
    gets its first rows after a quarter of the first batch's cleaning (the server idles until then)."""
    for i, (meta, batch) in enumerate(batches):
        if i == 0 and batch.num_rows >= 4:
            step = -(-batch.num_rows // 4)
            for start in range(0, batch.num_rows, step):
                yield meta, batch.slice(start, step)
        else:
            yield meta, batch


def gpkg_vbo_arrow(path: str | Path, area: Area | None, chunk_size: int) -> Iterator[pa.Table]:
    """BAG units from a GeoPackage as Arrow tables: the ``VBO_COLUMNS``, ``geometry`` as 2D WKB
    (RD New), integers int64, dates date32, ``pand_ids`` / ``gebruiksdoelen`` list<string>."""
    lyr = _open_gpkg_layer(path, "verblijfsobject", _GPKG_VBO, _VBO_REQUIRED)
    c = lyr.columns
    cols = [v for v in c.values() if v is not None]
    spatial = ogr_spatial_filter(area, lyr.crs)
    seen = SortedIds()
    carry: pa.Table | None = None
    with source_errors(lyr.path, "a GeoPackage"):
        for meta, batch in _first_in_quarters(arrow_batches(lyr.path, lyr.layer, columns=cols, chunk_size=chunk_size,
                                                            where=_gpkg_where(lyr, area), **spatial)):
            n = batch.num_rows
            col = lambda name, batch=batch: None if c[name] is None else _a(batch.column(c[name]))  # noqa: E731
            opt = lambda name, n=n, col=col: pa.nulls(n, pa.string()) if c[name] is None else _text_a(col(name))  # noqa: E731
            postcode = opt("postcode")
            postcode = pc.utf8_upper(pc.replace_substring(postcode, " ", ""))
            geometry, _ = _vbo_geometry(_a(batch.column(meta["geometry_name"] or "wkb_geometry")), lyr.crs)
            frame = pa.table({
                "identificatie": _ids_a(col("identificatie")),
                "pand_ids": _split_list_a(col("pand_ids"), n, strip_prefix=True),
                "gebruiksdoelen": _split_list_a(col("gebruiksdoelen"), n),
                "oppervlakte": _int_a(col("oppervlakte"), n),
                "status": _text_a(col("status")),
                "openbare_ruimte": opt("openbare_ruimte"),
                "huisnummer": _int_a(col("huisnummer"), n),
                "huisletter": opt("huisletter"),
                "toevoeging": opt("toevoeging"),
                "postcode": postcode,
                "woonplaats": opt("woonplaats"),
                "documentdatum": _date_a(col("documentdatum"), n),
                "begingeldigheid": _date_a(col("begingeldigheid"), n),
                "geometry": geometry,
            })
            if carry is not None and carry.num_rows:
                frame = pa.concat_tables([carry, frame]).combine_chunks()
            if not frame.num_rows:
                continue
            # rows of the last unit may continue in the next batch (one row per building): hold them back
            ids = _a(frame.column("identificatie"))
            last = ids[-1]
            if last.is_valid:
                tail = pc.fill_null(pc.equal(ids, last), False).to_numpy(zero_copy_only=False)
            else:
                tail = np.zeros(len(ids), dtype=bool)
            if tail.all():
                carry = frame
                continue
            carry = frame.filter(pa.array(tail))
            out = _finish_a(_merge_vbo_rows_a(frame.filter(pa.array(~tail)), seen), area)
            if out.num_rows:
                yield out
        if carry is not None and carry.num_rows:
            out = _finish_a(_merge_vbo_rows_a(carry, seen), area)
            if out.num_rows:
                yield out


def vbo_frame(table: pa.Table) -> gpd.GeoDataFrame:
    """An Arrow unit table as the contract's GeoDataFrame (text str, Int64, datetime64[ms], lists)."""
    n = table.num_rows
    data = {}
    for name in VBO_COLUMNS[:-1]:
        arr = _a(table.column(name))
        if name in ("pand_ids", "gebruiksdoelen"):
            data[name] = pd.Series(arr.to_pylist(), dtype=object)
        elif pa.types.is_integer(arr.type):
            data[name] = arr.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
        elif pa.types.is_date(arr.type):
            data[name] = pd.Series(arr.cast(pa.timestamp("ms")).to_pandas(), dtype="datetime64[ms]")
        else:
            data[name] = as_text(arr)
    geoms = shapely.from_wkb(_a(table.column("geometry")).to_numpy(zero_copy_only=False))
    frame = pd.DataFrame(data, index=range(n))
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=RD_NEW), crs=RD_NEW)[VBO_COLUMNS]
