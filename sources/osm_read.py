"""Offline, streaming OpenStreetMap reader (pyosmium) → street graph, POIs and land-use areas in RD New.

``read_osm(path, categories=None, area=None) -> OsmData`` reads an ``.osm.pbf`` or OSM XML file
(``.osm``, also gzip/bzip2-compressed ``.osm.gz`` / ``.osm.bz2``; the format is sniffed from the
first bytes, so the file name does not matter) and returns tidy tables, all geometry in
EPSG:28992 (RD New, metres). Nothing is downloaded; nothing touches the database.

Output (``OsmData``)
--------------------
``nodes`` (pandas.DataFrame)
    ``node_id`` int64, ``x`` float64, ``y`` float64 (RD New) — only the graph nodes, i.e. the
    end points (``u``/``v``) of the edges below. Intermediate way nodes are only in the edge
    geometries.
``edges`` (geopandas.GeoDataFrame, CRS EPSG:28992; a GeoDataFrame *is* a pandas DataFrame)
    ``u`` int64, ``v`` int64, ``length_m`` float64, ``highway`` str, ``walk`` bool, ``bike`` bool,
    ``oneway_bike`` bool, ``osm_way_id`` int64, ``geometry`` LineString.
    **One row per segment between graph nodes** (not per consecutive node pair): a way is split
    where one of its nodes is shared with another street-graph way (an intersection, counted
    only over the ways that made it into the graph), at a node the way visits twice, at its ends,
    and around nodes whose location is missing from the file (an incomplete extract). The
    geometry keeps every intermediate node; ``length_m`` is the sum of the RD New distances
    between consecutive nodes. Direction: ``u → v`` follows the way's node order, except for
    ``oneway=-1`` (bike-wise) ways, which are reversed so that ``u → v`` is always the allowed
    bike direction. ``oneway_bike`` is True only for bikeable edges that a bike may ride
    ``u → v`` only; a walk router ignores direction altogether. Overlapping ways give one row
    each.
``pois`` (geopandas.GeoDataFrame, EPSG:28992)
    ``category`` str, ``name`` str|None, ``osm_id`` str (``n123`` / ``w45`` / ``r6``),
    ``tags_json`` str (all tags, sorted keys), ``geometry`` Point. One row per (object, category)
    match. Nodes → their point; ways → the centroid of the closed way's polygon (the middle of
    an open way), or the location of an ``entrance=*`` node on the way when there is one
    (``main`` preferred; ``emergency``/``exit``/``service``/``no`` ignored; entrance nodes must
    come before the way, as in any sorted file); multipolygon/boundary relations → centroid of
    the polygon assembled by osmium's area handler (relations whose area cannot be assembled
    are skipped). Tag values with ``;`` (``amenity=doctors;pharmacy``) match each part.
``landuse`` (geopandas.GeoDataFrame, EPSG:28992)
    ``osm_id`` str, ``key`` str, ``value`` str, ``exclusion`` bool (False only for the context
    class ``landuse=residential``), ``geometry`` MultiPolygon (always multi), made valid. One row per area
    object, with the **first** matching rule of ``LANDUSE_RULES`` (so a lake tagged
    ``natural=water`` + ``water=lake`` is one row ``natural``/``water``). Built by osmium's area
    assembly (closed ways and ``type=multipolygon|boundary`` relations) via ``WKBFactory``;
    what osmium cannot assemble (e.g. a self-intersecting ring) is skipped.

Area filter: with ``area.bbox`` and/or ``area.polygon`` only edges, POIs and land-use polygons
that *intersect* ``area.mask()`` are kept (not clipped), tested after projecting; graph nodes
follow the kept edges. A municipality-only ``Area`` filters nothing (OSM carries no municipality
code): pass a polygon or bbox for that. What the filter drops is logged as a warning with its share
(an extract much larger than the area, or one of another region, shows up there); a file with no
street inside the area is refused.

Street graph rules (osmnx-like, adapted to Dutch traffic rules; see ``classify_way``)
---------------------------------------------------------------------------------------
* Walk: ``highway`` in ``WALK_HIGHWAYS`` (footway, path, pedestrian, steps, living_street,
  residential, service, unclassified, road, track, cycleway — in NL a pedestrian may use the
  fietspad when there is no footpath —, corridor, tertiary/secondary/primary and their links);
  ``trunk``/``trunk_link``/``busway`` only with a sidewalk (``sidewalk[:both|:left|:right]`` =
  yes/both/left/right) or ``foot=yes|designated|permissive``; ``bridleway`` only with such an
  explicit ``foot``.
* Bike: ``highway`` in ``BIKE_HIGHWAYS`` (cycleway, path, living_street, residential, service,
  unclassified, road, track, tertiary/secondary/primary and links); footway, pedestrian, steps,
  bridleway, corridor, trunk, trunk_link, busway only with ``bicycle=yes|designated|permissive``.
* Never: motorway, motorway_link, construction, proposed, platform, raceway, bus_guideway, a
  busway without foot/sidewalk/bicycle tags, …; any way with ``area=yes`` (pedestrian squares drawn
  as polygons).
* A street whose sidewalks are mapped as separate ways (``sidewalk[:both|:left|:right]=separate``
  and no side with a sidewalk on the street itself) is not walked: the separate footways are
  (osmnx does the same).
* ``access=no|private`` (or ``service=private``) removes the way for a mode unless that mode's
  own tag says ``yes|designated|permissive``; ``foot=no|private|use_sidepath`` removes it for
  walking and ``bicycle=no|private|use_sidepath`` for cycling. ``bicycle=dismount`` stays
  bikeable (short pieces where one walks the bike).
* Bike oneway: ``oneway:bicycle`` decides when present (``no`` → both ways; ``yes``/``-1``);
  otherwise ``cycleway=opposite*`` means two-way for bikes, ``oneway=yes|true|1`` → forward,
  ``oneway=-1|reverse`` → reversed, explicit ``oneway=no`` → two-way, and
  ``junction=roundabout|circular`` implies forward. Walking ignores oneway.

Implementation and speed
------------------------
One ``osmium.FileProcessor`` run with ``with_locations()`` (node locations cached in C++,
``flex_mem`` by default) and ``with_areas()`` (osmium reads the relations first, then the whole
file once). C++ filters (``KeyFilter`` per object type, ``EntityFilter``) drop untagged nodes,
irrelevant ways and relations before Python sees them, so there is no Python work per file node;
Python touches only tagged nodes with a relevant key, relevant ways (copying the node ids and
integer locations of street ways into ``array.array`` buffers) and relevant areas. Splitting,
projection (one vectorised pyproj call, ``always_xy=True``), lengths and LineString construction
are numpy/shapely vectorised.

Measured on the 2-core dev machine with a synthetic grid town converted by osmium-tool (5.0 M
nodes, 1.16 M ways: 190 k streets holding 1.15 M way nodes, 0.96 M buildings, 160 k tagged
nodes): ``read_osm`` on the PBF takes ~7 s and peaks at ~0.7 GB RSS. Of that, osmium's read with
location cache, area assembly and C++ filters is ≈2.1 s; per-way Python ≈3.5 s (mostly TagList
lookups, ~0.25 µs each, and copying ids/locations of the 1.15 M street way nodes, ~1 µs each);
numpy/pyproj/shapely post-processing ≈1.2 s. The same data as uncompressed XML (560 MB): ~14 s.
(Converting a TagList to a dict is ~10 µs per object, so rules use ``tags.get``.)

Errors: a missing, empty, truncated or corrupt file, or one that is not OSM data, raises
``SourceError(path, problem)``; so does a file without any street of the graph ("no streets
found"). Node ids must be positive (osmium's location store requires it).
"""
from __future__ import annotations

