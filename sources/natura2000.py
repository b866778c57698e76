"""Natura 2000 sites into core.protected_area: `ingest natura2000 FILE` and a fetch from PDOK.

Natura 2000 (RVO / LNV, CC0) is published as polygons per site (some sites several times, once per
designation: Vogelrichtlijn, Habitatrichtlijn). Any vector file GDAL reads (GeoJSON, GeoPackage,
Shapefile) is accepted; the site's name and number are taken from the first present of the
properties in ``ALIASES`` (e.g. ``naam_n2k`` / ``naam``, ``nummer`` / ``sitecode``). Features of the
same site (same number) keep their own rows: the identifier gets the feature's position.

``plekzoeker fetch`` writes such a file from PDOK's OGC API (sources/fetch/natura2000.py).

Rejected into ``meta.reject``: features without a surface (point, line, empty); invalid polygons are
repaired by the loader. A file without a CRS is refused; another CRS is reprojected.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa

from plekzoeker.db.guards import LoadPolicy
from plekzoeker.db.load import LoadStats, TableSpec, load_input

from .fact_common import col, read_vector

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
