"""Natura 2000 sites into core.protected_area: `ingest natura2000 FILE` and a fetch from PDOK.

Natura 2000 (RVO / LNV, CC0) is published as polygons per site (some sites several times, once per
designation: Vogelrichtlijn, Habitatrichtlijn). Any vector file GDAL reads (GeoJSON, GeoPackage,
Shapefile) is accepted; the site's name and number are taken from the first present of the
properties in ``ALIASES`` (e.g. ``naam_n2k`` / ``naam``, ``nummer`` / ``sitecode``). Features of the
same site (same number) keep their own rows: the identifier gets the feature's position.

The fetch path (:func:`fetch_natura2000`) reads the OGC API Features collection configured as
``natura2000.api`` / ``natura2000.collection`` with the project's client (sources/fetch/ogcapi.py:
RD New coordinates, cursor paging, one FetchError line on any failure) for the area's bounding box
and writes a GeoJSON in RD New that this reader loads (written to a part file, renamed when whole).

Rejected into ``meta.reject``: features without a surface (point, line, empty); invalid polygons are
repaired by the loader. A file without a CRS is refused; another CRS is reprojected.
"""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from shapely.geometry import mapping, shape

from plekzoeker.db.guards import LoadPolicy
from plekzoeker.db.load import LoadStats, TableSpec, load_input
from plekzoeker.errors import FetchError

from .fact_common import col, read_vector

log = logging.getLogger(__name__)

ALIASES = {"identificatie": ("nummer", "natura2000_nummer", "nr", "sitecode", "site_code", "gebiedsnummer", "id"),
           "naam": ("naam_n2k", "naam_nl", "sitename", "gebiedsnaam", "name")}
PROTECTED_AREA = TableSpec(
    table="protected_area", columns=("identificatie", "kind", "naam", "input_id"), geom_kind="multipolygon",
    id_column="identificatie",
    checks=(("geom IS NULL", "no surface (a point, a line or an empty geometry is not a protected area)"),),
    duplicate_geometry=False,
)


def read_natura2000(path: str | Path) -> Iterator[gpd.GeoDataFrame]:
    """Yield core.protected_area rows (kind natura2000) from a vector file."""
    from .zoning_read import _surfaces  # the same "surface or None" rule as zoning
    p = Path(path)
    gdf = read_vector(p, "Natura 2000", ALIASES)
    site = col(gdf, "identificatie").fillna("n2k")
    ident = site + "#" + pd.Series(range(len(gdf)), index=gdf.index).astype(str)
    out = pd.DataFrame({"identificatie": ident, "kind": "natura2000", "naam": col(gdf, "naam")}, index=gdf.index)
    yield gpd.GeoDataFrame(out, geometry=_surfaces(gdf.geometry), crs=28992)


def load_natura2000(engine: sa.Engine, path: str | Path, force: bool = False,
                    policy: LoadPolicy | None = None) -> LoadStats:
    """Load Natura 2000 polygons into core.protected_area atomically (replacing the previous sites)."""
    return load_input(engine, "natura2000", path, {PROTECTED_AREA: lambda: read_natura2000(path)}, force=force,
                      policy=policy)


def fetch_natura2000(http, api: str, collection: str, bbox: tuple[float, float, float, float], dest: Path,
                     limit: int = 1000) -> dict:
    """Fetch the Natura 2000 features meeting ``bbox`` (RD New) into ``dest`` (GeoJSON, RD New)."""
    from .fetch.ogcapi import RD_URI, iter_features
    what = "Natura 2000"
    params = {"bbox": ",".join(f"{v:.3f}" for v in bbox), "bbox-crs": RD_URI}
    feats = []
    for f in iter_features(http, api, collection, what=what, params=params, limit=limit):
        try:
            geom = shape(f["geometry"]) if f.get("geometry") else None
        except (KeyError, TypeError, ValueError, AttributeError):
            raise FetchError(f"{what}: a feature with an unreadable geometry") from None
        feats.append({"type": "Feature", "properties": f["properties"], "geometry": mapping(geom) if geom else None})
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    part.write_text(json.dumps({"type": "FeatureCollection", "name": "natura2000",
                                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
                                "features": feats}), encoding="utf-8")
    os.replace(part, dest)
    log.info("natura2000: %d feature(s) written to %s", len(feats), dest)
    return {"features": len(feats), "path": str(dest)}