import array
import bz2
import gzip
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from plekzoeker.area import Area
from plekzoeker.errors import SourceError
from plekzoeker.sources.osm_tags import LANDUSE_RULES

log = logging.getLogger(__name__)

CRS_RD = "EPSG:28992"

DEFAULT_CATEGORIES: dict[str, list[str]] = {
    "stop": [
        "highway=bus_stop",
        "public_transport=platform",
        "public_transport=stop_position",
        "railway=tram_stop",
        "station=subway",        # metro and light-rail stations are transit stops, not train stations
        "station=light_rail",
    ],
    "train_station": ["railway=station", "railway=halt", "!station=subway", "!station=light_rail", "!station=tram",
                      "!subway=yes", "!light_rail=yes", "!tram=yes"],
    "supermarket": ["shop=supermarket", "shop=convenience"],
    "gp": ["amenity=doctors", "amenity=clinic"],
    "pharmacy": ["amenity=pharmacy"],
    "primary_school": ["amenity=school"],
    "social_services": ["amenity=social_facility", "amenity=community_centre"],
    "park": ["leisure=park"],
}

WALK_HIGHWAYS = frozenset({
    "footway", "path", "pedestrian", "steps", "living_street", "residential", "service",
    "unclassified", "road", "track", "cycleway", "corridor",
    "tertiary", "tertiary_link", "secondary", "secondary_link", "primary", "primary_link",
})
WALK_IF_ALLOWED = frozenset({"trunk", "trunk_link", "bridleway", "busway"})  # see classify_way
BIKE_HIGHWAYS = frozenset({
    "cycleway", "path", "living_street", "residential", "service", "unclassified", "road",
    "track", "tertiary", "tertiary_link", "secondary", "secondary_link", "primary", "primary_link",
})
BIKE_IF_ALLOWED = frozenset({"footway", "pedestrian", "steps", "bridleway", "corridor",
                             "trunk", "trunk_link", "busway"})
