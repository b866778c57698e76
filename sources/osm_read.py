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
``ways`` (``osm_ways_read.OsmWays``)
    ``power_lines`` and ``buildings`` (with ``building:levels`` and/or ``height``) for
    core.power_line and core.osm_building, read in the same pass; see sources/osm_ways_read.py.

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
``flex_mem`` by default: a dense array for the dense ids of an extract, sparse otherwise; for a
country-size file pass a file-backed store, see ``read_osm``) and ``with_areas()`` (osmium reads the
relations first, then the whole file once). C++ filters (``KeyFilter`` per object type,
``EntityFilter``) drop untagged nodes, irrelevant ways and relations before Python sees them, so
there is no Python work per file node, per address node (``addr:*``/``ref:bag`` are not among the
node keys) or per plain building way (``building``/``ref:bag``/``start_date`` are not among the way
keys); Python touches only tagged nodes with a relevant key, relevant ways (copying the node ids and
integer locations of street ways into ``array.array`` buffers; power lines and buildings with
``building:levels``/``height`` go to ``osm_ways_read.WaysCollector`` in the same pass, so the file
is read once) and relevant areas. Splitting, projection (one vectorised pyproj call,
``always_xy=True``), lengths and LineString construction are numpy/shapely vectorised.

One cost stays in C++ for every building: ``FileProcessor`` puts osmium's area handler *before*
the filter chain in the second pass (``with_areas(filters)`` filters only the first pass's
relations, and pyosmium has no negated key filter to keep building ways from the assembler without
also starving multipolygon relations of their untagged member ways), so each closed building way
is assembled into an area and then dropped by the ``AREA`` ``KeyFilter``, ~1 µs a building.

Measured on the 2-core shared dev machine with the demo generator's Dutch-like town at 1 M units
(``benchmarks/bench_ingest.py``; 12.6 MB PBF, 1.72 M nodes of which 1.0 M address nodes and 0.70 M
building corners, 199 k ways of which 190 k buildings (33 k with ``building:levels``) and 7.8 k
streets): ``read_osm`` takes 1.5-2.1 s wall on a quiet box and its process peaks at ~245 MB RSS
(~190 MB of that is the imported libraries). Of that, osmium's C++ pass is ≈0.8 s (decoding alone
0.43 s; locations, filters ≈0.15 s; relations pass plus assembling the 190 k building areas
≈0.22 s); per-way Python ≈0.5-0.7 s, the remainder (mostly the 33 k buildings with levels: TagList lookups, ~0.25 µs
each, and copying their node locations); numpy/pyproj/shapely post-processing ≈0.2 s.
(Converting a TagList to a dict is ~10 µs per object, so rules use ``tags.get``.)

