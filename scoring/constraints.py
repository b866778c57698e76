"""Constraints and context per candidate: zonal statistics from rasters, vector context from PostGIS.

Zonal statistics read only the window over each candidate's bounds (rasterio windowed reads; the
raster is never read whole) and mask it by the candidate geometry (``all_touched`` so small
buildings still get their cells). No-data cells (the raster's nodata value, NaN) are ignored;
a geometry partly outside the raster uses the cells inside it; one wholly outside, or over no-data
only, gets NaN. Geometries are in EPSG:28992 and are reprojected when a raster declares another CRS.

Vector context (one SQL statement, below): the straight-line distance from each candidate to the
nearest OSM ``landuse=residential`` area (0 inside one; NULL when none is loaded) and the number of
other candidates within a radius.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import rasterio
import shapely
import sqlalchemy as sa
from pyproj import CRS, Transformer
from rasterio.errors import WindowError
from rasterio.features import geometry_mask
from rasterio.windows import Window, from_bounds

STATS = {"mean": np.mean, "max": np.max, "min": np.min}


def zonal_stats(path: str, geoms, stats: tuple[str, ...] = ("mean", "max"), geom_crs: int | str = 28992) -> pd.DataFrame:
    """mean/max/min of the valid raster cells under each geometry; NaN where it has none.

    Returns a DataFrame with one column per statistic, one row per geometry (same order).
    """
    unknown = set(stats) - set(STATS)
    if unknown:
        raise ValueError(f"unknown statistic(s) {sorted(unknown)}; expected some of {sorted(STATS)}")
    geoms = np.asarray(geoms, dtype=object)
    out = {s: np.full(len(geoms), np.nan) for s in stats}
    with rasterio.open(path) as src:
        if src.crs is not None and CRS.from_user_input(src.crs) != CRS.from_user_input(geom_crs):
            tr = Transformer.from_crs(geom_crs, src.crs.to_wkt(), always_xy=True)
            geoms = np.asarray([None if g is None else shapely.transform(g, lambda c: np.column_stack(
                tr.transform(c[:, 0], c[:, 1]))) for g in geoms], dtype=object)
        full = Window(0, 0, src.width, src.height)
        nodata = src.nodata
        for i, g in enumerate(geoms):
            if g is None or shapely.is_empty(g):
                continue
            win = from_bounds(*g.bounds, transform=src.transform).round_offsets(op="floor").round_lengths(op="ceil")
            try:
                win = win.intersection(full)
            except WindowError:          # wholly outside the raster
                continue
            if win.width < 1 or win.height < 1:
                continue
            data = src.read(1, window=win, masked=True)
            inside = ~geometry_mask([g], out_shape=data.shape, transform=src.window_transform(win), all_touched=True)
            vals = np.asarray(data.data[inside & ~np.ma.getmaskarray(data)], dtype=float)
            vals = vals[np.isfinite(vals)]
            if nodata is not None and np.isfinite(nodata):
                vals = vals[vals != nodata]
            if vals.size == 0:
                continue
            for s in stats:
                out[s][i] = STATS[s](vals)
    return pd.DataFrame(out)


CONTEXT_SQL = """
SELECT c.candidate_key,
       (SELECT ST_Distance(c.geom, l.geom) FROM core.landuse l
         WHERE l.key = 'landuse' AND l.value = 'residential' ORDER BY l.geom <-> c.geom LIMIT 1) AS dist_residential_m,
       (SELECT count(*) FROM result.candidate o
         WHERE o.candidate_key <> c.candidate_key AND ST_DWithin(o.geom, c.geom, :radius)) AS candidates_nearby
FROM result.candidate c
ORDER BY c.candidate_key
"""


def vector_context(conn: sa.Connection, radius_m: float = 1000.0) -> pd.DataFrame:
    """Per candidate in result.candidate: candidate_key, dist_residential_m (float, NaN when no
    residential area is loaded) and candidates_nearby (other candidates within ``radius_m``)."""
    df = pd.read_sql(sa.text(CONTEXT_SQL), conn, params={"radius": float(radius_m)})
    df["dist_residential_m"] = pd.to_numeric(df["dist_residential_m"]).astype(float)
    df["candidates_nearby"] = df["candidates_nearby"].astype("int64")
    return df