GRAPH_HIGHWAYS = WALK_HIGHWAYS | WALK_IF_ALLOWED | BIKE_HIGHWAYS | BIKE_IF_ALLOWED

_EXPLICIT_YES = frozenset({"yes", "designated", "permissive", "official"})
_MODE_NO = frozenset({"no", "private", "use_sidepath"})
_ACCESS_NO = frozenset({"no", "private"})
_ONEWAY_FWD = frozenset({"yes", "true", "1"})
_ONEWAY_REV = frozenset({"-1", "reverse"})
_ONEWAY_NO = frozenset({"no", "false", "0"})
_SIDEWALK_YES = frozenset({"yes", "both", "left", "right"})
_SIDEWALK_KEYS = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")
_ENTRANCE_IGNORE = frozenset({"no", "emergency", "exit", "service"})

_UNDEF = 2147483647  # osmium's fixed-point value of an undefined coordinate

_TRANSFORMER: Transformer | None = None


def _transformer() -> Transformer:
    global _TRANSFORMER
    if _TRANSFORMER is None:
        _TRANSFORMER = Transformer.from_crs("EPSG:4326", CRS_RD, always_xy=True)
    return _TRANSFORMER


@dataclass
class OsmData:
    nodes: pd.DataFrame
    edges: gpd.GeoDataFrame
    pois: gpd.GeoDataFrame
    landuse: gpd.GeoDataFrame


# --------------------------------------------------------------------------------------------
# tag rules
# --------------------------------------------------------------------------------------------

def classify_way(tags: Mapping[str, str]) -> tuple[bool, bool, int]:
    """Return ``(walk, bike, bike_direction)`` for a way's tags (``dict`` or osmium TagList).

    ``bike_direction`` is 0 (both ways), 1 (forward only) or -1 (against the node order only);
    it is 0 whenever ``bike`` is False. See the module docstring for the rules.
    """
    get = tags.get
    hw = get("highway")
    if hw is None or hw not in GRAPH_HIGHWAYS or get("area") == "yes":
        return False, False, 0
    access = get("access")
    if get("service") == "private":
        access = "private"
    access_no = access in _ACCESS_NO

    foot = get("foot")
    if foot in _MODE_NO:
        walk = False
    else:
        foot_yes = foot in _EXPLICIT_YES
        sidewalks = [get(k) for k in _SIDEWALK_KEYS]
        if access_no and not foot_yes:
            walk = False
        elif "separate" in sidewalks and not any(v in _SIDEWALK_YES for v in sidewalks):
            walk = False  # pedestrians use the separately mapped sidewalk (as osmnx does)
        elif hw in WALK_HIGHWAYS:
            walk = True
        elif hw == "bridleway":
            walk = foot_yes
        elif hw in WALK_IF_ALLOWED:  # trunk, trunk_link, busway
            walk = foot_yes or any(v in _SIDEWALK_YES for v in sidewalks)
        else:
            walk = False

    bicycle = get("bicycle")
    if bicycle in _MODE_NO:
        bike = False
    else:
        bike_yes = bicycle in _EXPLICIT_YES
        if access_no and not bike_yes:
            bike = False
        elif hw in BIKE_HIGHWAYS:
            bike = True
        elif hw in BIKE_IF_ALLOWED:
            bike = bike_yes
        else:
            bike = False

    direction = 0
    if bike:
        ob = get("oneway:bicycle")
        if ob is not None and (ob in _ONEWAY_NO or ob in _ONEWAY_FWD or ob in _ONEWAY_REV):
            direction = 1 if ob in _ONEWAY_FWD else (-1 if ob in _ONEWAY_REV else 0)
        elif (get("cycleway") or "").startswith("opposite"):
            direction = 0
        else:
            ow = get("oneway")
            if ow in _ONEWAY_FWD:
                direction = 1
            elif ow in _ONEWAY_REV:
                direction = -1
            elif ow in _ONEWAY_NO:
                direction = 0
            elif get("junction") in ("roundabout", "circular"):
                direction = 1
    return walk, bike, direction


