"""Constraints and context per candidate: zonal statistics from rasters, vector context from PostGIS.

Zonal statistics read only the window over each candidate's bounds (rasterio windowed reads) and
mask it by the candidate geometry (``all_touched`` so small buildings still get their cells).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import rasterio
import shapely
import sqlalchemy as sa
from rasterio.features import geometry_mask
from rasterio.windows import Window, from_bounds


def zonal_stats(path: str, geoms, stats: tuple[str, ...] = ("mean", "max")) -> pd.DataFrame:
    """mean/max (and min) of raster cells under each geometry; NaN where it has no valid cell."""
    geoms = np.asarray(geoms, dtype=object)
    out = {s: np.full(len(geoms), np.nan) for s in stats}
    with rasterio.open(path) as src:
        full = Window(0, 0, src.width, src.height)
        for i, g in enumerate(geoms):
            if g is None or shapely.is_empty(g):
                continue
            win = from_bounds(*g.bounds, transform=src.transform).round_offsets(op="floor").round_lengths(op="ceil")
            try:
                win = win.intersection(full)
            except rasterio.errors.WindowError:
                continue
            if win.width < 1 or win.height < 1:
                continue
            data = src.read(1, window=win, masked=True)
            inside = ~geometry_mask([g], out_shape=data.shape, transform=src.window_transform(win), all_touched=True)
            vals = data[inside & ~np.ma.getmaskarray(data)]
            vals = np.asarray(vals, dtype=float)
            if vals.size == 0:
                continue
            for s in stats:
                out[s][i] = getattr(np, s)(vals)
    return pd.DataFrame(out)


CONTEXT_SQL = """
SELECT c.candidate_key,
       (SELECT ST_Distance(c.geom, l.geom) FROM core.landuse l
         WHERE l.key = 'landuse' AND l.value = 'residential' ORDER BY l.geom <-> c.geom LIMIT 1) AS dist_residential_m,
       (SELECT count(*) FROM result.candidate o
         WHERE o.candidate_key <> c.candidate_key AND ST_DWithin(o.geom, c.geom, :radius)) AS candidates_nearby
FROM result.candidate c
"""


def vector_context(conn: sa.Connection, radius_m: float = 1000.0) -> pd.DataFrame:
    """Distance to the nearest residential area and number of other candidates within ``radius_m``."""
    return pd.read_sql(sa.text(CONTEXT_SQL), conn, params={"radius": radius_m})
