"""The area a run is limited to: a bounding box, a municipality, or a polygon (RD New)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

MUNICIPALITY_RE = re.compile(r"^(?:GM)?(\d{4})$")


def normalise_municipality(code: str) -> str:
    """Return the 4-digit municipality code for ``GM0221`` / ``0221``; raise ValueError otherwise.

    Municipality codes are validated against an allow-list pattern because they end up in
    file names and SQL filters.
    """
    m = MUNICIPALITY_RE.match(str(code).strip().upper())
    if not m:
        raise ValueError(f"not a Dutch municipality code (GM + 4 digits): {code!r}")
    return m.group(1)


@dataclass(frozen=True)
class Area:
    """Where to look. All fields optional; an empty Area means everything in the file."""

    bbox: tuple[float, float, float, float] | None = None
    municipality: str | None = None  # 4 digits, e.g. "0221"
    polygon: BaseGeometry | None = None

    def __post_init__(self) -> None:
        if self.municipality is not None:
            object.__setattr__(self, "municipality", normalise_municipality(self.municipality))
        if self.bbox is not None:
            minx, miny, maxx, maxy = (float(v) for v in self.bbox)
            if not (minx < maxx and miny < maxy):
                raise ValueError(f"bbox must be minx,miny,maxx,maxy with min < max: {self.bbox}")
            object.__setattr__(self, "bbox", (minx, miny, maxx, maxy))

    @property
    def is_empty(self) -> bool:
        return self.bbox is None and self.municipality is None and self.polygon is None

    @property
    def gm_code(self) -> str | None:
        return f"GM{self.municipality}" if self.municipality else None

    def mask(self) -> BaseGeometry | None:
        """The spatial filter (bbox and/or polygon) as one geometry, or None."""
        geoms = []
        if self.bbox is not None:
            geoms.append(box(*self.bbox))
        if self.polygon is not None:
            geoms.append(self.polygon)
        if not geoms:
            return None
        out = geoms[0]
        for g in geoms[1:]:
            out = out.intersection(g)
        return out

    @classmethod
    def parse(cls, text: str | None) -> Area:
        """Parse a CLI ``--area``: ``GM0221``, ``0221`` or ``minx,miny,maxx,maxy`` (RD New)."""
        if not text:
            return cls()
        text = text.strip()
        if MUNICIPALITY_RE.match(text.upper()):
            return cls(municipality=text)
        parts = text.split(",")
        if len(parts) == 4:
            try:
                return cls(bbox=tuple(float(p) for p in parts))  # type: ignore[arg-type]
            except ValueError:
                pass
        raise ValueError(f"--area must be GMxxxx or minx,miny,maxx,maxy in RD New, got {text!r}")


def load_polygon(path: str) -> tuple[BaseGeometry, str | None]:
    """The (Multi)Polygon in a GeoJSON file (RD New, as ``plekzoeker fetch`` writes boundary.geojson) and
    the 4-digit municipality code in its properties (``code``), if any. ConfigError when unusable."""
    import json

    from shapely.geometry import shape
    from shapely.ops import unary_union

    from .errors import ConfigError

    try:
        data = json.loads(open(path, encoding="utf-8").read())
        feats = data["features"] if data.get("type") == "FeatureCollection" else [data]
        geoms = [shape(f["geometry"] if "geometry" in f else f) for f in feats]
        geom = unary_union(geoms)
    except FileNotFoundError:
        raise ConfigError(f"area.polygon {path}: file not found") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"area.polygon {path}: not a GeoJSON polygon ({exc})") from None
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise ConfigError(f"area.polygon {path}: holds no polygon ({geom.geom_type})")
    minx, miny, maxx, maxy = geom.bounds
    if not (-10_000 <= minx and maxx <= 300_000 and 280_000 <= miny and maxy <= 640_000):
        raise ConfigError(f"area.polygon {path}: coordinates are not RD New (EPSG:28992) metres")
    props = (feats[0].get("properties") or {}) if feats and isinstance(feats[0], dict) else {}
    code = props.get("code")
    m = MUNICIPALITY_RE.match(str(code).upper()) if code else None
    return geom, (m.group(1) if m else None)


def bbox_params(cfg: dict) -> dict:
    """``minx``..``maxy`` of the config's ``area.bbox`` as bound SQL parameters (all None without one):
    detection then reads only what intersects the box (``CAST(:minx AS float8) IS NULL OR geom && ...``)."""
    bbox = (cfg.get("area") or {}).get("bbox")
    keys = ("minx", "miny", "maxx", "maxy")
    return dict(zip(keys, (float(v) for v in bbox))) if bbox else dict.fromkeys(keys)
