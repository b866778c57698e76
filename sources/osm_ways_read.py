"""High-voltage lines and building levels from an OSM file, for core.power_line and core.osm_building.

Read in the OSM reader's single pass (sources/osm_read.py calls :class:`WaysCollector` for the ways
osmium's C++ ``KeyFilter`` lets through with a ``power``, ``building:levels`` or ``height`` key), so
the loader reads the file once; :func:`read_osm_ways` makes a pass of its own for reading these
tables alone. Python sees only those ways — not the ~10M building ways of a Dutch extract, most of
which carry neither tag — and per way only copies the integer node locations; the geometries are
built in vectorised shapely calls at the end.

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

import array
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


WAY_KEYS = ("power", "building:levels", "height")  # the KeyFilter of the ways this module reads


class WaysCollector:
    """Power lines and buildings with levels/height, collected way by way into flat integer buffers.

    :meth:`way` is called by this module's own pass and by the OSM reader's single pass
    (sources/osm_read.py) for the ways that carry one of :data:`WAY_KEYS`; it copies osmium's
    fixed-point node locations (only the valid ones) into ``array.array`` buffers, so no geometry
    object is made per way. :meth:`result` projects and builds all geometries in vectorised calls.
    """

    def __init__(self) -> None:
        self.p_ids: list[str] = []
        self.p_volt: list[str | None] = []
        self.p_len = array.array("q")
        self.p_x, self.p_y = array.array("i"), array.array("i")
        self.b_ids: list[str] = []
        self.b_pand: list[str | None] = []
        self.b_levels: list[int | None] = []
        self.b_height: list[float | None] = []
        self.b_len = array.array("q")
        self.b_x, self.b_y = array.array("i"), array.array("i")

    def way(self, o: Any) -> None:
        t = o.tags
        if t.get("power") == "line":
            xs, ys = _located(o)
            if len(xs) >= 2:
                self.p_ids.append(f"w{o.id}")
                self.p_volt.append(t.get("voltage"))
                self.p_len.append(len(xs))
                self.p_x.extend(xs)
                self.p_y.extend(ys)
        b = t.get("building")
        if b and b != "no" and o.is_closed():
            levels, height = parse_levels(t.get("building:levels")), parse_height(t.get("height"))
            if levels is None and height is None:
                return
            xs, ys = _located(o)
            if len(xs) < 4:
                return
            self.b_ids.append(f"w{o.id}")
            self.b_pand.append(pand_id_from_ref(t.get("ref:bag")))
            self.b_levels.append(levels)
            self.b_height.append(height)
            self.b_len.append(len(xs))
            self.b_x.extend(xs)
            self.b_y.extend(ys)

    def result(self, area: Area | None = None) -> OsmWays:
        """The collected ways as GeoDataFrames in EPSG:28992, cut to ``area`` (intersecting, not clipped)."""
        from plekzoeker.sources.osm_build import project_fixed

        def coords(xb: array.array, yb: array.array) -> np.ndarray:
            x, y = project_fixed(np.frombuffer(xb, dtype=np.int32), np.frombuffer(yb, dtype=np.int32))
            return np.column_stack([x, y])

        def parts(lens: array.array) -> np.ndarray:
            return np.repeat(np.arange(len(lens)), np.frombuffer(lens, dtype=np.int64))

        lines = gpd.GeoDataFrame({"osm_id": self.p_ids, "voltage": self.p_volt},
                                 geometry=shapely.linestrings(coords(self.p_x, self.p_y), indices=parts(self.p_len))
                                 if self.p_ids else [], crs=28992)
        if self.b_ids:
            rings = shapely.linearrings(coords(self.b_x, self.b_y), indices=parts(self.b_len))
            where = shapely.point_on_surface(shapely.make_valid(shapely.polygons(rings)))
        else:
            where = []
        buildings = gpd.GeoDataFrame({"osm_id": self.b_ids, "pand_id": self.b_pand, "levels": self.b_levels,
                                      "height_m": self.b_height}, geometry=where, crs=28992)
        buildings["levels"] = buildings["levels"].astype("Int64")
        buildings["height_m"] = buildings["height_m"].astype("Float64")
        mask = area.mask() if area is not None else None
        if mask is not None:
            lines = lines[shapely.intersects(mask, lines.geometry.values)].reset_index(drop=True) if len(lines) else lines
            buildings = (buildings[shapely.intersects(mask, buildings.geometry.values)].reset_index(drop=True)
                         if len(buildings) else buildings)
        return OsmWays(lines[POWER_COLUMNS], buildings[BUILDING_COLUMNS])


def _located(o: Any) -> tuple[list[int], list[int]]:
    xs: list[int] = []
    ys: list[int] = []
    for n in o.nodes:
        loc = n.location
        if loc.valid():
            xs.append(loc.x)
            ys.append(loc.y)
    return xs, ys


def read_osm_ways(path: str | os.PathLike[str], area: Area | None = None,
                  location_storage: str = "flex_mem") -> OsmWays:
    """Power lines and buildings with levels/height from an OSM PBF/XML file, in a pass of their own.

    The loader does not call this: ``read_osm`` collects the same ways in its single pass
    (``OsmData.ways``); this is for reading these tables alone.
    """
    import osmium
    import osmium.filter

    from plekzoeker.sources.osm_read import sniff_format

    p = Path(path)
    fmt = sniff_format(p)
    col = WaysCollector()
    try:
        fp = (osmium.FileProcessor(osmium.io.File(str(p), fmt), osmium.osm.NODE | osmium.osm.WAY)
              .with_locations(location_storage)
              .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
              .with_filter(osmium.filter.KeyFilter(*WAY_KEYS)))
        for o in fp:
            col.way(o)
    except (RuntimeError, OSError, EOFError) as exc:  # osmium's io/pbf/xml/gzip errors
        raise SourceError(p, f"truncated or corrupt OSM file ({str(exc).strip() or type(exc).__name__})") from exc
    out = col.result(area)
    log_ways(p, out)
    return out


def log_ways(p: Path, w: OsmWays) -> None:
    log.info("%s: %d power line(s), %d building(s) with levels or height", p, len(w.power_lines), len(w.buildings))


def read_power_lines(path: str | os.PathLike[str], area: Area | None = None) -> gpd.GeoDataFrame:
    """The ``power=line`` ways of an OSM file as LineStrings in EPSG:28992 (see :func:`read_osm_ways`)."""
    return read_osm_ways(path, area=area).power_lines