def _parse_categories(categories: Mapping[str, list[str]]) -> dict[str, list[tuple[str | None, str]]]:
    """``{"cat": ["k=v", "k=*", "k", "!k=v"]}`` → ``{key: [(value or None, cat or "!cat"), ...]}``.

    A filter starting with ``!`` is a veto: an object matching it is not in the category even when a
    positive filter matches (``railway=station`` with ``station=subway`` is a metro station, not a
    train station)."""
    index: dict[str, list[tuple[str | None, str]]] = {}
    for cat, filters in categories.items():
        if isinstance(filters, str):
            filters = [filters]
        for f in filters:
            f = str(f).strip()
            neg = f.startswith("!")
            key, sep, value = f.lstrip("!").partition("=")
            if neg:
                key, value = key.strip(), value.strip()
                if not key:
                    raise ValueError(f"bad OSM tag filter for category {cat!r}: {f!r} (want !key=value)")
                index.setdefault(key, []).append((value if sep and value not in ("", "*") else None, "!" + cat))
                continue
            key, value = key.strip(), value.strip()
            if not key:
                raise ValueError(f"bad OSM tag filter for category {cat!r}: {f!r} (want key=value)")
            index.setdefault(key, []).append((value if sep and value not in ("", "*") else None, cat))
    return index


def _match_categories(tags: Mapping[str, str], index: dict[str, list[tuple[str | None, str]]]) -> list[str]:
    out: list[str] = []
    vetoed: list[str] = []
    get = tags.get
    for key, rules in index.items():
        v = get(key)
        if v is None:
            continue
        values = [s.strip() for s in v.split(";")] if ";" in v else (v,)
        for want, cat in rules:
            if want is None or want in values:
                if cat[0] == "!":
                    vetoed.append(cat[1:])
                elif cat not in out:
                    out.append(cat)
    return [c for c in out if c not in vetoed] if vetoed else out


def _match_landuse(tags: Mapping[str, str]) -> tuple[str, str, bool] | None:
    get = tags.get
    for key, want, exclusion in LANDUSE_RULES:
        v = get(key)
        if v is not None and (want is None or v == want):
            return key, v, exclusion
    return None


def _tags_json(tags: Any) -> str:
    return json.dumps({t.k: t.v for t in tags}, sort_keys=True, ensure_ascii=False)


# --------------------------------------------------------------------------------------------
# file checks
# --------------------------------------------------------------------------------------------

def _sniff_format(path: Path) -> str:
    """Return the osmium format string for the file, or raise SourceError."""
    if not path.exists():
        raise SourceError(path, "file not found")
    if path.is_dir():
        raise SourceError(path, "is a directory, expected an .osm.pbf or .osm file")
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise SourceError(path, f"cannot read file: {exc.strerror or exc}") from exc
    if size == 0:
        raise SourceError(path, "file is empty")

    def looks_xml(b: bytes) -> bool:
        b = b.lstrip(b"\xef\xbb\xbf \t\r\n")
        return (b.startswith(b"<?xml") and b"<osm" in b) or b.startswith(b"<osm")

    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as fh:
                inner = fh.read(4096)
        except (OSError, EOFError) as exc:
            raise SourceError(path, f"corrupt gzip file: {exc}") from exc
        if looks_xml(inner):
            return "osm.gz"
        raise SourceError(path, "gzip file does not contain OSM XML (not an OSM file)")
    if head[:3] == b"BZh":
        try:
            with bz2.open(path, "rb") as fh:
                inner = fh.read(4096)
        except (OSError, EOFError, ValueError) as exc:
            raise SourceError(path, f"corrupt bzip2 file: {exc}") from exc
        if looks_xml(inner):
            return "osm.bz2"
        raise SourceError(path, "bzip2 file does not contain OSM XML (not an OSM file)")
    if len(head) >= 8 and b"OSMHeader" in head[:64]:
        return "pbf"
    if looks_xml(head):
        return "osm"
    raise SourceError(path, "not an OSM file (expected OSM PBF or OSM XML data)")


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------

class _RelationFilter:
    """First-pass filter for osmium's area assembly: only relevant relations become areas."""

    def __init__(self, cat_index: dict[str, list[tuple[str | None, str]]]):
        self.cat_index = cat_index

    def relation(self, r: Any) -> bool:  # True = drop
        tags = r.tags
        return _match_landuse(tags) is None and not _match_categories(tags, self.cat_index)


