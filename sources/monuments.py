"""Monuments into core.monument: `ingest monuments FILE --kind rijks|gemeentelijk`.

Rijksmonumenten (RCE open data) and a municipal monuments list, as CSV or GeoJSON/GeoPackage. A row
names its BAG pand and/or verblijfsobject (``bag_pand_id``, ``pand_id``, ``verblijfsobject_id``;
``NL.IMBAG.Pand.`` prefixes are stripped) or carries a geometry (a GeoJSON/GeoPackage feature, or
``x``/``y`` in RD New in a CSV). Each kind is its own partition: loading the municipal list keeps the
Rijksmonumenten. Rejected into ``meta.reject``: rows with neither a BAG id nor a geometry, BAG ids
not in the loaded BAG. A geometry file without a CRS is refused; another CRS is reprojected.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from plekzoeker.db.guards import RD_DOMAIN, LoadPolicy
from plekzoeker.db.load import LoadStats, TableSpec, load_input
from plekzoeker.errors import SourceError

from .fact_common import bag_id, col, read_table_csv, read_vector, unknown_id_check

KINDS = ("rijks", "gemeentelijk")
ALIASES = {
    "monument_id": ("rijksmonument_nummer", "rijksmonumentnummer", "monumentnummer", "monument_nummer", "nummer",
                    "monumentnummer_gemeente", "id"),
    "pand_id": ("bag_pand_id", "bagpandid", "pand_identificatie", "bag_pand"),
    "verblijfsobject_id": ("bag_verblijfsobject_id", "bagverblijfsobjectid", "verblijfsobjectid", "vbo_id"),
    "naam": ("omschrijving", "name", "hoofdcategorie"),
    "x": ("rd_x", "x_coord", "xcoord"), "y": ("rd_y", "y_coord", "ycoord"),
}
MONUMENT = TableSpec(
    table="monument",
    columns=("kind", "monument_id", "pand_id", "verblijfsobject_id", "naam", "source_file", "input_id"),
    # most rows carry no geometry (BAG ids only), so the generic extent guard is replaced by a check on the
    # rows that do
    geom_kind=None, partition="kind", required=True, duplicate_geometry=False, extent=None,
    checks=(("pand_id IS NULL AND verblijfsobject_id IS NULL AND geom IS NULL",
             "neither a BAG pand / verblijfsobject id nor a geometry"),
            ("geom IS NOT NULL AND NOT (geom && ST_MakeEnvelope({}, {}, {}, {}, 28992))".format(*RD_DOMAIN),
             "geometry outside the RD New domain of the Netherlands"),
            unknown_id_check("pand_id", "pand", "BAG"),
            unknown_id_check("verblijfsobject_id", "verblijfsobject", "BAG")),
    municipality="left(coalesce(pand_id, verblijfsobject_id), 4)",
)


def tidy(df: pd.DataFrame, kind: str, source: str, geometry) -> gpd.GeoDataFrame:
    out = pd.DataFrame({"kind": kind, "monument_id": col(df, "monument_id"), "pand_id": bag_id(col(df, "pand_id")),
                        "verblijfsobject_id": bag_id(col(df, "verblijfsobject_id")), "naam": col(df, "naam"),
                        "source_file": source}, index=df.index)
    return gpd.GeoDataFrame(out, geometry=list(geometry), crs=28992)


def read_monuments(path: str | Path, kind: str, chunk_size: int = 100_000) -> Iterator[gpd.GeoDataFrame]:
    """Yield core.monument rows from a CSV, GeoJSON or GeoPackage."""
    p = Path(path)
    if kind not in KINDS:
        raise SourceError(p, f"unknown monument kind {kind!r}; use rijks or gemeentelijk")
    if p.suffix.lower() == ".csv":
        for df in read_table_csv(p, ALIASES, [["monument_id", "pand_id", "verblijfsobject_id", "x"]], chunk_size):
            x, y = (pd.to_numeric(col(df, c), errors="coerce").to_numpy(dtype=float) for c in ("x", "y"))
            ok = ~(np.isnan(x) | np.isnan(y))
            geoms = [shapely.Point(a, b) if k else None for a, b, k in zip(x, y, ok)]
            yield tidy(df, kind, p.name, geoms)
        return
    gdf = read_vector(p, "monuments", ALIASES)
    for start in range(0, len(gdf), chunk_size):
        part = gdf.iloc[start:start + chunk_size]
        yield tidy(part, kind, p.name, part.geometry)


def load_monuments(engine: sa.Engine, path: str | Path, kind: str = "rijks", force: bool = False,
                   policy: LoadPolicy | None = None) -> LoadStats:
    """Load one monuments list (one kind) into core.monument atomically; the other kind stays."""
    return load_input(engine, f"monuments:{kind}", path, {MONUMENT: lambda: read_monuments(path, kind)},
                      options={"partition": kind}, force=force, policy=policy)
