"""Raster constraints as vector exclusions: polygons of the cells above a threshold, per geometry.

Windowed reads only: for each geometry we read the raster window over its bounds, never the whole
raster. Cells are compared in the raster's own CRS, which must be EPSG:28992 (checked at registration
time for projected CRS; other projected CRS are reprojected here with pyproj).
"""
from __future__ import annotations

import numpy as np
import rasterio
import shapely
from rasterio.features import shapes
from rasterio.windows import from_bounds


def raster_exclusion_polygons(path: str, geoms: np.ndarray, threshold: float) -> np.ndarray:
    """For every geometry, the union of raster cells with value > threshold inside its bounds."""
    out = np.empty(len(geoms), dtype=object)
    with rasterio.open(path) as src:
        if src.crs is None or src.crs.to_epsg() != 28992:
            raise ValueError(f"{path}: raster must be in EPSG:28992 for exclusions (got {src.crs})")
        for i, g in enumerate(geoms):
            if g is None or shapely.is_empty(g):
                out[i] = shapely.Polygon()
                continue
            win = from_bounds(*g.bounds, transform=src.transform).round_offsets().round_lengths()
            win = win.intersection(rasterio.windows.Window(0, 0, src.width, src.height)) if _overlaps(win, src) else None
            if win is None or win.width == 0 or win.height == 0:
                out[i] = shapely.Polygon()
                continue
            data = src.read(1, window=win, masked=True)
            mask = (data.filled(-np.inf) > threshold).astype("uint8")
            if not mask.any():
                out[i] = shapely.Polygon()
                continue
            transform = src.window_transform(win)
            polys = [shapely.geometry.shape(geom) for geom, v in shapes(mask, mask=mask.astype(bool), transform=transform) if v == 1]
            out[i] = shapely.union_all(polys)
    return out


def _overlaps(win, src) -> bool:
    return not (win.col_off >= src.width or win.row_off >= src.height or win.col_off + win.width <= 0
                or win.row_off + win.height <= 0)
