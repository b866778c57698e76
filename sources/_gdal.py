"""The readers' private GDAL/Arrow toolkit: what a source file is, whether it is whole, how to read it.

Shared by the BAG, BRK and BGT readers (``bag_read``, ``brk_read``, ``bgt_read``) so each of them is
only its registry's mapping. :func:`open_source` is the one entry every reader starts with: it checks
the chunk size and sniffs the path's *content* (``dir``, ``gpkg``, ``zip`` or ``xml``; never the
name). GDAL's Arrow stream ends *silently* at a read error, so truncation is checked up front and in
O(1) (:func:`check_gpkg`, :func:`check_xml_complete`, :func:`zip_entries`); :func:`source_errors`
turns what GDAL, Arrow, GEOS or zipfile raise while reading into one ``SourceError(path, problem)``
line. CRS: a layer without one is refused (:func:`rd_crs_or_error`); spatial filters are given to
GDAL in the layer's own CRS as a superset (:func:`ogr_spatial_filter`), refined exactly afterwards
(``_columns.finish_frame``). Private to ``plekzoeker.sources``: nothing outside the readers imports it.
"""
from __future__ import annotations

import contextlib
import re
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyogrio
import shapely
from pyogrio.raw import open_arrow
from pyproj import CRS

from plekzoeker.area import Area
from plekzoeker.errors import SourceError

RD_NEW = "EPSG:28992"

READ_ERRORS: tuple[type[BaseException], ...] = (
    pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError, pyogrio.errors.CRSError, pyogrio.errors.FeatureError,
    pa.ArrowException, shapely.errors.GEOSException, OSError,
    zipfile.BadZipFile, EOFError,
)

def short_error(exc: BaseException) -> str:
    """The first line of an exception message, trimmed for a one-line error."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."

def sniff(path: str | Path, what: str) -> str:
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
        raise SourceError(path, f"cannot be read ({short_error(exc)})") from exc
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

def check_gpkg(path: str | Path) -> None:
    if _gpkg_truncated(path):
        raise SourceError(path, "is a truncated or corrupt GeoPackage (shorter than its header declares)")

def _xml_root(head: bytes) -> bytes | None:
    """Qualified name of the root element in the first bytes of an XML document."""
    m = re.search(rb"<(?![?!])([^\s/>]+)", re.sub(rb"<!--.*?-->", b"", head, flags=re.S))
    return m.group(1) if m else None

def check_xml_complete(path: str | Path) -> None:
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

def zip_entries(path: str | Path) -> list[str]:
    """File names in a zip archive, refusing truncated or corrupt archives."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise SourceError(path, f"is not a readable zip archive, truncated or corrupt ({short_error(exc)})") from exc
    if not infos:
        raise SourceError(path, "is an empty zip archive")
    # a cut-off archive can expose the directory of an inner, stored zip: its entries then do
    # not start at offset 0 of the file
    if min(i.header_offset for i in infos) != 0:
        raise SourceError(path, "is a truncated or corrupt zip archive (its directory does not match its start)")
    return [i.filename for i in infos]

def rd_crs_or_error(path: str | Path, crs: str | None) -> CRS:
    """The layer CRS as a pyproj CRS; SourceError when none is declared."""
    if not crs:
        raise SourceError(path, "declares no coordinate reference system (CRS); expected EPSG:28992 (RD New)")
    try:
        return CRS.from_user_input(crs)
    except Exception as exc:  # noqa: BLE001 - pyproj raises its own CRSError
        raise SourceError(path, f"declares a CRS that cannot be interpreted ({short_error(exc)})") from exc

def is_rd(crs: CRS) -> bool:
    return crs.to_epsg() == 28992

def ogr_spatial_filter(area: Area | None, layer_crs: CRS | None) -> dict:
    """``bbox=`` or ``mask=`` keyword for pyogrio, in the layer's CRS (a superset; refined later)."""
    if area is None or (area.bbox is None and area.polygon is None):
        return {}
    if layer_crs is None or is_rd(layer_crs):
        if area.polygon is None:
            return {"bbox": area.bbox}
        return {"mask": area.mask()}
    mask = shapely.segmentize(area.mask(), 50.0)
    mask = gpd.GeoSeries([mask], crs=RD_NEW).to_crs(layer_crs).iloc[0]
    return {"mask": mask.buffer(0) if not mask.is_valid else mask}

def wkb_geoms(table: pa.Table, geom_col: str) -> np.ndarray:
    """WKB column → 2D shapely geometries."""
    geoms = shapely.from_wkb(table.column(geom_col).to_numpy(zero_copy_only=False), on_invalid="ignore")
    return shapely.force_2d(geoms) if shapely.has_z(geoms).any() else geoms

def batch_table(batch: pa.RecordBatch) -> pa.Table:
    return pa.Table.from_batches([batch])

def arrow_batches(path: str, layer: str | int | None, *, columns: Sequence[str] | None, chunk_size: int,
             where: str | None = None, read_geometry: bool = True, **kwargs) -> Iterator[tuple[dict, pa.RecordBatch]]:
    """(meta, batch) for each Arrow batch of one layer; ``kwargs`` are spatial filters / open options."""
    with open_arrow(path, layer=layer, columns=list(columns) if columns is not None else None, where=where,
                    batch_size=chunk_size, read_geometry=read_geometry, use_pyarrow=True, **kwargs) as (meta, reader):
        for batch in reader:
            yield meta, batch

def check_chunk_size(chunk_size: int) -> int:
    chunk_size = int(chunk_size)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    return chunk_size

@contextlib.contextmanager
def source_errors(path: str | Path, what: str) -> Iterator[None]:
    """Turn GDAL/Arrow/zip errors raised while reading into one SourceError line."""
    try:
        yield
    except SourceError:
        raise
    except READ_ERRORS as exc:
        raise SourceError(path, f"cannot be read as {what} ({short_error(exc)})") from exc


def open_source(path: str | Path, what: str, chunk_size: int) -> tuple[str, int]:
    """``(kind, chunk_size)`` of a source path: the chunk size checked, the content sniffed (``what``
    names the accepted forms in the error, e.g. "a BRK kadastrale kaart GML, GeoPackage or zip")."""
    chunk_size = check_chunk_size(chunk_size)
    return sniff(path, what), chunk_size