class _Collector:
    def __init__(self, cat_index: dict[str, list[tuple[str | None, str]]]):
        import osmium.geom

        self.cat_index = cat_index
        self.wkb = osmium.geom.WKBFactory()
        # street ways
        self.refs = array.array("q")
        self.xi = array.array("i")
        self.yi = array.array("i")
        self.way_ids: list[int] = []
        self.way_len: list[int] = []
        self.way_hw: list[str] = []
        self.way_walk: list[bool] = []
        self.way_bike: list[bool] = []
        self.way_oneway: list[bool] = []
        self.n_highway_ways = 0
        # entrances: node id -> (rank, x, y)
        self.entrances: dict[int, tuple[int, int, int]] = {}
        # pois: point-like rows (lon/lat fixed-point ints) and polygon rows (WKB)
        self.poi_rows: list[tuple[str, str | None, str, str]] = []   # category,name,osm_id,tags
        self.poi_kind: list[int] = []       # 0 point, 1 way coords, 2 area WKB
        self.poi_pt: list[tuple[int, int]] = []
        self.poi_way_coords: list[tuple[list[int], list[int], bool]] = []
        self.poi_wkb: list[str] = []         # hex WKB from osmium
        self.poi_ref: list[int] = []        # index into poi_pt / poi_way_coords / poi_wkb
        # landuse
        self.lu_rows: list[tuple[str, str, str, bool]] = []
        self.lu_wkb: list[str] = []
        self.n_area_errors = 0

    # ---- nodes
    def node(self, o: Any) -> None:
        tags = o.tags  # TagList.get is cheap; converting to a dict costs ~10 µs per object
        ent = tags.get("entrance")
        loc = o.location
        if not loc.valid():
            return
        if ent is not None and ent not in _ENTRANCE_IGNORE:
            self.entrances[o.id] = (0 if ent == "main" else 1, loc.x, loc.y)
        cats = _match_categories(tags, self.cat_index)
        if cats:
            self._add_poi(cats, tags, f"n{o.id}", 0, (loc.x, loc.y))

    # ---- ways
    def way(self, o: Any) -> None:
        tags = o.tags
        hw = tags.get("highway")
        if hw is not None:
            self.n_highway_ways += 1
            walk, bike, direction = classify_way(tags)
            if walk or bike:
                r: list[int] = []
                xs: list[int] = []
                ys: list[int] = []
                for nr in o.nodes:
                    r.append(nr.ref)
                    loc = nr.location
                    xs.append(loc.x)
                    ys.append(loc.y)
                if len(r) >= 2:
                    if direction == -1:
                        r.reverse()
                        xs.reverse()
                        ys.reverse()
                    self.refs.extend(r)
                    self.xi.extend(xs)
                    self.yi.extend(ys)
                    self.way_ids.append(o.id)
                    self.way_len.append(len(r))
                    self.way_hw.append(hw)
                    self.way_walk.append(walk)
                    self.way_bike.append(bike)
                    self.way_oneway.append(direction != 0)
        cats = _match_categories(tags, self.cat_index)
        if cats:
            best = None
            xs, ys = [], []
            for nr in o.nodes:
                e = self.entrances.get(nr.ref)
                if e is not None and (best is None or e[0] < best[0]):
                    best = e
                loc = nr.location
                if loc.valid():
                    xs.append(loc.x)
                    ys.append(loc.y)
            oid = f"w{o.id}"
            if best is not None:
                self._add_poi(cats, tags, oid, 0, (best[1], best[2]))
            elif xs:
                closed = o.is_closed() and len(xs) >= 4
                self._add_poi(cats, tags, oid, 1, (xs, ys, closed))

    # ---- areas (closed ways and multipolygon/boundary relations)
    def area(self, o: Any) -> None:
        tags = o.tags
        lu = _match_landuse(tags)
        from_way = o.from_way()
        cats = [] if from_way else _match_categories(tags, self.cat_index)
        if lu is None and not cats:
            return
        try:
            wkb = self.wkb.create_multipolygon(o)
        except Exception:  # noqa: BLE001 - osmium raises for broken areas; skip them
            self.n_area_errors += 1
            return
        oid = ("w" if from_way else "r") + str(o.orig_id())
        if lu is not None:
            self.lu_rows.append((oid, lu[0], lu[1], lu[2]))
            self.lu_wkb.append(wkb)
        if cats:
            self._add_poi(cats, tags, oid, 2, wkb)

    def _add_poi(self, cats: list[str], tags: Any, oid: str, kind: int, geom: Any) -> None:
        if kind == 0:
            self.poi_pt.append(geom)
            ref = len(self.poi_pt) - 1
        elif kind == 1:
            self.poi_way_coords.append(geom)
            ref = len(self.poi_way_coords) - 1
        else:
            self.poi_wkb.append(geom)
            ref = len(self.poi_wkb) - 1
        name = tags.get("name")
        tj = _tags_json(tags)
        for c in cats:
            self.poi_rows.append((c, name, oid, tj))
            self.poi_kind.append(kind)
            self.poi_ref.append(ref)


def _project_fixed(xi: np.ndarray, yi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """osmium fixed-point lon/lat (1e-7 degrees) → RD New x, y."""
    x, y = _transformer().transform(xi / 1e7, yi / 1e7)
    return np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")


def _project_geoms(geoms: np.ndarray) -> np.ndarray:
    tr = _transformer()

    def f(xy: np.ndarray) -> np.ndarray:
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, f)


