"""Streaming BAG readers: PDOK's BAG GeoPackage or an LVBAG XML extract → canonical chunks.

``read_bag_pand(path, area=None, chunk_size=100_000)`` and
``read_bag_verblijfsobject(path, area=None, chunk_size=100_000)`` are generators of
GeoDataFrames with exactly the columns of ``core.pand`` / ``core.verblijfsobject``
(docs/CONTRACTS.md), geometry column ``geometry``, CRS EPSG:28992, geometries 2D.
They never touch the database and never download anything.

Delivery forms (detected from the path's content, not its name)
----------------------------------------------------------------
GeoPackage (PDOK ``bag-light.gpkg``), layers ``pand`` and ``verblijfsobject``. Column mapping
(file column names are matched case-insensitively, ignoring ``_``; ``documentDatum`` works too):

    core.pand                  ← layer ``pand``
    identificatie              ← identificatie (text; a ``NL.IMBAG.Pand.``-style prefix is
                                 stripped, integers are zero-padded back to 16 digits)
    status                     ← status
    bouwjaar                   ← bouwjaar (9999 = unknown → NA)
    documentdatum              ← documentdatum when present, else NaT
    begingeldigheid            ← begingeldigheid when present, else NaT
    geometry                   ← geom
    (not used)                   gebruiksdoel, oppervlakte_min, oppervlakte_max,
                                 aantal_verblijfsobjecten, rdf_seealso

    core.verblijfsobject       ← layer ``verblijfsobject``
    identificatie              ← identificatie
    pand_ids                   ← pand_identificatie as a list; a unit delivered as several rows
                                 (one per building) becomes one row with all building ids; a
                                 comma-separated value is split too
    gebruiksdoelen             ← gebruiksdoel split on ``,`` ("kantoorfunctie,winkelfunctie" →
                                 ["kantoorfunctie", "winkelfunctie"]; empty → [])
    oppervlakte                ← oppervlakte
    status                     ← status
    openbare_ruimte            ← openbare_ruimte_naam
    huisnummer, huisletter     ← huisnummer, huisletter
    toevoeging                 ← toevoeging
    postcode                   ← postcode ("1234 ab" → "1234AB")
    woonplaats                 ← woonplaats_naam
    documentdatum, begingeldigheid ← as for pand (optional)
    geometry                   ← geom (a non-point geometry becomes its point on surface)
    (not used)                   bouwjaar, pandstatus, rdf_seealso

Required: pand ``identificatie, status, bouwjaar``; verblijfsobject ``identificatie, status,
gebruiksdoel, oppervlakte, pand_identificatie``; the address columns are optional (None).

LVBAG XML extract (read by GDAL's LVBAG driver, identifiers requested with ``LEGACY_ID=YES``
and any ``NL.IMBAG.<Type>.`` prefix stripped): a single ``0221PND15092020-000001.xml`` file
(when the file holds another object type, its siblings of the wanted type in the same folder
are used), a folder of such files (or of per-type zips), a per-type zip, or the national zip of
zips (``BAGNLDL-15092020.zip`` ⊃ ``9999PND15092020.zip`` ⊃ XMLs, read through a
``/vsizip//vsizip/`` chain; an inner zip GDAL cannot open that way is extracted to a temporary
folder that is removed afterwards). ``InOnderzoek``, ``Inactief`` and ``NietBag`` parts are not
read. Mapping: ``oorspronkelijkBouwjaar`` → bouwjaar (9999 → NA), ``documentDatum``,
``beginGeldigheid``, ``pandRef`` → pand_ids, ``gebruiksdoel`` → gebruiksdoelen. Address fields
are joined from the NUM (``hoofdadresNummeraanduidingRef`` → huisnummer, huisletter,
``huisnummerToevoeging`` → toevoeging, postcode), OPR (street name) and WPL (place name; the
NUM's own ``woonplaatsRef`` wins over the street's) files of the same extract when present,
else they are None. Extracts carry every historic version (voorkomen) of an object: only the
current one is kept (``eindGeldigheid`` empty; for an object without such a version the
latest ``voorkomenIdentificatie`` / ``beginGeldigheid``), tracked across chunks with a sorted
int64 array of the identifiers already emitted (so versions need not be adjacent).

Area filtering while reading: GeoPackage → ``bbox=``/``mask=`` (in the layer's CRS; the
R-tree does the work) plus a ``where`` on the identifier prefix for a municipality; LVBAG →
the municipality as a ``where`` on the identifier (all versions share it; the NUM address
records are limited the same way), the spatial filter on each chunk *after* picking the current
version (filtering first would drop the current version of an object that moved out of the area
and then emit an old version that lies inside it as if it were current). Every chunk is finally filtered
exactly: geometry intersects ``area.mask()`` and the identifier starts with the municipality
code (the contract's approximation: BAG ids keep the code of the municipality that created
them, also after municipal mergers).

Errors (missing, empty, truncated or corrupt file, wrong kind of file, missing layer or
columns, no CRS) raise ``SourceError(path, problem)``. GDAL's Arrow stream ends *silently* at a
read error, so truncation is checked up front, in O(1): a GeoPackage's size against the page
count in its SQLite header, an XML file's tail against its root element's closing tag, a zip's
central directory against the file start.

Dates are ``datetime64[ms]`` at midnight (NaT when unknown); integers are nullable ``Int64``;
text is pandas' string dtype (missing = NaN); ``pand_ids`` / ``gebruiksdoelen`` are Python lists.

The GeoPackage units are read with Arrow end to end (``_gpkg_vbo_arrow``: pyarrow.compute for the
cleaning, numpy for the bookkeeping, shapely only for geometries that are not plain RD points).
``read_bag_verblijfsobject_arrow`` hands those tables straight to the loader (binary COPY);
``read_bag_verblijfsobject`` converts the same tables to the GeoDataFrames above.
"""
from __future__ import annotations

