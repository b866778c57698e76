"""Register constraint rasters (GeoTIFF: noise, flood depth, elevation) by path.

Rasters are not copied into the database: scoring reads windows of them with rasterio. Registering
checks the file opens, has a declared projected CRS, and records path + sha256 in ``meta.raster``.
"""
from __future__ import annotations

import re
from pathlib import Path

import rasterio
import sqlalchemy as sa
from rasterio.errors import RasterioIOError

from ..db.load import file_sha256
from ..errors import SourceError

RASTER_KIND = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


def check_raster(path: str | Path) -> str:
    """Open the raster and return its CRS as text; SourceError if it is unusable."""
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
            return src.crs.to_string()
    except RasterioIOError as exc:
        raise SourceError(p, f"not a readable raster: {str(exc).splitlines()[0]}") from None


def register_raster(engine: sa.Engine, kind: str, path: str | Path) -> dict:
    """Record a raster for ``kind`` (e.g. noise_lden, flood_depth); replaces an earlier one of that kind."""
    if not RASTER_KIND.match(kind):
        raise SourceError(path, f"raster kind {kind!r} must be lower-case letters, digits and _")
    crs = check_raster(path)
    sha, _ = file_sha256(path)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO meta.raster (kind, path, sha256, crs) VALUES (:k, :p, :s, :c) "
            "ON CONFLICT (kind) DO UPDATE SET path = EXCLUDED.path, sha256 = EXCLUDED.sha256, crs = EXCLUDED.crs, "
            "registered_at = now()"), {"k": kind, "p": str(Path(path).resolve()), "s": sha, "c": crs})
    return {"kind": kind, "path": str(path), "crs": crs, "sha256": sha}


def registered_rasters(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {r.kind: r.path for r in conn.execute(sa.text("SELECT kind, path FROM meta.raster"))}