def _build_graph(c: _Collector) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    refs = np.frombuffer(c.refs, dtype=np.int64) if len(c.refs) else np.zeros(0, np.int64)
    xi = np.frombuffer(c.xi, dtype=np.int32).astype(np.int64) if len(c.xi) else np.zeros(0, np.int64)
    yi = np.frombuffer(c.yi, dtype=np.int32).astype(np.int64) if len(c.yi) else np.zeros(0, np.int64)
    way_len = np.asarray(c.way_len, dtype=np.int64)
    n_ways = len(way_len)
    way_of = np.repeat(np.arange(n_ways), way_len)

    # drop consecutive duplicate node refs within a way
    keep = np.ones(len(refs), dtype=bool)
    if len(refs) > 1:
        keep[1:] = ~((refs[1:] == refs[:-1]) & (way_of[1:] == way_of[:-1]))
    refs, xi, yi, way_of = refs[keep], xi[keep], yi[keep], way_of[keep]
    valid = (xi != _UNDEF) & (yi != _UNDEF)

    n = len(refs)
    if n < 2:
        return _empty_nodes(), _empty_edges()
    # a pair (i, i+1) is a street piece when both ends are in the same way and located
    pair_ok = (way_of[1:] == way_of[:-1]) & valid[1:] & valid[:-1]

    # intersection nodes: refs that occur at least twice among located way nodes
    vrefs = refs[valid]
    uniq, inv, counts = np.unique(vrefs, return_inverse=True, return_counts=True)
    shared = np.zeros(n, dtype=bool)
    shared[valid] = counts[inv] >= 2
    # run ends: located node without a street piece on one side
    left_ok = np.zeros(n, dtype=bool)
    left_ok[1:] = pair_ok
    right_ok = np.zeros(n, dtype=bool)
    right_ok[:-1] = pair_ok
    split = valid & (shared | ~left_ok | ~right_ok)

    pidx = np.flatnonzero(pair_ok)              # pairs, by their first position i
    if len(pidx) == 0:
        return _empty_nodes(), _empty_edges()
    # a new edge starts at pair i when node i is a split node
    starts = split[pidx]
    edge_of_pair = np.cumsum(starts) - 1
    n_edges = int(edge_of_pair[-1]) + 1

    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    x[valid], y[valid] = _project_fixed(xi[valid], yi[valid])
    seg_len = np.hypot(x[pidx + 1] - x[pidx], y[pidx + 1] - y[pidx])
    length = np.bincount(edge_of_pair, weights=seg_len, minlength=n_edges)

    # an edge's pairs are contiguous in pidx (starts[0] is always True: see split above)
    first_idx = np.flatnonzero(starts)
    last_idx = np.append(first_idx[1:] - 1, len(pidx) - 1)
    start_pos = pidx[first_idx]                  # position of u
    end_pos = pidx[last_idx] + 1                 # position of v
    npts = end_pos - start_pos + 1
    offs = np.concatenate([[0], np.cumsum(npts)[:-1]])
    pos = np.repeat(start_pos - offs, npts) + np.arange(int(npts.sum()))
    geom = shapely.linestrings(np.column_stack([x[pos], y[pos]]),
                               indices=np.repeat(np.arange(n_edges), npts))

    w = way_of[start_pos]
    edges = gpd.GeoDataFrame(
        {
            "u": refs[start_pos].astype(np.int64),
            "v": refs[end_pos].astype(np.int64),
            "length_m": length.astype(np.float64),
            "highway": np.asarray(c.way_hw, dtype=object)[w],
            "walk": np.asarray(c.way_walk, dtype=bool)[w],
            "bike": np.asarray(c.way_bike, dtype=bool)[w],
            "oneway_bike": np.asarray(c.way_oneway, dtype=bool)[w],
            "osm_way_id": np.asarray(c.way_ids, dtype=np.int64)[w],
        },
        geometry=geom,
        crs=CRS_RD,
    )
    # node table from the end positions
    end_positions = np.concatenate([start_pos, end_pos])
    node_ids = refs[end_positions]
    _, first = np.unique(node_ids, return_index=True)
    sel = end_positions[first]
    nodes = pd.DataFrame({"node_id": refs[sel].astype(np.int64),
                          "x": x[sel].astype(np.float64), "y": y[sel].astype(np.float64)})
    return nodes, edges


def _nodes_for_edges(nodes: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    used = np.union1d(edges["u"].to_numpy(), edges["v"].to_numpy())
    return nodes[nodes["node_id"].isin(used)].reset_index(drop=True)


def _empty_nodes() -> pd.DataFrame:
    return pd.DataFrame({"node_id": pd.Series(dtype=np.int64), "x": pd.Series(dtype=np.float64),
                         "y": pd.Series(dtype=np.float64)})


def _empty_edges() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"u": pd.Series(dtype=np.int64), "v": pd.Series(dtype=np.int64),
         "length_m": pd.Series(dtype=np.float64), "highway": pd.Series(dtype="str"),
         "walk": pd.Series(dtype=bool), "bike": pd.Series(dtype=bool),
         "oneway_bike": pd.Series(dtype=bool), "osm_way_id": pd.Series(dtype=np.int64)},
        geometry=gpd.GeoSeries([], crs=CRS_RD), crs=CRS_RD)