import contextlib
import logging
import re
import shutil
import tempfile
import zipfile
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
from pyogrio.raw import open_arrow
from pyproj import CRS

from plekzoeker.area import Area
from plekzoeker.errors import SourceError
from plekzoeker.paths import gdal_safe

log = logging.getLogger(__name__)

RD_NEW = "EPSG:28992"
PAND_COLUMNS = ["identificatie", "status", "bouwjaar", "documentdatum", "begingeldigheid", "geometry"]
VBO_COLUMNS = ["identificatie", "pand_ids", "gebruiksdoelen", "oppervlakte", "status", "openbare_ruimte",
               "huisnummer", "huisletter", "toevoeging", "postcode", "woonplaats", "documentdatum",
               "begingeldigheid", "geometry"]

# Errors GDAL / Arrow / GEOS raise on broken input; turned into SourceError.
_READ_ERRORS: tuple[type[BaseException], ...] = (
    pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError, pyogrio.errors.CRSError, pyogrio.errors.FeatureError,
    pa.ArrowException, shapely.errors.GEOSException, OSError,
    zipfile.BadZipFile, EOFError,
)

_LVBAG_LAYERS = {"PND": "Pand", "VBO": "Verblijfsobject", "NUM": "Nummeraanduiding",
                 "OPR": "Openbareruimte", "WPL": "Woonplaats", "LIG": "Ligplaats", "STA": "Standplaats"}
_LVBAG_CODES = {v.lower(): k for k, v in _LVBAG_LAYERS.items()}


# --------------------------------------------------------------------------- shared helpers
# (also used by brk_read and bgt_read)

