"""High-voltage lines and building levels from an OSM file: one light pass for core.power_line and core.osm_building.

A second pass over the file the OSM reader reads (sources/osm_read.py). osmium's ``KeyFilter`` lets
through only ways with a ``power``, ``building:levels`` or ``height`` key, so the cost is the
node-location pass plus those ways — not the ~10M building ways of a Dutch extract, most of which
carry neither tag. Both tables come from the same pass (:func:`read_osm_ways`); the loader asks for
each table separately, so the caller caches the result.

* **power lines**: ``power=line`` ways (overhead high-voltage). ``power=minor_line`` (distribution)
  and cables (underground) are not high-voltage overhead lines and are not read. A line with fewer
  than two located nodes is skipped.
* **building levels**: closed ways tagged ``building=*`` (any value but ``no``) with
  ``building:levels`` and/or ``height`` — the fallback for a candidate's floors where 3DBAG has none.
  ``building:levels`` counts floors above ground (the OSM wiki's definition, the same as 3DBAG's
  ``b3_bouwlagen``); a value that is not a whole number 0..200 (``"3;4"``, ``"2.5"``, ``"many"``) is
  unknown, never rounded. ``height`` is read in metres (``"12"``, ``"12 m"``); feet or other units
  are unknown. ``ref:bag`` (the BAG import tags nearly every Dutch building with its pand id, leading
  zero dropped: ``503100000024959``) becomes the 16-digit pand id; where it is missing the facts step
  matches by location, so each building keeps a point on its surface. Multipolygon building relations
  are not read (rare for buildings in the Netherlands; they fall back to unknown).

Coordinates are projected to RD New with the OSM reader's transformer and cut to the run's area.
"""
from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from plekzoeker.area import Area
from plekzoeker.errors import SourceError

log = logging.getLogger(__name__)
POWER_COLUMNS = ["osm_id", "voltage", "geometry"]
BUILDING_COLUMNS = ["osm_id", "pand_id", "levels", "height_m", "geometry"]
_HEIGHT = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(m|meter|metres?)?\s*$", re.I)


@dataclass(frozen=True)
class OsmWays:
    """What the light pass found: power lines and buildings with levels/height, in EPSG:28992."""

    power_lines: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame


def parse_levels(value: str | None) -> int | None:
    """``building:levels`` as a whole number of floors, or None when it is not one (never rounded)."""
    v = (value or "").strip()
    return int(v) if v.isdigit() and int(v) <= 200 else None


def parse_height(value: str | None) -> float | None:
    """``height`` in metres (``12``, ``12.5``, ``12,5 m``), or None for another unit or no number."""
    m = _HEIGHT.match(value or "")
    if not m:
        return None
    h = float(m.group(1).replace(",", "."))
    return h if 0 < h <= 400 else None


def pand_id_from_ref(value: str | None) -> str | None:
    """OSM ``ref:bag`` → the 16-digit BAG pand id (the import dropped the leading zero), or None."""
    v = (value or "").strip()
    return v.zfill(16) if v.isdigit() and 13 <= len(v) <= 16 else None


def read_osm_ways(path: str | os.PathLike[str], area: Area | None = None,
                  location_storage: str = "flex_mem") -> OsmWays:
    """Power lines and buildings with levels/height from an OSM PBF/XML file (one pass)."""
    import osmium
    import osmium.filter

    from .osm_build import to_rd
    from .osm_read import sniff_format

    p = Path(path)
    fmt = sniff_format(p)
    power: dict[str, list] = {"osm_id": [], "voltage": [], "xy": []}
    bld: dict[str, list] = {"osm_id": [], "pand_id": [], "levels": [], "height_m": [], "xy": []}
    try:
        fp = (osmium.FileProcessor(osmium.io.File(str(p), fmt), osmium.osm.NODE | osmium.osm.WAY)
              .with_locations(location_storage)
              .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
              .with_filter(osmium.filter.KeyFilter("power", "building:levels", "height")))
        for o in fp:
            t = o.tags
            if t.get("power") == "line":
                xy = [(n.lon, n.lat) for n in o.nodes if n.location.valid()]
                if len(xy) >= 2:
                    power["osm_id"].append(f"w{o.id}")
                    power["voltage"].append(t.get("voltage"))
                    power["xy"].append(np.asarray(xy, dtype=float))
            b = t.get("building")
            if b and b != "no" and o.is_closed():
                levels, height = parse_levels(t.get("building:levels")), parse_height(t.get("height"))
                if levels is None and height is None:
                    continue
                xy = [(n.lon, n.lat) for n in o.nodes if n.location.valid()]
                if len(xy) < 4:
                    continue
                bld["osm_id"].append(f"w{o.id}")
                bld["pand_id"].append(pand_id_from_ref(t.get("ref:bag")))
                bld["levels"].append(levels)
                bld["height_m"].append(height)
                bld["xy"].append(np.asarray(xy, dtype=float))
    except (RuntimeError, OSError, EOFError) as exc:  # osmium's io/pbf/xml/gzip errors
        raise SourceError(p, f"truncated or corrupt OSM file ({str(exc).strip() or type(exc).__name__})") from exc
    tr = to_rd()

    def rd(c: np.ndarray) -> np.ndarray:
        return np.column_stack(tr.transform(c[:, 0], c[:, 1]))

    lines = gpd.GeoDataFrame({"osm_id": power["osm_id"], "voltage": power["voltage"]},
                             geometry=[shapely.linestrings(rd(c)) for c in power["xy"]], crs=28992)
    rings = [shapely.make_valid(shapely.polygons(rd(c))) for c in bld["xy"]]
    buildings = gpd.GeoDataFrame({k: bld[k] for k in BUILDING_COLUMNS[:-1]},
                                 geometry=shapely.point_on_surface(np.asarray(rings, dtype=object)) if rings else [],
                                 crs=28992)
    buildings["levels"] = buildings["levels"].astype("Int64")
    buildings["height_m"] = buildings["height_m"].astype("Float64")
    mask = area.mask() if area is not None else None
    if mask is not None:
        lines = lines[shapely.intersects(mask, lines.geometry.values)].reset_index(drop=True) if len(lines) else lines
        buildings = (buildings[shapely.intersects(mask, buildings.geometry.values)].reset_index(drop=True)
                     if len(buildings) else buildings)
    log.info("%s: %d power line(s), %d building(s) with levels or height", p, len(lines), len(buildings))
    return OsmWays(lines[POWER_COLUMNS], buildings[BUILDING_COLUMNS])


def read_power_lines(path: str | os.PathLike[str], area: Area | None = None) -> gpd.GeoDataFrame:
    """The ``power=line`` ways of an OSM file as LineStrings in EPSG:28992 (see :func:`read_osm_ways`)."""
    return read_osm_ways(path, area=area).power_lines