def _build_pois(c: _Collector) -> gpd.GeoDataFrame:
    n = len(c.poi_rows)
    cols = ["category", "name", "osm_id", "tags_json"]
    if n == 0:
        empty = {k: pd.Series(dtype="str") for k in cols}
        empty["name"] = pd.Series(dtype=object)
        return gpd.GeoDataFrame(empty,
                                geometry=gpd.GeoSeries([], crs=CRS_RD), crs=CRS_RD)
    kinds = np.asarray(c.poi_kind)
    refs = np.asarray(c.poi_ref)
    # points
    pt_geoms = np.empty(0, dtype=object)
    if c.poi_pt:
        a = np.asarray(c.poi_pt, dtype=np.int64)
        px, py = _project_fixed(a[:, 0], a[:, 1])
        pt_geoms = shapely.points(px, py)
    # ways: closed → polygon centroid, open → middle of the line
    way_geoms = np.empty(len(c.poi_way_coords), dtype=object)
    if c.poi_way_coords:
        lens = np.array([len(xs) for xs, _, _ in c.poi_way_coords])
        allx = np.concatenate([np.asarray(xs, dtype=np.int64) for xs, _, _ in c.poi_way_coords])
        ally = np.concatenate([np.asarray(ys, dtype=np.int64) for _, ys, _ in c.poi_way_coords])
        wx, wy = _project_fixed(allx, ally)
        offs = np.concatenate([[0], np.cumsum(lens)])
        for i, (_, _, closed) in enumerate(c.poi_way_coords):
            cx, cy = wx[offs[i]:offs[i + 1]], wy[offs[i]:offs[i + 1]]
            if len(cx) == 1:
                way_geoms[i] = shapely.Point(cx[0], cy[0])
                continue
            if closed:
                poly = shapely.make_valid(shapely.Polygon(np.column_stack([cx, cy])))
                if not poly.is_empty and poly.area > 0:
                    way_geoms[i] = poly.centroid
                    continue
            line = shapely.LineString(np.column_stack([cx, cy]))
            way_geoms[i] = line.interpolate(0.5, normalized=True)
    area_geoms = np.empty(0, dtype=object)
    if c.poi_wkb:
        polys = _project_geoms(shapely.from_wkb(c.poi_wkb))
        area_geoms = shapely.centroid(shapely.make_valid(polys))
    geoms = np.empty(n, dtype=object)
    for k, src in ((0, pt_geoms), (1, way_geoms), (2, area_geoms)):
        m = kinds == k
        if m.any():
            geoms[m] = src[refs[m]]
    df = pd.DataFrame(c.poi_rows, columns=cols)
    df["name"] = df["name"].astype(object).where(df["name"].notna(), None)
    gdf = gpd.GeoDataFrame(df, geometry=geoms, crs=CRS_RD)
    return gdf[~gdf.geometry.is_empty & gdf.geometry.notna()].reset_index(drop=True)


def _polygonal(g: Any) -> Any:
    """Keep the polygonal part of a made-valid geometry (drop stray lines/points)."""
    if g is None or g.is_empty:
        return None
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for p in getattr(g, "geoms", []) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return None
    u = shapely.union_all(parts)
    return u if u.geom_type in ("Polygon", "MultiPolygon") else None


def _build_landuse(c: _Collector) -> gpd.GeoDataFrame:
    cols = ["osm_id", "key", "value", "exclusion"]
    if not c.lu_rows:
        empty = {k: pd.Series(dtype="str") for k in cols[:3]}
        empty["exclusion"] = pd.Series(dtype=bool)
        return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=CRS_RD), crs=CRS_RD)
    geoms = _project_geoms(shapely.from_wkb(c.lu_wkb))
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        geoms[bad] = [_polygonal(g) for g in shapely.make_valid(geoms[bad])]
    # one geometry type for the loader (core.landuse is MultiPolygon): promote plain polygons
    single = shapely.get_type_id(geoms) == 3
    if single.any():
        geoms[single] = [shapely.MultiPolygon([g]) for g in geoms[single]]
    df = pd.DataFrame(c.lu_rows, columns=cols)
    df["exclusion"] = df["exclusion"].astype(bool)
    gdf = gpd.GeoDataFrame(df, geometry=geoms, crs=CRS_RD)
    keep = gdf.geometry.notna() & ~gdf.geometry.is_empty
    return gdf[keep].reset_index(drop=True)