def _short(exc: BaseException) -> str:
    """The first line of an exception message, trimmed for a one-line error."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _sniff(path: str | Path, what: str) -> str:
    """Classify a source path: ``dir``, ``gpkg``, ``zip`` or ``xml``; SourceError otherwise."""
    p = Path(path)
    if not p.exists():
        raise SourceError(path, "file not found")
    if p.is_dir():
        return "dir"
    if not p.is_file():
        raise SourceError(path, "not a regular file")
    try:
        size = p.stat().st_size
        with p.open("rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        raise SourceError(path, f"cannot be read ({_short(exc)})") from exc
    if size == 0:
        raise SourceError(path, "file is empty (0 bytes)")
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        return "xml"
    first = head.splitlines()[0][:60].decode("utf-8", "replace") if head else ""
    hint = " (it looks like a CSV or text file)" if ("," in first or ";" in first) and first.isprintable() else ""
    raise SourceError(path, f"is not {what}{hint}")


def _gpkg_truncated(path: str | Path) -> bool:
    """O(1) check of a SQLite/GeoPackage file against the page count its header declares.

    GDAL's Arrow stream ends silently at a read error, so a cut-off download must be caught here."""
    p = Path(path)
    with p.open("rb") as fh:
        hdr = fh.read(100)
    if len(hdr) < 100:
        return True
    page_size = int.from_bytes(hdr[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(hdr[28:32], "big")
    size = p.stat().st_size
    if page_size < 512 or size % page_size:
        return True
    return hdr[24:28] == hdr[92:96] and pages > 0 and size < pages * page_size


def _check_gpkg(path: str | Path) -> None:
    if _gpkg_truncated(path):
        raise SourceError(path, "is a truncated or corrupt GeoPackage (shorter than its header declares)")


def _xml_root(head: bytes) -> bytes | None:
    """Qualified name of the root element in the first bytes of an XML document."""
    m = re.search(rb"<(?![?!])([^\s/>]+)", re.sub(rb"<!--.*?-->", b"", head, flags=re.S))
    return m.group(1) if m else None


def _check_xml_complete(path: str | Path) -> None:
    """An XML file on disk must end with its root's closing tag (GDAL's Arrow stream would stop
    silently at a parse error, so a truncated file is caught here, in O(1))."""
    p = Path(path)
    with p.open("rb") as fh:
        head = fh.read(1 << 16)
        fh.seek(max(0, p.stat().st_size - 4096))
        tail = fh.read()
    root = _xml_root(head)
    if root is None:
        raise SourceError(path, "is not an XML document")
    if re.search(rb"/>\s*$", tail) and head.count(b"<") <= 3:
        return  # <root/>: an empty document
    if not re.search(rb"</" + re.escape(root) + rb"\s*>\s*(<!--.*?-->\s*)*$", tail, flags=re.S):
        raise SourceError(path, f"is truncated: the XML does not end with </{root.decode('utf-8', 'replace')}>")


def _zip_entries(path: str | Path) -> list[str]:
    """File names in a zip archive, refusing truncated or corrupt archives."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise SourceError(path, f"is not a readable zip archive, truncated or corrupt ({_short(exc)})") from exc
    if not infos:
        raise SourceError(path, "is an empty zip archive")
    # a cut-off archive can expose the directory of an inner, stored zip: its entries then do
    # not start at offset 0 of the file
    if min(i.header_offset for i in infos) != 0:
        raise SourceError(path, "is a truncated or corrupt zip archive (its directory does not match its start)")
    return [i.filename for i in infos]


def _rd_crs_or_error(path: str | Path, crs: str | None) -> CRS:
    """The layer CRS as a pyproj CRS; SourceError when none is declared."""
    if not crs:
        raise SourceError(path, "declares no coordinate reference system (CRS); expected EPSG:28992 (RD New)")
    try:
        return CRS.from_user_input(crs)
    except Exception as exc:  # noqa: BLE001 - pyproj raises its own CRSError
        raise SourceError(path, f"declares a CRS that cannot be interpreted ({_short(exc)})") from exc


def _is_rd(crs: CRS) -> bool:
    return crs.to_epsg() == 28992


def _ogr_spatial_filter(area: Area | None, layer_crs: CRS | None) -> dict:
    """``bbox=`` or ``mask=`` keyword for pyogrio, in the layer's CRS (a superset; refined later)."""
    if area is None or (area.bbox is None and area.polygon is None):
        return {}
    if layer_crs is None or _is_rd(layer_crs):
        if area.polygon is None:
            return {"bbox": area.bbox}
        return {"mask": area.mask()}
    mask = shapely.segmentize(area.mask(), 50.0)
    mask = gpd.GeoSeries([mask], crs=RD_NEW).to_crs(layer_crs).iloc[0]
    return {"mask": mask.buffer(0) if not mask.is_valid else mask}


def _area_keep(gdf: gpd.GeoDataFrame, area: Area | None, by_id: bool) -> np.ndarray:
    """Boolean mask: rows inside ``area`` (geometry intersects the mask; id prefix = municipality)."""
    keep = np.ones(len(gdf), dtype=bool)
    if area is None or area.is_empty or len(gdf) == 0:
        return keep
    if by_id and area.municipality:
        keep &= gdf["identificatie"].str.startswith(area.municipality).fillna(False).to_numpy(dtype=bool)
    mask = area.mask()
    if mask is not None:
        shapely.prepare(mask)
        keep &= shapely.intersects(np.asarray(gdf.geometry.array, dtype=object), mask)
    return keep


def _norm_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _find_columns(fields: Sequence[str], wanted: dict[str, Sequence[str]]) -> dict[str, str | None]:
    """Map canonical names to the file's column names via normalised aliases (first alias wins)."""
    by_norm: dict[str, str] = {}
    for f in fields:
        by_norm.setdefault(_norm_key(f), f)
    return {canon: next((by_norm[_norm_key(a)] for a in aliases if _norm_key(a) in by_norm), None)
            for canon, aliases in wanted.items()}


def _text(values: pd.Series | pa.Array | pa.ChunkedArray) -> pd.Series:
    """Any column as pandas text (missing stays missing; empty strings become missing)."""
    s = values if isinstance(values, pd.Series) else values.to_pandas()
    if pd.api.types.is_float_dtype(s.dtype):
        s = s.astype("Int64")  # 123.0 -> "123"
    s = s.astype("str").str.strip()
    return s.mask(s == "")


def _ids(values: pd.Series, pad: bool = True) -> pd.Series:
    """BAG identifiers as text: prefix (``NL.IMBAG.Pand.``) stripped; with ``pad`` shorter digit
    strings (integers that lost their leading zeros) are zero-padded to 16 digits."""
    s = _text(values).str.replace(r"^.*\.", "", regex=True)
    if pad:
        short = s.str.fullmatch(r"\d{1,15}").fillna(False).astype(bool)
        if short.any():
            s = s.where(~short, s.str.zfill(16))
    return s


def _int(values: pd.Series | pa.ChunkedArray | pa.Array) -> pd.Series:
    s = values if isinstance(values, pd.Series) else values.to_pandas()
    return pd.to_numeric(s, errors="coerce").round().astype("Int64")


def _date(values: pd.Series | pa.ChunkedArray | pa.Array | None, n: int) -> pd.Series:
    """A date column as datetime64[ms] at midnight (NaT when absent or unparsable).

    Text is cut to its ``YYYY-MM-DD`` part, so ``2000-11-20T14:29:09+01:00`` is the local date."""
    if values is None:
        return pd.Series(pd.NaT, index=range(n), dtype="datetime64[ms]")
    s = values if isinstance(values, pd.Series) else values.to_pandas()
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        out = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
    else:
        out = pd.to_datetime(s.astype("str").str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    return out.dt.normalize().astype("datetime64[ms]").reset_index(drop=True)


def _geoms(table: pa.Table, geom_col: str) -> np.ndarray:
    """WKB column → 2D shapely geometries."""
    geoms = shapely.from_wkb(table.column(geom_col).to_numpy(zero_copy_only=False), on_invalid="ignore")
    return shapely.force_2d(geoms) if shapely.has_z(geoms).any() else geoms


def _table(batch: pa.RecordBatch) -> pa.Table:
    return pa.Table.from_batches([batch])


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow → pandas keeping integers nullable and dates as datetime64."""
    mapping = {pa.int8(): pd.Int64Dtype(), pa.int16(): pd.Int64Dtype(), pa.int32(): pd.Int64Dtype(),
               pa.int64(): pd.Int64Dtype()}
    return table.to_pandas(types_mapper=mapping.get, date_as_object=False)


def _batches(path: str, layer: str | int | None, *, columns: Sequence[str] | None, chunk_size: int,
             where: str | None = None, read_geometry: bool = True, **kwargs) -> Iterator[tuple[dict, pa.RecordBatch]]:
    """(meta, batch) for each Arrow batch of one layer; ``kwargs`` are spatial filters / open options."""
    with open_arrow(path, layer=layer, columns=list(columns) if columns is not None else None, where=where,
                    batch_size=chunk_size, read_geometry=read_geometry, use_pyarrow=True, **kwargs) as (meta, reader):
        for batch in reader:
            yield meta, batch


def _check_chunk_size(chunk_size: int) -> int:
    chunk_size = int(chunk_size)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    return chunk_size


@contextlib.contextmanager
def _source_errors(path: str | Path, what: str) -> Iterator[None]:
    """Turn GDAL/Arrow/zip errors raised while reading into one SourceError line."""
    try:
        yield
    except SourceError:
        raise
    except _READ_ERRORS as exc:
        raise SourceError(path, f"cannot be read as {what} ({_short(exc)})") from exc


# --------------------------------------------------------------------------- public readers

@gdal_safe
def read_bag_pand(path: str | Path, area: Area | None = None,
                  chunk_size: int = 100_000) -> Iterator[gpd.GeoDataFrame]:
    """Yield BAG buildings (core.pand columns, EPSG:28992) from a BAG GeoPackage or LVBAG extract."""
    chunk_size = _check_chunk_size(chunk_size)
    kind = _sniff(path, "a BAG GeoPackage, LVBAG XML file, LVBAG folder or LVBAG zip")
    if kind == "gpkg":
        yield from _gpkg_pand(path, area, chunk_size)
    else:
        yield from _lvbag_pand(path, kind, area, chunk_size)


@gdal_safe
def read_bag_verblijfsobject(path: str | Path, area: Area | None = None,
                             chunk_size: int = 100_000) -> Iterator[gpd.GeoDataFrame]:
    """Yield BAG units (core.verblijfsobject columns, EPSG:28992) from a BAG GeoPackage or LVBAG extract."""
    chunk_size = _check_chunk_size(chunk_size)
    kind = _sniff(path, "a BAG GeoPackage, LVBAG XML file, LVBAG folder or LVBAG zip")
    if kind == "gpkg":
        for table in _gpkg_vbo_arrow(path, area, chunk_size):
            yield _vbo_frame(table)
    else:
        yield from _lvbag_vbo(path, kind, area, chunk_size)


@gdal_safe
def read_bag_verblijfsobject_arrow(path: str | Path, area: Area | None = None,
                                   chunk_size: int = 100_000) -> Iterator[pa.Table | gpd.GeoDataFrame]:
    """The loader's form of ``read_bag_verblijfsobject``: the same rows, from a GeoPackage as Arrow
    tables (``geometry`` as 2D WKB in RD New, lists as list<string>, dates date32; see
    ``_gpkg_vbo_arrow``) that go to COPY without pandas; an LVBAG extract still yields GeoDataFrames."""
    chunk_size = _check_chunk_size(chunk_size)
    kind = _sniff(path, "a BAG GeoPackage, LVBAG XML file, LVBAG folder or LVBAG zip")
    if kind == "gpkg":
        yield from _gpkg_vbo_arrow(path, area, chunk_size)
    else:
        yield from _lvbag_vbo(path, kind, area, chunk_size)


# --------------------------------------------------------------------------- GeoPackage

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
    _check_gpkg(path)
    with _source_errors(path, "a GeoPackage"):
        layers = [str(name) for name, _ in pyogrio.list_layers(str(path))]
        match = next((name for name in layers if name.lower() == layer), None)
        if match is None:
            raise SourceError(path, f"has no '{layer}' layer (layers: {', '.join(layers) or 'none'})")
        info = pyogrio.read_info(str(path), layer=match)
    fields = [str(f) for f in info["fields"]]
    cols = _find_columns(fields, wanted)
    missing = [wanted[c][0] for c in required if cols[c] is None]
    if info.get("geometry_type") is None:
        missing.append("geometry")
    if missing:
        raise SourceError(path, f"layer '{match}' lacks required column(s): {', '.join(missing)}")
    crs = _rd_crs_or_error(path, info.get("crs"))
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
    spatial = _ogr_spatial_filter(area, lyr.crs)
    with _source_errors(lyr.path, "a GeoPackage"):
        for meta, batch in _batches(lyr.path, lyr.layer, columns=cols, chunk_size=chunk_size,
                                    where=_gpkg_where(lyr, area), **spatial):
            table = _table(batch)
            geom_col = meta["geometry_name"] or "wkb_geometry"
            geoms = _geoms(table, geom_col)
            if not _is_rd(lyr.crs):
                geoms = np.asarray(gpd.GeoSeries(geoms, crs=lyr.crs).to_crs(RD_NEW).array, dtype=object)
            yield table.drop_columns([geom_col]), geoms


def _col(table: pa.Table, name: str | None) -> pd.Series | None:
    return None if name is None else table.column(name).to_pandas()


def _gpkg_pand(path: str | Path, area: Area | None, chunk_size: int) -> Iterator[gpd.GeoDataFrame]:
    lyr = _open_gpkg_layer(path, "pand", _GPKG_PAND, _PAND_REQUIRED)
    c = lyr.columns
    for table, geoms in _gpkg_batches(lyr, area, chunk_size):
        n = table.num_rows
        bouwjaar = _int(_col(table, c["bouwjaar"]))
        frame = pd.DataFrame({
            "identificatie": _ids(_col(table, c["identificatie"])),
            "status": _text(_col(table, c["status"])),
            "bouwjaar": bouwjaar.mask(bouwjaar == 9999),
            "documentdatum": _date(_col(table, c["documentdatum"]), n),
            "begingeldigheid": _date(_col(table, c["begingeldigheid"]), n),
        })
        out = _finish(frame, geoms, area, PAND_COLUMNS)
        if len(out):
            yield out


def _postcode(values: pd.Series) -> pd.Series:
    """'1234 ab' → '1234AB'."""
    return values.str.replace(" ", "", regex=False).str.upper()


def _as_points(geoms: np.ndarray) -> np.ndarray:
    """Units are points; a polygon-shaped unit becomes its point on surface."""
    geoms = np.asarray(geoms, dtype=object)
    types = shapely.get_type_id(geoms)
    other = (types != 0) & (types != -1) & ~shapely.is_empty(geoms)
    if other.any():
        geoms = geoms.copy()
        geoms[other] = shapely.point_on_surface(geoms[other])
    return geoms


def _finish(frame: pd.DataFrame, geoms: np.ndarray, area: Area | None, columns: list[str],
            by_id: bool = True) -> gpd.GeoDataFrame:
    """Attach geometry, drop rows without geometry, apply the exact area filter, order columns."""
    frame = frame.reset_index(drop=True)
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(np.asarray(geoms, dtype=object), crs=RD_NEW),
                           crs=RD_NEW)
    ok = ~(gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy(dtype=bool)
    keep = ok & _area_keep(gdf, area, by_id)
    gdf = gdf[keep].reset_index(drop=True)
    return gdf[columns]


# --------------------------------------------------------------------------- GeoPackage units, Arrow end to end
# The loader takes these Arrow tables as they are (no pandas, no Python lists, no shapely for plain
# points): ``read_bag_verblijfsobject`` converts the same tables to the GeoDataFrames of the contract.

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
    """Any column as Arrow text, trimmed; empty strings become null (as ``_text``)."""
    if pa.types.is_floating(arr.type) or pa.types.is_decimal(arr.type):
        return pa.array(_text(arr.to_pandas()).to_numpy(dtype=object, na_value=None), type=pa.string())
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
    """As ``_ids``: prefix stripped, 1-15 digit identifiers zero-padded to 16."""
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
    return pa.array(_int(arr.to_pandas()), type=pa.int64(), from_pandas=True)


def _date_a(arr: pa.Array | None, n: int) -> pa.Array:
    """As ``_date``, as Arrow date32."""
    if arr is None or pa.types.is_null(arr.type):
        return pa.nulls(n, pa.date32())
    if pa.types.is_date(arr.type):
        return pc.cast(arr, pa.date32())
    if pa.types.is_timestamp(arr.type):
        if arr.type.tz is not None:
            arr = pc.local_timestamp(arr)
        return pc.cast(pc.floor_temporal(arr, unit="day"), pa.date32())
    return pa.array(_date(arr.to_pandas(), n), from_pandas=True).cast(pa.date32())


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
    if _is_rd(crs) and _plain_points(wkb):
        return pc.cast(wkb, pa.binary()), None
    geoms = shapely.from_wkb(wkb.to_numpy(zero_copy_only=False), on_invalid="ignore")
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
    if not _is_rd(crs):
        geoms = np.asarray(gpd.GeoSeries(geoms, crs=crs).to_crs(RD_NEW).array, dtype=object)
    geoms = _as_points(geoms)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    out = np.full(len(geoms), None, dtype=object)
    out[ok] = shapely.to_wkb(geoms[ok])
    return pa.array(out, type=pa.binary()), geoms


def _keys_a(ids: pa.Array) -> np.ndarray:
    """As ``_keys``: 16-digit ids → int64, -1 for anything else."""
    valid = pc.fill_null(pc.and_(pc.equal(pc.binary_length(ids), 16), pc.ascii_is_decimal(ids)), False)
    if pc.all(valid).as_py():
        return pc.cast(ids, pa.int64()).to_numpy()
    return pc.fill_null(pc.cast(pc.if_else(valid, ids, pa.scalar(None, pa.string())), pa.int64()), -1).to_numpy()


def _merge_vbo_rows_a(table: pa.Table, seen: _SortedIds) -> pa.Table:
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
    """As ``_finish``: drop rows without geometry, apply the exact area filter."""
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


def _gpkg_vbo_arrow(path: str | Path, area: Area | None, chunk_size: int) -> Iterator[pa.Table]:
    """BAG units from a GeoPackage as Arrow tables: the ``VBO_COLUMNS``, ``geometry`` as 2D WKB
    (RD New), integers int64, dates date32, ``pand_ids`` / ``gebruiksdoelen`` list<string>."""
    lyr = _open_gpkg_layer(path, "verblijfsobject", _GPKG_VBO, _VBO_REQUIRED)
    c = lyr.columns
    cols = [v for v in c.values() if v is not None]
    spatial = _ogr_spatial_filter(area, lyr.crs)
    seen = _SortedIds()
    carry: pa.Table | None = None
    with _source_errors(lyr.path, "a GeoPackage"):
        for meta, batch in _batches(lyr.path, lyr.layer, columns=cols, chunk_size=chunk_size,
                                    where=_gpkg_where(lyr, area), **spatial):
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


def _vbo_frame(table: pa.Table) -> gpd.GeoDataFrame:
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
            data[name] = _text(arr)
    geoms = shapely.from_wkb(_a(table.column("geometry")).to_numpy(zero_copy_only=False))
    frame = pd.DataFrame(data, index=range(n))
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=RD_NEW), crs=RD_NEW)[VBO_COLUMNS]

# --------------------------------------------------------------------------- version bookkeeping

def _keys(ids: pd.Series) -> np.ndarray:
    """16-digit ids → int64 keys (exact, via Arrow); -1 for anything else."""
    s = ids.astype("str")
    valid = s.str.fullmatch(r"\d{16}").fillna(False).to_numpy(dtype=bool)
    out = np.full(len(s), -1, dtype=np.int64)
    if valid.any():
        out[valid] = pc.cast(pa.array(s[valid].to_numpy(dtype=object), type=pa.string()), pa.int64()).to_numpy()
    return out


class _SortedIds:
    """A growing set of int64 identifiers kept as one sorted array (8 bytes per id)."""

    def __init__(self) -> None:
        self._a = np.empty(0, dtype=np.int64)

    def contains(self, keys: np.ndarray) -> np.ndarray:
        if len(self._a) == 0 or len(keys) == 0 or keys.min() > self._a[-1]:
            return np.zeros(len(keys), dtype=bool)
        pos = np.searchsorted(self._a, keys)
        pos[pos == len(self._a)] = len(self._a) - 1
        return self._a[pos] == keys

    def add(self, keys: np.ndarray) -> None:
        if len(keys) and (len(self._a) == 0 or keys[0] > self._a[-1]) and (keys[1:] > keys[:-1]).all():
            self._a = np.concatenate([self._a, keys])  # ids arriving in order (the usual case): append
        elif len(keys):
            # both runs sorted: the stable sort (timsort) merges them in linear time
            self._a = np.sort(np.concatenate([self._a, np.unique(keys)]), kind="stable")


class _CurrentVersions:
    """Keep only the current voorkomen of every object in a stream of LVBAG chunks.

    Current = ``eindGeldigheid`` empty (the latest voorkomen if an object has several);
    objects without such a version are held back (their latest voorkomen) and released at the
    end unless a current version turns up later.
    """

    def __init__(self) -> None:
        self.seen = _SortedIds()
        self.pending: pd.DataFrame | None = None

    @staticmethod
    def _best(frame: pd.DataFrame) -> pd.DataFrame:
        order = frame.sort_values(["_key", "_current", "_voorkomen", "_begin"], kind="stable",
                                  na_position="first")
        valid = order["_key"] >= 0
        return pd.concat([order[valid].drop_duplicates("_key", keep="last"), order[~valid]])

    def feed(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return this chunk's current rows not emitted before; remember historic-only objects."""
        frame = self._best(frame)
        current = frame[frame["_current"]]
        current = current[(current["_key"] < 0) | ~self.seen.contains(current["_key"].to_numpy())]
        self.seen.add(current.loc[current["_key"] >= 0, "_key"].to_numpy())
        hist = frame[~frame["_current"] & (frame["_key"] >= 0)]
        if self.pending is not None and len(self.pending):
            hist = pd.concat([self.pending, hist])
        if len(hist):
            hist = hist[~self.seen.contains(hist["_key"].to_numpy())]
            hist = self._best(hist) if len(hist) else hist
        self.pending = hist
        return current

    def flush(self) -> pd.DataFrame | None:
        """Objects that never had a current version: their latest voorkomen."""
        rest, self.pending = self.pending, None
        if rest is None or not len(rest):
            return None
        return rest[~self.seen.contains(rest["_key"].to_numpy())]


# --------------------------------------------------------------------------- LVBAG

@dataclass(frozen=True)
class _Dataset:
    path: str            # what GDAL opens (file, folder or /vsizip/ chain)
    layer: str | None    # LVBAG layer name, None for the first layer of a single file


def _xml_re(code: str) -> re.Pattern:
    return re.compile(rf"^\d{{4}}{code}\d{{8}}(-\d+)?\.xml$", re.IGNORECASE)


def _zip_re(code: str) -> re.Pattern:
    return re.compile(rf"^\d{{4}}{code}\d{{8}}\.zip$", re.IGNORECASE)


class _LvbagSource:
    """Resolves an LVBAG path into GDAL datasets per object type; owns temporary extractions."""

    def __init__(self, path: str | Path, kind: str) -> None:
        self.path = Path(path)
        self.kind = kind
        self._tmp: str | None = None
        self._single_layer: str | None = None
        self._resolved: dict[str, list[_Dataset]] = {}
        if kind == "xml":
            _check_xml_complete(path)
            with _source_errors(path, "an LVBAG XML extract file"):
                layers = pyogrio.list_layers(str(path))
            names = [str(n) for n, _ in layers]
            if len(names) != 1 or names[0].lower() not in _LVBAG_CODES:
                raise SourceError(path, "is an XML file but not an LVBAG extract file (GDAL's LVBAG driver "
                                        "does not recognise it)")
            self._single_layer = names[0]
        elif kind == "zip":
            self._entries = _zip_entries(path)

    def close(self) -> None:
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def datasets(self, code: str) -> list[_Dataset]:
        """GDAL datasets holding objects of type ``code`` (PND, VBO, NUM, OPR, WPL); resolved once."""
        if code not in self._resolved:
            self._resolved[code] = self._datasets(code)
        return self._resolved[code]

    def _datasets(self, code: str) -> list[_Dataset]:
        layer = _LVBAG_LAYERS[code]
        if self.kind == "xml":
            if self._single_layer.lower() == layer.lower():
                return [_Dataset(str(self.path), None)]
            return self._dir_datasets(self.path.parent, code)
        if self.kind == "dir":
            return self._dir_datasets(self.path, code)
        return self._zip_datasets(code)

    def _dir_datasets(self, folder: Path, code: str) -> list[_Dataset]:
        files = sorted(p for p in folder.iterdir() if p.is_file() and _xml_re(code).match(p.name))
        if files:
            for p in files:
                if p != self.path:
                    if p.stat().st_size == 0:
                        raise SourceError(p, "file is empty (0 bytes)")
                    _check_xml_complete(p)
            return [_Dataset(str(p), None) for p in files]
        zips = sorted(p for p in folder.iterdir() if p.is_file() and _zip_re(code).match(p.name))
        return [_Dataset(f"/vsizip/{p.resolve().as_posix()}", _LVBAG_LAYERS[code]) for p in zips]

    def _zip_datasets(self, code: str) -> list[_Dataset]:
        outer = self.path.resolve().as_posix()
        entries = [e for e in self._entries if not e.startswith("__MACOSX/")]
        xmls = [e for e in entries if _xml_re(code).match(Path(e).name)]
        if xmls:
            return [_Dataset(f"/vsizip/{outer}/{e}", None) for e in sorted(xmls)]
        inner = sorted(e for e in entries if _zip_re(code).match(Path(e).name))
        out = []
        for entry in inner:
            chain = f"/vsizip//vsizip/{outer}/{entry}"
            try:
                pyogrio.list_layers(chain)
            except _READ_ERRORS:
                chain = self._extract(entry)
            out.append(_Dataset(chain, _LVBAG_LAYERS[code]))
        return out

    def _extract(self, entry: str) -> str:
        """Fallback: copy an inner zip to a private temporary folder and read it from there."""
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="plekzoeker-lvbag-")
        target = Path(self._tmp) / Path(entry).name
        with _source_errors(self.path, "an LVBAG zip"), zipfile.ZipFile(self.path) as zf, \
                zf.open(entry) as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        return f"/vsizip/{target.as_posix()}"


@contextlib.contextmanager
def _lvbag(path: str | Path, kind: str) -> Iterator[_LvbagSource]:
    src = _LvbagSource(path, kind)
    try:
        yield src
    finally:
        src.close()


_VERSION_COLS = ("identificatie", "voorkomenIdentificatie", "beginGeldigheid", "eindGeldigheid")


def _lvbag_current(src: _LvbagSource, code: str, columns: Sequence[str], chunk_size: int,
                   municipality: str | None = None, required: bool = True,
                   read_geometry: bool = True) -> Iterator[pd.DataFrame]:
    """Current versions of one LVBAG object type, chunk by chunk (raw LVBAG column names,
    ``identificatie`` normalised, geometry in column ``geometry`` when read)."""
    datasets = src.datasets(code)
    if not datasets:
        if required:
            raise SourceError(src.path, f"contains no LVBAG {_LVBAG_LAYERS[code]} ({code}) files "
                                        f"(expected names like 0221{code}15092020-000001.xml)")
        return
    wanted = list(dict.fromkeys([*columns, *_VERSION_COLS]))
    where = f"identificatie LIKE '{municipality}%'" if municipality else None
    versions = _CurrentVersions()
    for ds in datasets:
        with _source_errors(src.path, "an LVBAG extract"):
            try:
                info = pyogrio.read_info(ds.path, layer=ds.layer, LEGACY_ID="YES")
            except pyogrio.errors.DataLayerError:
                continue  # this part holds no such objects
            layer_name = str(info.get("layer_name") or ds.layer or "")
            if ds.layer is None and layer_name.lower() != _LVBAG_LAYERS[code].lower():
                continue
            missing = [c for c in wanted if c not in list(info["fields"])]
            if missing:
                raise SourceError(src.path, f"LVBAG {layer_name} data lacks required field(s): {', '.join(missing)}")
            if read_geometry and code in ("PND", "VBO"):
                crs = _rd_crs_or_error(src.path, info.get("crs"))
                if not _is_rd(crs):
                    raise SourceError(src.path, f"LVBAG data in unexpected CRS {crs.to_string()}")
            for meta, batch in _batches(ds.path, ds.layer, columns=wanted, chunk_size=chunk_size, where=where,
                                        read_geometry=read_geometry, LEGACY_ID="YES"):
                table = _table(batch)
                geom_col = meta["geometry_name"] or "wkb_geometry"
                geoms = _geoms(table, geom_col) if read_geometry and geom_col in table.column_names else None
                if geoms is not None:
                    table = table.drop_columns([geom_col])
                lists = {name: _strip_list(table.column(name)) for name in table.column_names
                         if pa.types.is_list(table.schema.field(name).type)}
                frame = _to_pandas(table.drop_columns(list(lists)))
                for name, values in lists.items():
                    frame[name] = pd.Series(values, dtype=object)
                frame["identificatie"] = _ids(frame["identificatie"], pad=False)
                if geoms is not None:
                    frame["geometry"] = pd.Series(geoms, dtype=object)
                frame["_key"] = _keys(frame["identificatie"])
                frame["_current"] = frame["eindGeldigheid"].isna().to_numpy(dtype=bool)
                frame["_voorkomen"] = frame["voorkomenIdentificatie"].fillna(-1).astype("int64")
                frame["_begin"] = pd.to_datetime(frame["beginGeldigheid"], errors="coerce")
                out = versions.feed(frame)
                if len(out):
                    yield out
    rest = versions.flush()
    if rest is not None and len(rest):
        yield rest


def _strip_list(column: pa.ChunkedArray) -> list[list[str]]:
    """list<string> → Python lists with ``NL.IMBAG.X.`` prefixes removed (vectorised in Arrow)."""
    arr = column.combine_chunks()
    if arr.offset:
        arr = pa.concat_arrays([arr])
    flat = pc.replace_substring_regex(pc.cast(pc.list_flatten(arr), pa.string()), r"^.*\.", "")
    rebuilt = pa.ListArray.from_arrays(arr.offsets, flat)
    return [v if v is not None else [] for v in pc.if_else(arr.is_null(), pa.scalar([], rebuilt.type),
                                                            rebuilt).to_pylist()]


def _lvbag_pand(path: str | Path, kind: str, area: Area | None, chunk_size: int) -> Iterator[gpd.GeoDataFrame]:
    cols = ["status", "oorspronkelijkBouwjaar", "documentDatum"]
    with _lvbag(path, kind) as src:
        for frame in _lvbag_current(src, "PND", cols, chunk_size, area.municipality if area else None):
            n = len(frame)
            bouwjaar = _int(frame["oorspronkelijkBouwjaar"])
            out = pd.DataFrame({
                "identificatie": frame["identificatie"].to_numpy(),
                "status": _text(frame["status"]).to_numpy(),
                "bouwjaar": bouwjaar.mask(bouwjaar == 9999).to_numpy(),
                "documentdatum": _date(frame["documentDatum"], n).to_numpy(),
                "begingeldigheid": _date(frame["beginGeldigheid"], n).to_numpy(),
            })
            out["bouwjaar"] = out["bouwjaar"].astype("Int64")
            gdf = _finish(out, frame["geometry"].to_numpy(), area, PAND_COLUMNS)
            if len(gdf):
                yield gdf


def _address_lookup(src: _LvbagSource, chunk_size: int, municipality: str | None) -> pd.DataFrame | None:
    """NUM (current) joined with OPR and WPL: index int64 nummeraanduiding key →
    openbare_ruimte, huisnummer, huisletter, toevoeging, postcode, woonplaats."""
    num_cols = ["huisnummer", "huisletter", "huisnummerToevoeging", "postcode", "openbareruimteRef", "woonplaatsRef"]
    parts = []
    for frame in _lvbag_current(src, "NUM", num_cols, chunk_size, municipality, required=False, read_geometry=False):
        parts.append(pd.DataFrame({
            "_key": frame["_key"].to_numpy(),
            "huisnummer": _int(frame["huisnummer"]).to_numpy(),
            "huisletter": _text(frame["huisletter"]).to_numpy(),
            "toevoeging": _text(frame["huisnummerToevoeging"]).to_numpy(),
            "postcode": _postcode(_text(frame["postcode"])).to_numpy(),
            "opr": _ids(frame["openbareruimteRef"], pad=False).to_numpy(),
            "wpl": _text(frame["woonplaatsRef"]).str.replace(r"^.*\.", "", regex=True).to_numpy(),
        }))
    if not parts:
        return None
    num = pd.concat(parts, ignore_index=True)
    num = num[num["_key"] >= 0].drop_duplicates("_key", keep="first")
    num["huisnummer"] = num["huisnummer"].astype("Int64")

    opr_parts = [pd.DataFrame({"opr": f["identificatie"].to_numpy(), "openbare_ruimte": _text(f["naam"]).to_numpy(),
                               "opr_wpl": _text(f["woonplaatsRef"]).str.replace(r"^.*\.", "", regex=True).to_numpy()})
                 for f in _lvbag_current(src, "OPR", ["naam", "woonplaatsRef"], chunk_size, None,
                                         required=False, read_geometry=False)]
    if opr_parts:
        opr = pd.concat(opr_parts, ignore_index=True).drop_duplicates("opr")
        num = num.merge(opr, on="opr", how="left")
    else:
        num["openbare_ruimte"] = pd.Series(None, index=num.index, dtype="str")
        num["opr_wpl"] = pd.Series(None, index=num.index, dtype="str")
    wpl_ref = num["wpl"].fillna(num["opr_wpl"])
    wpl_parts = [pd.DataFrame({"wpl_id": _text(f["identificatie"]).to_numpy(), "woonplaats": _text(f["naam"]).to_numpy()})
                 for f in _lvbag_current(src, "WPL", ["naam"], chunk_size, None, required=False, read_geometry=False)]
    if wpl_parts:
        wpl = pd.concat(wpl_parts, ignore_index=True).drop_duplicates("wpl_id").set_index("wpl_id")["woonplaats"]
        num["woonplaats"] = wpl_ref.map(wpl)
    else:
        num["woonplaats"] = pd.Series(None, index=num.index, dtype="str")
    return num.set_index("_key")[["openbare_ruimte", "huisnummer", "huisletter", "toevoeging", "postcode",
                                  "woonplaats"]]


def _lvbag_vbo(path: str | Path, kind: str, area: Area | None, chunk_size: int) -> Iterator[gpd.GeoDataFrame]:
    cols = ["status", "gebruiksdoel", "oppervlakte", "pandRef", "hoofdadresNummeraanduidingRef", "documentDatum"]
    municipality = area.municipality if area else None
    with _lvbag(path, kind) as src:
        if not src.datasets("VBO"):
            raise SourceError(path, "contains no LVBAG Verblijfsobject (VBO) files "
                                    "(expected names like 0221VBO15092020-000001.xml)")
        addresses = _address_lookup(src, chunk_size, municipality)
        for frame in _lvbag_current(src, "VBO", cols, chunk_size, municipality):
            n = len(frame)
            out = pd.DataFrame({
                "identificatie": frame["identificatie"].to_numpy(),
                "pand_ids": frame["pandRef"].to_numpy(),
                "gebruiksdoelen": frame["gebruiksdoel"].to_numpy(),
                "oppervlakte": _int(frame["oppervlakte"]).to_numpy(),
                "status": _text(frame["status"]).to_numpy(),
                "documentdatum": _date(frame["documentDatum"], n).to_numpy(),
                "begingeldigheid": _date(frame["beginGeldigheid"], n).to_numpy(),
            })
            out["oppervlakte"] = out["oppervlakte"].astype("Int64")
            ref = _keys(_ids(frame["hoofdadresNummeraanduidingRef"], pad=False))
            if addresses is not None:
                addr = addresses.reindex(ref).reset_index(drop=True)
            else:
                addr = pd.DataFrame(index=range(n), columns=["openbare_ruimte", "huisnummer", "huisletter",
                                                             "toevoeging", "postcode", "woonplaats"])
            for name in ("openbare_ruimte", "huisletter", "toevoeging", "postcode", "woonplaats"):
                out[name] = pd.Series(addr[name].astype("str").to_numpy(), dtype="str")
            out["huisnummer"] = pd.array(addr["huisnummer"], dtype="Int64")
            gdf = _finish(out, _as_points(frame["geometry"].to_numpy()), area, VBO_COLUMNS)
            if len(gdf):
                yield gdf
