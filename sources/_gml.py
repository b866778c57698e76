"""The readers' GML toolkit (BRK kadastrale kaart, BGT): GFS templates, the declared CRS, Arrow frames.

GDAL guesses a GML's schema from its content unless it is given a GFS template; the readers give
one (:func:`gfs_template`) so a field missing from the first features is still read, as text. The
CRS is the ``srsName`` in the first bytes (:func:`gml_crs`; none declared → ``SourceError``).
:func:`gml_frames` yields (attributes, 2D geometries in RD New) per Arrow batch. Private to
``plekzoeker.sources``.
"""
from __future__ import annotations

import re
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from plekzoeker.area import Area
from plekzoeker.errors import SourceError
from plekzoeker.sources._gdal import RD_NEW, arrow_batches, batch_table, is_rd, ogr_spatial_filter, rd_crs_or_error, source_errors, wkb_geoms

HEAD_BYTES = 1 << 18

def gfs_template(feature: str, geom_path: str, srs: str, fields: dict[str, str]) -> str:
    """A GDAL GFS template: one feature class, its polygon property as MultiPolygon, text fields."""
    props = "\n".join(
        f"    <PropertyDefn><Name>{escape(name)}</Name><ElementPath>{escape(path)}</ElementPath>"
        f"<Type>String</Type></PropertyDefn>" for name, path in fields.items())
    return f"""<GMLFeatureClassList>
  <GMLFeatureClass>
    <Name>{escape(feature)}</Name>
    <ElementPath>{escape(feature)}</ElementPath>
    <GeomPropertyDefn>
      <Name>geometry</Name>
      <ElementPath>{escape(geom_path)}</ElementPath>
      <Type>MultiPolygon</Type>
    </GeomPropertyDefn>
    <SRSName>{escape(srs)}</SRSName>
{props}
  </GMLFeatureClass>
</GMLFeatureClassList>
"""

def srs_name(head: bytes) -> str | None:
    m = re.search(rb'srsName\s*=\s*["\']([^"\']+)["\']', head)
    return m.group(1).decode("utf-8", "replace") if m else None

def read_head(path: str | Path, member: str | None = None, size: int = HEAD_BYTES) -> bytes:
    """The first bytes of a file, or of a zip member."""
    if member is None:
        with open(path, "rb") as fh:
            return fh.read(size)
    with source_errors(path, "a zip archive"), zipfile.ZipFile(path) as zf, zf.open(member) as fh:
        return fh.read(size)

def gml_crs(src: str | Path, head: bytes) -> tuple[str, CRS]:
    """The srsName in the first bytes of a GML and its CRS; SourceError when none is declared."""
    srs = srs_name(head)
    if srs is None:
        raise SourceError(src, "declares no coordinate reference system (no srsName); expected EPSG:28992")
    return srs, rd_crs_or_error(src, srs)

def gml_frames(src: str | Path, gdal_path: str, template: str, crs: CRS, area: Area | None,
                chunk_size: int) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    """(text attributes, 2D geometries in RD New) per Arrow batch of a GML read with a GFS template."""
    spatial = ogr_spatial_filter(area, crs)
    with tempfile.TemporaryDirectory(prefix="plekzoeker-gfs-") as tmp:
        gfs = Path(tmp) / "template.gfs"
        gfs.write_text(template, encoding="utf-8")
        with source_errors(src, "GML"):
            for meta, batch in arrow_batches(gdal_path, None, columns=None, chunk_size=chunk_size,
                                        GFS_TEMPLATE=str(gfs), WRITE_GFS="NO", DOWNLOAD_SCHEMA="NO", **spatial):
                table = batch_table(batch)
                geom_col = meta["geometry_name"] or "wkb_geometry"
                geoms = wkb_geoms(table, geom_col)
                if not is_rd(crs):
                    geoms = np.asarray(gpd.GeoSeries(geoms, crs=crs).to_crs(RD_NEW).array, dtype=object)
                yield table.drop_columns([geom_col]).to_pandas(), geoms

def polygons_only(geoms: np.ndarray) -> np.ndarray:
    """Keep (Multi)Polygons; anything else (label points, lines, empties) becomes None."""
    geoms = np.asarray(geoms, dtype=object).copy()
    types = shapely.get_type_id(geoms)
    bad = ~np.isin(types, (3, 6)) | shapely.is_empty(geoms)
    geoms[bad] = None
    return geoms