def read_osm(
    path: str | os.PathLike[str],
    categories: dict[str, list[str]] | None = None,
    area: Area | None = None,
    *,
    location_storage: str = "flex_mem",
) -> OsmData:
    """Read an OSM PBF/XML file into street graph, POIs and land-use areas (EPSG:28992).

    ``categories`` maps a POI category to ``key=value`` filters (``key=*`` for any value);
    default ``DEFAULT_CATEGORIES``. ``area`` restricts the output to what intersects its
    bbox/polygon. ``location_storage`` is osmium's node-location index (``flex_mem``; for a
    country-size file e.g. ``dense_file_array,/tmp/nodes.cache``). See the module docstring.
    """
    import osmium
    import osmium.filter

    p = Path(path)
    fmt = _sniff_format(p)
    cat_index = _parse_categories(DEFAULT_CATEGORIES if categories is None else categories)
    cat_keys = list(cat_index)
    lu_keys = sorted({k for k, _, _ in LANDUSE_RULES})

    col = _Collector(cat_index)
    NODE, WAY, AREA = osmium.osm.NODE, osmium.osm.WAY, osmium.osm.AREA
    try:
        fp = (
            osmium.FileProcessor(osmium.io.File(str(p), fmt))
            .with_locations(location_storage)
            .with_areas(_RelationFilter(cat_index))
            .with_filter(osmium.filter.EntityFilter(NODE | WAY | AREA))
            .with_filter(osmium.filter.KeyFilter("entrance", *cat_keys).enable_for(NODE))
            .with_filter(osmium.filter.KeyFilter("highway", *cat_keys).enable_for(WAY))
            .with_filter(osmium.filter.KeyFilter(*lu_keys, *cat_keys).enable_for(AREA))
        )
        for o in fp:
            if o.is_way():
                col.way(o)
            elif o.is_node():
                col.node(o)
            elif o.is_area():
                col.area(o)
    except SourceError:
        raise
    except (RuntimeError, OSError, EOFError) as exc:  # osmium's io/pbf/xml/gzip errors
        msg = str(exc).strip() or type(exc).__name__
        kind = "OSM PBF" if fmt == "pbf" else "OSM XML"
        raise SourceError(p, f"truncated or corrupt {kind} file ({msg})") from exc

    if not col.way_ids:
        what = "no streets found" if col.n_highway_ways == 0 else \
            f"no streets found ({col.n_highway_ways} highway ways, none walkable or bikeable)"
        raise SourceError(p, what)

    nodes, edges = _build_graph(col)
    xi = np.frombuffer(col.xi, dtype=np.int32)
    n_missing = int(np.count_nonzero(xi == _UNDEF))
    negative = bool(len(col.refs)) and int(np.frombuffer(col.refs, dtype=np.int64).min()) < 0
    if edges.empty:
        hint = " (negative node ids, as in unsaved JOSM edits, are not supported)" if negative else ""
        raise SourceError(p, f"no streets found: street ways have no node locations in the file{hint}")
    if n_missing:
        log.warning("%s: %d street way nodes have no location in the file (incomplete extract%s); "
                    "ways are split around them", p, n_missing,
                    " or negative node ids" if negative else "")
    pois = _build_pois(col)
    landuse = _build_landuse(col)
    if col.n_area_errors:
        log.info("%s: %d areas could not be assembled and were skipped", p, col.n_area_errors)

    mask = area.mask() if area is not None else None
    if mask is not None:
        shapely.prepare(mask)
        read = {"street edges": len(edges), "POIs": len(pois), "land-use areas": len(landuse)}
        edges = edges[shapely.intersects(mask, edges.geometry.values)].reset_index(drop=True)
        if edges.empty:
            raise SourceError(p, "no streets found inside the requested area")
        nodes = _nodes_for_edges(nodes, edges)
        pois = pois[shapely.intersects(mask, pois.geometry.values)].reset_index(drop=True)
        landuse = landuse[shapely.intersects(mask, landuse.geometry.values)].reset_index(drop=True)
        dropped = {k: n - m for (k, n), m in zip(read.items(), (len(edges), len(pois), len(landuse))) if n - m}
        if dropped:
            log.warning("%s: outside the area, dropped %s", p, ", ".join(
                f"{d:,} of {read[k]:,} {k} ({d / read[k]:.0%})" for k, d in dropped.items()))

    log.info("%s: %d graph nodes, %d edges, %d POIs, %d land-use areas",
             p, len(nodes), len(edges), len(pois), len(landuse))
    return OsmData(nodes=nodes, edges=edges, pois=pois, landuse=landuse)


__all__ = ["OsmData", "read_osm", "DEFAULT_CATEGORIES", "LANDUSE_RULES", "classify_way",
           "WALK_HIGHWAYS", "BIKE_HIGHWAYS"]
