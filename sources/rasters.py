"""Register constraint rasters (GeoTIFF: noise, flood depth, elevation) by path.

Rasters are not copied into the database: scoring reads windows of them with rasterio. Registering
checks the file opens, has a declared projected CRS, and that its bounds (in RD New) overlap the RD
New domain of the Netherlands and, when the area has a bbox, the area widened by
``ingest.area_margin_m`` (the extent guard of plekzoeker/db/guards.py; a raster whose numbers are
lon/lat degrees labelled EPSG:28992 is refused with that diagnosis). Then it records path + sha256
in ``meta.raster``; a refused raster leaves the registered one in place.
"""
from __future__ import annotations

import re
from pathlib import Path

import rasterio
import sqlalchemy as sa
from rasterio.errors import RasterioIOError
from rasterio.warp import transform_bounds

from plekzoeker.db import ledger
from plekzoeker.db.guards import RD_DOMAIN, LoadPolicy, describe_extent, extent_text
from plekzoeker.db.load import WouldLoad, probing
from plekzoeker.errors import SourceError

RASTER_KIND = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


def _overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def check_bounds(path: str | Path, bounds: tuple[float, float, float, float], policy: LoadPolicy) -> None:
    """SourceError unless ``bounds`` (RD New) overlap the RD New domain and the policy's area (+ margin)."""
    if not _overlaps(bounds, RD_DOMAIN):
        seen = describe_extent(bounds)
        raise SourceError(path, (seen or f"the raster's bounds ({extent_text(bounds)}) lie outside the RD New domain "
                                          "of the Netherlands") + "; nothing was registered")
    mask = policy.area.mask() if policy.area is not None else None
    if mask is not None and not mask.is_empty:
        m = policy.area_margin_m
        box = mask.bounds
        if not _overlaps(bounds, (box[0] - m, box[1] - m, box[2] + m, box[3] + m)):
            raise SourceError(path, f"the raster covers {extent_text(bounds)}, more than {m:.0f} m away from the area "
                                    f"(bbox {', '.join(f'{v:.0f}' for v in box)}): is this the raster for the area? "
                                    "nothing was registered")


def check_raster(path: str | Path, policy: LoadPolicy | None = None) -> str:
    """Open the raster, check its bounds (``check_bounds``) and return its CRS as text; SourceError if it is
    unusable."""
    p = Path(path)
    if not p.exists():
        raise SourceError(p, "file not found")
    try:
        with rasterio.open(p) as src:
            if src.crs is None:
                raise SourceError(p, "the raster declares no CRS; assign one (e.g. gdal_edit.py -a_srs EPSG:28992)")
            if not src.crs.is_projected:
                raise SourceError(p, f"the raster CRS {src.crs} is not projected (metres expected, e.g. EPSG:28992)")
            src.read(1, window=((0, min(1, src.height)), (0, min(1, src.width))))
            bounds = tuple(src.bounds)
            if src.crs.to_epsg() != 28992:
                bounds = transform_bounds(src.crs, "EPSG:28992", *bounds)
            check_bounds(p, bounds, policy or LoadPolicy.default())
            return src.crs.to_string()
    except RasterioIOError as exc:
        raise SourceError(p, f"not a readable raster: {str(exc).splitlines()[0]}") from None


def register_raster(engine: sa.Engine, kind: str, path: str | Path, policy: LoadPolicy | None = None) -> dict:
    """Record a raster for ``kind`` (e.g. noise_lden, flood_depth); replaces an earlier one of that kind."""
    if not RASTER_KIND.match(kind):
        raise SourceError(path, f"raster kind {kind!r} must be lower-case letters, digits and _")
    crs = check_raster(path, policy)
    sha, _ = ledger.file_sha256(path)
    if probing():  # only asked whether registering would change anything (db/load.py probe)
        if not ledger.raster_is_registered(engine, kind, path, sha, crs):
            raise WouldLoad(f"raster:{kind}", Path(path))
        return {"kind": kind, "path": str(path), "crs": crs, "sha256": sha}
    ledger.record_raster(engine, kind, path, sha, crs)
    return {"kind": kind, "path": str(path), "crs": crs, "sha256": sha}