Errors: a missing, empty, truncated or corrupt file, or one that is not OSM data, raises
``SourceError(path, problem)``; so does a file without any street of the graph ("no streets
found"). Node ids must be positive (osmium's location store requires it).

Modules: this one is the contract, the file check and the one pass with osmium (the collector);
``osm_rules`` holds the tag rules (walk/bike/direction, POI categories, land use), ``osm_build``
turns what was collected into the graph, POI and land-use tables, ``osm_tags`` the land-use table
the config validation shares.
"""
from __future__ import annotations

import array
import bz2
import gzip
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from plekzoeker.area import Area
from plekzoeker.errors import SourceError
from plekzoeker.sources.osm_build import UNDEF, graph_frames, landuse_frame, nodes_for_edges, poi_frame
from plekzoeker.sources.osm_rules import (
    BIKE_HIGHWAYS,
    ENTRANCE_IGNORE,
    WALK_HIGHWAYS,
    classify_way,
    match_categories,
    match_landuse,
    parse_categories,
    tags_json,
)
from plekzoeker.sources.osm_tags import LANDUSE_RULES
from plekzoeker.sources.osm_ways_read import WAY_KEYS, OsmWays, WaysCollector, log_ways

log = logging.getLogger(__name__)


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




@dataclass
class OsmData:
    nodes: pd.DataFrame
    edges: gpd.GeoDataFrame
    pois: gpd.GeoDataFrame
    landuse: gpd.GeoDataFrame
    ways: OsmWays  # power lines and buildings with levels/height (sources/osm_ways_read.py), same pass




# --------------------------------------------------------------------------------------------
# file checks
# --------------------------------------------------------------------------------------------

def sniff_format(path: Path) -> str:
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



class _RelationFilter:
    """First-pass filter for osmium's area assembly: only relevant relations become areas."""

    def __init__(self, cat_index: dict[str, list[tuple[str | None, str]]]):
        self.cat_index = cat_index

    def relation(self, r: Any) -> bool:  # True = drop
        tags = r.tags
        return match_landuse(tags) is None and not match_categories(tags, self.cat_index)


class Collector:
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
        self.extra = WaysCollector()  # power lines, building levels (sources/osm_ways_read.py)

    # ---- nodes
    def node(self, o: Any) -> None:
        tags = o.tags  # TagList.get is cheap; converting to a dict costs ~10 µs per object
        ent = tags.get("entrance")
        loc = o.location
        if not loc.valid():
            return
        if ent is not None and ent not in ENTRANCE_IGNORE:
            self.entrances[o.id] = (0 if ent == "main" else 1, loc.x, loc.y)
        cats = match_categories(tags, self.cat_index)
        if cats:
            self._add_poi(cats, tags, f"n{o.id}", 0, (loc.x, loc.y))

    # ---- ways
    def way(self, o: Any) -> None:
        tags = o.tags
        if "power" in tags or "building:levels" in tags or "height" in tags:
            self.extra.way(o)
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
        cats = match_categories(tags, self.cat_index)
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
        lu = match_landuse(tags)
        from_way = o.from_way()
        cats = [] if from_way else match_categories(tags, self.cat_index)
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
        tj = tags_json(tags)
        for c in cats:
            self.poi_rows.append((c, name, oid, tj))
            self.poi_kind.append(kind)
            self.poi_ref.append(ref)


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
    fmt = sniff_format(p)
    cat_index = parse_categories(DEFAULT_CATEGORIES if categories is None else categories)
    cat_keys = list(cat_index)
    lu_keys = sorted({k for k, _, _ in LANDUSE_RULES})

    col = Collector(cat_index)
    NODE, WAY, AREA = osmium.osm.NODE, osmium.osm.WAY, osmium.osm.AREA
    try:
        fp = (
            osmium.FileProcessor(osmium.io.File(str(p), fmt))
            .with_locations(location_storage)
            .with_areas(_RelationFilter(cat_index))
            .with_filter(osmium.filter.EntityFilter(NODE | WAY | AREA))
            .with_filter(osmium.filter.KeyFilter("entrance", *cat_keys).enable_for(NODE))
            .with_filter(osmium.filter.KeyFilter("highway", *cat_keys, *WAY_KEYS).enable_for(WAY))
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

    nodes, edges = graph_frames(col)
    xi = np.frombuffer(col.xi, dtype=np.int32)
    n_missing = int(np.count_nonzero(xi == UNDEF))
    negative = bool(len(col.refs)) and int(np.frombuffer(col.refs, dtype=np.int64).min()) < 0
    if edges.empty:
        hint = " (negative node ids, as in unsaved JOSM edits, are not supported)" if negative else ""
        raise SourceError(p, f"no streets found: street ways have no node locations in the file{hint}")
    if n_missing:
        log.warning("%s: %d street way nodes have no location in the file (incomplete extract%s); "
                    "ways are split around them", p, n_missing,
                    " or negative node ids" if negative else "")
    pois = poi_frame(col)
    landuse = landuse_frame(col)
    if col.n_area_errors:
        log.info("%s: %d areas could not be assembled and were skipped", p, col.n_area_errors)

    ways = col.extra.result(area)
    mask = area.mask() if area is not None else None
    if mask is not None:
        shapely.prepare(mask)
        read = {"street edges": len(edges), "POIs": len(pois), "land-use areas": len(landuse)}
        edges = edges[shapely.intersects(mask, edges.geometry.values)].reset_index(drop=True)
        if edges.empty:
            raise SourceError(p, "no streets found inside the requested area")
        nodes = nodes_for_edges(nodes, edges)
        pois = pois[shapely.intersects(mask, pois.geometry.values)].reset_index(drop=True)
        landuse = landuse[shapely.intersects(mask, landuse.geometry.values)].reset_index(drop=True)
        dropped = {k: n - m for (k, n), m in zip(read.items(), (len(edges), len(pois), len(landuse))) if n - m}
        if dropped:
            log.warning("%s: outside the area, dropped %s", p, ", ".join(
                f"{d:,} of {read[k]:,} {k} ({d / read[k]:.0%})" for k, d in dropped.items()))

    log.info("%s: %d graph nodes, %d edges, %d POIs, %d land-use areas",
             p, len(nodes), len(edges), len(pois), len(landuse))
    log_ways(p, ways)
    return OsmData(nodes=nodes, edges=edges, pois=pois, landuse=landuse, ways=ways)


__all__ = ["OsmData", "read_osm", "DEFAULT_CATEGORIES", "LANDUSE_RULES", "classify_way",
           "WALK_HIGHWAYS", "BIKE_HIGHWAYS"]
