"""The road/rail noise raster ``noise_lden.tif`` (Lden in dB, float32, 10 m cells, EPSG:28992).

Lden(d) = L0 - 15 log10(1 + d / 8 m) - 0.005 d per source, summed energetically with a 45 dB
background (:data:`~plekzoeker.demo.constants.NOISE_LEVELS`). :func:`noise_above` gives the area a
threshold removes from a plot, for the planted truth.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import shapely

from plekzoeker.demo.constants import CRS, NODATA, NOISE_BACKGROUND, NOISE_CELL, NOISE_LEVELS, NOISE_RANGE


def noise_grid(bounds: tuple[float, float, float, float], sources) -> tuple[np.ndarray, tuple[float, float]]:
    """Lden (dB) on 10 m cells over ``bounds`` (snapped outward to 10 m); returns (grid, (x0, y1))."""
    c = NOISE_CELL
    x0 = math.floor(bounds[0] / c) * c
    y0 = math.floor(bounds[1] / c) * c
    x1 = math.ceil(bounds[2] / c) * c
    y1 = math.ceil(bounds[3] / c) * c
    nx, ny = int(round((x1 - x0) / c)), int(round((y1 - y0) / c))
    xc = x0 + c / 2 + c * np.arange(nx)
    yc = y1 - c / 2 - c * np.arange(ny)
    energy = np.full((ny, nx), 10 ** (NOISE_BACKGROUND / 10))
    for cls, L0 in NOISE_LEVELS.items():
        dist = np.full((ny, nx), np.inf)
        for ax, ay, bx, by, k in sources:
            if k != cls:
                continue
            c0 = np.searchsorted(xc, min(ax, bx) - NOISE_RANGE)
            c1 = np.searchsorted(xc, max(ax, bx) + NOISE_RANGE)
            r0 = np.searchsorted(-yc, -(max(ay, by) + NOISE_RANGE))
            r1 = np.searchsorted(-yc, -(min(ay, by) - NOISE_RANGE))
            if c1 <= c0 or r1 <= r0:
                continue
            px = xc[c0:c1][None, :]
            py = yc[r0:r1][:, None]
            dx, dy = bx - ax, by - ay
            l2 = dx * dx + dy * dy
            t = np.clip(((px - ax) * dx + (py - ay) * dy) / l2, 0.0, 1.0) if l2 > 0 else 0.0
            d = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
            np.minimum(dist[r0:r1, c0:c1], d, out=dist[r0:r1, c0:c1])
        ok = np.isfinite(dist)
        lev = L0 - 15.0 * np.log10(1.0 + dist[ok] / 8.0) - 0.005 * dist[ok]
        energy[ok] += 10 ** (lev / 10)
    grid = (10 * np.log10(energy)).astype(np.float32)
    return grid, (x0, y1)


def write_noise(path: Path, grid: np.ndarray, origin: tuple[float, float]) -> None:
    import rasterio
    from affine import Affine

    prof = {"driver": "GTiff", "width": grid.shape[1], "height": grid.shape[0], "count": 1, "dtype": "float32",
            "crs": CRS, "transform": Affine(NOISE_CELL, 0.0, origin[0], 0.0, -NOISE_CELL, origin[1]), "nodata": NODATA,
            "compress": "deflate", "predictor": 3, "tiled": grid.shape[0] > 512 and grid.shape[1] > 512}
    if prof["tiled"]:
        prof.update(blockxsize=256, blockysize=256)
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(grid, 1)
        dst.update_tags(AREA_OR_POINT="Area", description="Lden (dB), fictitious demo data", units="dB")


def noise_above(grid: np.ndarray, origin: tuple[float, float], geom, threshold: float):
    """Union of the 10 m cells above ``threshold`` that touch ``geom``'s bounds."""
    x0, y1 = origin
    gx0, gy0, gx1, gy1 = geom.bounds
    c0, c1 = int(math.floor((gx0 - x0) / NOISE_CELL)), int(math.ceil((gx1 - x0) / NOISE_CELL))
    r0, r1 = int(math.floor((y1 - gy1) / NOISE_CELL)), int(math.ceil((y1 - gy0) / NOISE_CELL))
    sub = grid[r0:r1, c0:c1]
    rr, cc = np.nonzero(sub > threshold)
    if not len(rr):
        return shapely.Polygon()
    xs = x0 + (c0 + cc) * NOISE_CELL
    ys = y1 - (r0 + rr) * NOISE_CELL
    return shapely.union_all(shapely.box(xs, ys - NOISE_CELL, xs + NOISE_CELL, ys))
