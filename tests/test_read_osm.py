"""Tests for sources/osm_read.py on the hand-built town in tests/osm_fixtures.py (no database)."""
from __future__ import annotations

import bz2
import gzip
import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
import shapely
from osm_fixtures import (
    EXPECTED_EDGES,
    EXPECTED_GRAPH_NODES,
    town,
    write_osm_pbf,
    write_osm_xml,
)
from pyproj import Transformer
from shapely.geometry import Point, Polygon, box

from plekzoeker.area import Area
from plekzoeker.errors import SourceError
from plekzoeker.sources.osm_read import DEFAULT_CATEGORIES, OsmData, classify_way, read_osm

TR = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)


def rd(lon: float, lat: float) -> tuple[float, float]:
    x, y = TR.transform(lon, lat)
    return float(x), float(y)


@pytest.fixture(scope="module")
def town_files(tmp_path_factory) -> dict[str, object]:
    d = tmp_path_factory.mktemp("osm")
    n, w, r = town()
    xml = write_osm_xml(d / "town.osm", n, w, r)
    pbf = write_osm_pbf(d / "town.osm.pbf", n, w, r)
    return {"dir": d, "xml": xml, "pbf": pbf}


@pytest.fixture(scope="module")
def data(town_files) -> OsmData:
    return read_osm(town_files["pbf"])


def edge(data: OsmData, way: int, u: int | None = None) -> pd.Series:
    e = data.edges[data.edges.osm_way_id == way]
    if u is not None:
        e = e[e.u == u]
    assert len(e) == 1, e
    return e.iloc[0]


# ---------------------------------------------------------------- street graph

def test_graph_counts_exactly_as_designed(data):
    assert len(data.edges) == 7
    assert len(data.nodes) == 6
    got = {(int(r.osm_way_id), int(r.u), int(r.v)) for r in data.edges.itertuples()}
    assert got == EXPECTED_EDGES
    assert set(data.nodes.node_id) == EXPECTED_GRAPH_NODES
    assert data.edges.walk.sum() == 7
    assert data.edges.bike.sum() == 6


def test_columns_and_types(data):
    e, n = data.edges, data.nodes
    assert list(n.columns) == ["node_id", "x", "y"]
    assert n.node_id.dtype == np.int64 and n.x.dtype == np.float64 and n.y.dtype == np.float64
    assert list(e.columns) == ["u", "v", "length_m", "highway", "walk", "bike", "oneway_bike",
                               "osm_way_id", "geometry"]
    for col, dt in [("u", np.int64), ("v", np.int64), ("length_m", np.float64),
                    ("osm_way_id", np.int64), ("walk", bool), ("bike", bool), ("oneway_bike", bool)]:
        assert e[col].dtype == dt, col
    assert e.crs.to_epsg() == 28992
    assert set(e.geometry.geom_type) == {"LineString"}
    assert list(data.pois.columns) == ["category", "name", "osm_id", "tags_json", "geometry"]
    assert data.pois.crs.to_epsg() == 28992
    assert list(data.landuse.columns) == ["osm_id", "key", "value", "exclusion", "geometry"]
    assert data.landuse.crs.to_epsg() == 28992


def test_nodes_are_projected_with_pyproj(data):
    n, _, _ = town()
    for row in data.nodes.itertuples():
        x, y = rd(n[row.node_id][0], n[row.node_id][1])
        assert row.x == pytest.approx(x, abs=1e-6) and row.y == pytest.approx(y, abs=1e-6)


def test_segment_lengths_match_independent_pyproj_distance(data):
    n, w, _ = town()
    for row in data.edges.itertuples():
        refs = w[row.osm_way_id][0]
        if refs.index(row.u) > refs.index(row.v):
            refs = refs[::-1]  # reversed (oneway=-1) edge
        piece = refs[refs.index(row.u): refs.index(row.v) + 1]
        pts = [rd(n[i][0], n[i][1]) for i in piece]
        expected = sum(np.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(pts, pts[1:]))
        assert row.length_m == pytest.approx(expected, abs=0.01), row
        assert row.geometry.length == pytest.approx(expected, abs=0.01)
        assert len(row.geometry.coords) == len(piece)
    # the through street 100 is split at the crossroads node 1 and keeps node 6 as a vertex
    e = edge(data, 100, u=1)
    assert e.v == 3 and len(e.geometry.coords) == 3


def test_oneway_handling_for_bike(data):
    assert bool(edge(data, 101).oneway_bike) is True          # oneway=yes
    e107 = edge(data, 107)                                     # oneway=-1: reversed geometry
    assert (e107.u, e107.v, bool(e107.oneway_bike)) == (3, 13, True)
    n, _, _ = town()
    assert e107.geometry.coords[0] == pytest.approx(rd(*n[3][:2]))
    assert bool(edge(data, 106).oneway_bike) is False         # oneway:bicycle=no
    assert not data.edges[data.edges.osm_way_id == 100].oneway_bike.any()


def test_footway_walk_only(data):
    e = edge(data, 103)
    assert bool(e.walk) is True and bool(e.bike) is False and bool(e.oneway_bike) is False


def test_motorway_and_private_road_excluded(data):
    ways = set(data.edges.osm_way_id)
    assert 104 not in ways and 105 not in ways
    # node 11 is shared with the motorway only: it must not split way 102
    assert 11 not in set(data.nodes.node_id) and 12 not in set(data.nodes.node_id)
    assert len(data.edges[data.edges.osm_way_id == 102]) == 1


@pytest.mark.parametrize(
    "tags, expected",
    [
        ({"highway": "motorway"}, (False, False, 0)),
        ({"highway": "motorway_link", "foot": "yes"}, (False, False, 0)),
        ({"highway": "trunk"}, (False, False, 0)),
        ({"highway": "trunk", "sidewalk": "both"}, (True, False, 0)),
        ({"highway": "trunk", "bicycle": "designated"}, (False, True, 0)),
        ({"highway": "footway"}, (True, False, 0)),
        ({"highway": "footway", "bicycle": "yes"}, (True, True, 0)),
        ({"highway": "steps"}, (True, False, 0)),
        ({"highway": "pedestrian", "bicycle": "designated"}, (True, True, 0)),
        ({"highway": "cycleway", "oneway": "yes"}, (True, True, 1)),
        ({"highway": "cycleway", "foot": "no"}, (False, True, 0)),
        ({"highway": "path", "bicycle": "no"}, (True, False, 0)),
        ({"highway": "residential", "access": "private"}, (False, False, 0)),
        ({"highway": "service", "service": "private"}, (False, False, 0)),
        ({"highway": "service", "access": "no", "bicycle": "designated"}, (False, True, 0)),
        ({"highway": "residential", "access": "no", "foot": "yes"}, (True, False, 0)),
        ({"highway": "residential", "junction": "roundabout"}, (True, True, 1)),
        ({"highway": "residential", "oneway": "yes", "cycleway": "opposite_lane"}, (True, True, 0)),
        ({"highway": "residential", "oneway": "-1"}, (True, True, -1)),
        ({"highway": "residential", "oneway": "true"}, (True, True, 1)),
        ({"highway": "residential", "oneway:bicycle": "yes"}, (True, True, 1)),
        ({"highway": "residential", "sidewalk": "separate"}, (False, True, 0)),
        ({"highway": "residential", "sidewalk:left": "separate", "sidewalk:right": "yes"},
         (True, True, 0)),
        ({"highway": "pedestrian", "area": "yes"}, (False, False, 0)),
        ({"highway": "construction"}, (False, False, 0)),
        ({"highway": "bridleway"}, (False, False, 0)),
        # busways: closed to walking and cycling unless the tags open them (Delft's Michiel de Ruyterweg)
        ({"highway": "busway"}, (False, False, 0)),
        ({"highway": "busway", "bus": "yes", "oneway": "yes"}, (False, False, 0)),
        ({"highway": "busway", "foot": "yes", "sidewalk": "right", "lanes": "2"}, (True, False, 0)),
        ({"highway": "busway", "sidewalk": "left", "oneway": "yes"}, (True, False, 0)),
        ({"highway": "busway", "sidewalk": "separate"}, (False, False, 0)),
        ({"highway": "busway", "sidewalk": "no"}, (False, False, 0)),
        ({"highway": "busway", "bicycle": "yes", "oneway": "yes"}, (False, True, 1)),
        ({"building": "yes"}, (False, False, 0)),
    ],
)
def test_classify_way(tags, expected):
    assert classify_way(tags) == expected


def test_missing_node_locations_split_the_way(tmp_path):
    nodes = {70: (5.80, 52.10, {}), 71: (5.801, 52.10, {}), 72: (5.803, 52.10, {}),
             73: (5.804, 52.10, {})}
    ways = {500: ([70, 71, 999, 72, 73], {"highway": "residential"})}  # node 999 not in file
    d = read_osm(write_osm_xml(tmp_path / "gap.osm", nodes, ways), categories={})
    assert {(int(r.u), int(r.v)) for r in d.edges.itertuples()} == {(70, 71), (72, 73)}
    assert set(d.nodes.node_id) == {70, 71, 72, 73}
    assert d.pois.empty and d.landuse.empty


def test_closed_street_and_repeated_node(tmp_path):
    # a ring road (first node == last node) crossed by a street at node 81
    nodes = {80: (5.80, 52.10, {}), 81: (5.801, 52.10, {}), 82: (5.801, 52.101, {}),
             83: (5.80, 52.101, {}), 84: (5.802, 52.10, {})}
    ways = {600: ([80, 81, 82, 83, 80], {"highway": "residential"}),
            601: ([81, 81, 84], {"highway": "service"})}  # duplicate consecutive ref
    d = read_osm(write_osm_xml(tmp_path / "ring.osm", nodes, ways))
    got = sorted((int(r.osm_way_id), int(r.u), int(r.v)) for r in d.edges.itertuples())
    assert got == [(600, 80, 81), (600, 81, 80), (601, 81, 84)]
    assert (d.edges.length_m > 0).all()


# ---------------------------------------------------------------- POIs

def test_pois_categorised(data):
    p = data.pois
    got = sorted(zip(p.osm_id, p.category))
    assert got == sorted([
        ("n20", "stop"), ("n21", "train_station"), ("n22", "supermarket"), ("n22", "pharmacy"),
        ("n24", "gp"), ("n24", "pharmacy"), ("w200", "supermarket"), ("w201", "primary_school"),
        ("r300", "park"),
    ])
    assert "n23" not in set(p.osm_id)  # a bench is no category
    assert set(p.geometry.geom_type) == {"Point"}
    row = p[(p.osm_id == "n22") & (p.category == "pharmacy")].iloc[0]
    assert row["name"] == "Apotheek & Winkel <Centrum>"
    assert json.loads(row.tags_json) == {"shop": "convenience", "amenity": "pharmacy",
                                         "name": "Apotheek & Winkel <Centrum>"}
    n, _, _ = town()
    assert row.geometry.x == pytest.approx(rd(*n[22][:2])[0], abs=1e-6)


def test_poi_way_centroid_entrance_and_multipolygon(data):
    n, w, _ = town()
    p = data.pois.set_index(["osm_id", "category"])
    # closed way → centroid of its polygon in RD New
    poly = Polygon([rd(*n[i][:2]) for i in w[200][0]])
    assert p.loc[("w200", "supermarket")].geometry.distance(poly.centroid) < 0.01
    # building with an entrance=main node → the entrance
    assert p.loc[("w201", "primary_school")].geometry.distance(Point(rd(*n[34][:2]))) < 0.01
    # multipolygon relation with a hole → centroid of the assembled polygon
    outer = [rd(*n[i][:2]) for i in (40, 41, 42, 43, 40)]
    inner = [rd(*n[i][:2]) for i in (44, 45, 46, 47, 44)]
    park = Polygon(outer, [inner])
    assert p.loc[("r300", "park")].geometry.distance(park.centroid) < 0.01
    assert p.loc[("r300", "park")]["name"] == "Stadspark"


def test_custom_categories(town_files):
    d = read_osm(town_files["xml"], categories={"bench": ["amenity=bench"], "named_rail": ["railway=*"]})
    assert sorted(zip(d.pois.osm_id, d.pois.category)) == [("n21", "named_rail"), ("n23", "bench")]
    assert d.pois.loc[d.pois.osm_id == "n23", "name"].iloc[0] is None


def test_default_categories_cover_domain_tags():
    assert DEFAULT_CATEGORIES["stop"] == ["highway=bus_stop", "public_transport=platform",
                                          "public_transport=stop_position", "railway=tram_stop",
                                          "station=subway", "station=light_rail"]
    from plekzoeker.settings import load_config
    from plekzoeker.sources.osm import categories_from_config
    assert categories_from_config(load_config()) == DEFAULT_CATEGORIES   # the reader's defaults are the config's
    assert set(DEFAULT_CATEGORIES) == {"stop", "train_station", "supermarket", "gp", "pharmacy",
                                       "primary_school", "social_services", "park"}


# ---------------------------------------------------------------- land use

def test_landuse_polygons(data):
    lu = data.landuse.set_index("osm_id")
    assert sorted(zip(lu.index, lu.key, lu.value)) == sorted([
        ("w203", "natural", "water"), ("w204", "water", "canal"), ("w205", "landuse", "cemetery"),
        ("r301", "boundary", "protected_area"), ("w207", "landuse", "residential"), ("r300", "leisure", "park"),
    ])
    assert lu.loc["w207", "exclusion"] == False  # noqa: E712 - context class only
    assert lu.drop(index="w207").exclusion.all()  # the park too: a hard plot exclusion (and map.html green)
    assert set(lu.geometry.geom_type) == {"MultiPolygon"}
    assert lu.geometry.is_valid.all()
    n, w, _ = town()
    cemetery = Polygon([rd(*n[i][:2]) for i in w[205][0]])
    assert lu.loc["w205"].geometry.symmetric_difference(cemetery).area < 0.01
    assert lu.loc["w205"].geometry.area == pytest.approx(cemetery.area, rel=1e-9)
    # the park relation (leisure=park) is a POI and a land-cover area (with its pond as a hole); the
    # untagged outer way is neither
    assert "w202" not in lu.index
    assert ("r300", "park") in set(data.pois.set_index(["osm_id", "category"]).index)
    assert lu.loc["r300"].geometry.geoms[0].interiors


def test_broken_area_skipped_and_open_way_poi(tmp_path):
    nodes = {1: (5.8, 52.1, {}), 2: (5.801, 52.1, {}), 3: (5.8, 52.101, {}), 4: (5.801, 52.101, {}),
             5: (5.79, 52.1, {}), 6: (5.79, 52.101, {})}
    ways = {10: ([1, 2, 3, 4, 1], {"landuse": "cemetery"}),      # bow tie: osmium refuses it
            11: ([5, 6], {"highway": "residential"}),
            12: ([1, 2, 4, 1], {"landuse": "military"}),
            13: ([1, 2, 4, 3], {"leisure": "park"})}             # open way → middle of the line
    d = read_osm(write_osm_xml(tmp_path / "broken.osm", nodes, ways))
    assert list(d.landuse.osm_id) == ["w12"] and d.landuse.geometry.is_valid.all()
    line = shapely.LineString([rd(*nodes[i][:2]) for i in (1, 2, 4, 3)])
    assert d.pois.geometry.iloc[0].distance(line.interpolate(0.5, normalized=True)) < 0.01


# ---------------------------------------------------------------- formats

def _assert_same(a: OsmData, b: OsmData) -> None:
    for name, keys in [("nodes", ["node_id"]), ("edges", ["osm_way_id", "u", "v"]),
                       ("pois", ["osm_id", "category"]), ("landuse", ["osm_id"])]:
        da = getattr(a, name).sort_values(keys).reset_index(drop=True)
        db = getattr(b, name).sort_values(keys).reset_index(drop=True)
        if "geometry" in da.columns:
            assert shapely.equals_exact(da.geometry.values, db.geometry.values, tolerance=1e-6).all()
            da, db = pd.DataFrame(da.drop(columns="geometry")), pd.DataFrame(db.drop(columns="geometry"))
        pd.testing.assert_frame_equal(da, db)


def test_pbf_and_xml_identical(town_files, data):
    _assert_same(data, read_osm(town_files["xml"]))


def test_compressed_xml_and_odd_suffix(town_files, data, tmp_path):
    raw = town_files["xml"].read_bytes()
    gz = tmp_path / "town.osm.gz"
    gz.write_bytes(gzip.compress(raw))
    bz = tmp_path / "town.osm.bz2"
    bz.write_bytes(bz2.compress(raw))
    odd = tmp_path / "download.dat"  # format is sniffed, not taken from the suffix
    shutil.copy(town_files["pbf"], odd)
    for f in (gz, bz, odd):
        _assert_same(data, read_osm(f))


# ---------------------------------------------------------------- area filter

def test_area_bbox_filter(town_files, data):
    bbox = (183330.0, 456800.0, 183400.0, 457000.0)
    d = read_osm(town_files["pbf"], area=Area(bbox=bbox))
    got = {(int(r.osm_way_id), int(r.u), int(r.v)) for r in d.edges.itertuples()}
    assert got == {(100, 1, 3), (103, 3, 4), (106, 5, 13), (107, 3, 13)}
    expected = {(int(r.osm_way_id), int(r.u), int(r.v)) for r in data.edges.itertuples()
                if r.geometry.intersects(box(*bbox))}
    assert got == expected
    assert set(d.nodes.node_id) == {1, 3, 4, 5, 13}
    assert d.pois.empty and d.landuse.empty
    # a polygon mask works the same way
    d2 = read_osm(town_files["pbf"], area=Area(polygon=box(*bbox)))
    assert {(int(r.osm_way_id), int(r.u), int(r.v)) for r in d2.edges.itertuples()} == got
    # a municipality-only area filters nothing
    _assert_same(data, read_osm(town_files["pbf"], area=Area(municipality="GM0228")))


def test_area_outside_data_raises(town_files):
    with pytest.raises(SourceError, match="no streets found"):
        read_osm(town_files["pbf"], area=Area(bbox=(0, 300000, 1000, 301000)))


# ---------------------------------------------------------------- bad input

def test_bad_inputs_raise_source_error(town_files, tmp_path):
    empty = tmp_path / "empty.osm.pbf"
    empty.write_bytes(b"")
    pbf_bytes = town_files["pbf"].read_bytes()
    truncated = tmp_path / "truncated.osm.pbf"
    truncated.write_bytes(pbf_bytes[: len(pbf_bytes) // 2])
    text = tmp_path / "notes.osm.pbf"
    text.write_text("this is not OSM data\n")
    xml_cut = tmp_path / "cut.osm"
    xml_bytes = town_files["xml"].read_bytes()
    xml_cut.write_bytes(xml_bytes[: len(xml_bytes) // 2])
    corrupt = tmp_path / "corrupt.osm.pbf"
    mid = len(pbf_bytes) // 2
    corrupt.write_bytes(pbf_bytes[:mid] + b"\x00" * 40 + pbf_bytes[mid + 40:])
    cases = {
        tmp_path / "missing.osm.pbf": "not found",
        empty: "empty",
        truncated: "truncated or corrupt",
        text: "not an OSM file",
        xml_cut: "truncated or corrupt",
        corrupt: "truncated or corrupt",
    }
    for path, problem in cases.items():
        with pytest.raises(SourceError) as exc:
            read_osm(path)
        assert exc.value.path == str(path)
        assert problem in exc.value.problem, (path, exc.value.problem)
        assert str(path) in str(exc.value)


def test_no_streets_raises(tmp_path):
    nodes = {1: (5.8, 52.1, {"shop": "supermarket"}), 2: (5.801, 52.1, {})}
    ways = {10: ([1, 2], {"highway": "motorway"})}
    with pytest.raises(SourceError, match="no streets found"):
        read_osm(write_osm_xml(tmp_path / "motorway.osm", nodes, ways))
    with pytest.raises(SourceError, match="no streets found"):
        read_osm(write_osm_pbf(tmp_path / "nothing.osm.pbf", {1: (5.8, 52.1, {})}, {}))


# ---------------------------------------------------------------- osmnx cross-check

def _osmnx_filter(network_type: str):
    """osmnx's own Overpass way filter for a network type, as a predicate on a tag dict."""
    from osmnx import _overpass

    text = _overpass._get_network_filter(network_type)
    clauses = re.findall(r'\["([^"]+)"(?:(!?~)"([^"]*)")?\]', text)
    assert clauses, text

    def ok(tags: dict[str, str]) -> bool:
        for key, op, pattern in clauses:
            value = tags.get(key)
            if not op:
                if value is None:
                    return False
            elif op == "~":
                if value is None or not re.search(pattern, value):
                    return False
            elif value is not None and re.search(pattern, value):  # "!~"
                return False
        return True

    return ok


def test_walk_graph_matches_osmnx(town_files, data):
    """Same walk ways and node pairs as osmnx on the same XML; our nodes = osmnx's simplified
    end points plus the ends of every way.

    Known, deliberate differences (not present in the fixture): we walk on cycleways (Dutch
    rule: pedestrians may use the fietspad when there is no footpath) and on ways with
    access=no + foot=yes; osmnx walks on trunk roads without sidewalks and on bridleways;
    osmnx's simplification merges two ways that meet end to end, we keep a node there.
    """
    import networkx as nx
    import osmnx as ox

    _, ways, _ = town()
    osmnx_walk = {wid for wid, (_, tags) in ways.items() if _osmnx_filter("walk")(tags)}
    ours = set(data.edges.loc[data.edges.walk, "osm_way_id"])
    assert ours == osmnx_walk == {100, 101, 102, 103, 106, 107}
    osmnx_bike = {wid for wid, (_, tags) in ways.items() if _osmnx_filter("bike")(tags)}
    assert set(data.edges.loc[data.edges.bike, "osm_way_id"]) == osmnx_bike

    G = ox.graph_from_xml(town_files["xml"], simplify=False, retain_all=True, bidirectional=True)
    sub = G.edge_subgraph([(u, v, k) for u, v, k, d in G.edges(keys=True, data=True)
                           if d["osmid"] in osmnx_walk]).copy()
    osmnx_pairs = {frozenset((u, v)) for u, v in sub.edges()}
    # our consecutive node pairs, recovered from the vertices of the edge geometries
    n, _, _ = town()
    by_xy = {tuple(np.round(rd(lon, lat), 6)): nid for nid, (lon, lat, _) in n.items()}
    our_pairs = set()
    n_pairs = 0
    for geom in data.edges.loc[data.edges.walk, "geometry"]:
        ids = [by_xy[tuple(np.round(c, 6))] for c in geom.coords]
        n_pairs += len(ids) - 1
        our_pairs |= {frozenset(p) for p in zip(ids, ids[1:])}
    assert our_pairs == osmnx_pairs
    assert n_pairs == len(osmnx_pairs) == 12
    # osmnx lengths are great-circle on a sphere (R = 6,371,009 m); at 52° N that differs from
    # the ellipsoid (and RD New) by ~0.1-0.2 % depending on direction
    osmnx_len = sum(d["length"] for _, _, d in sub.edges(data=True)) / 2
    assert data.edges.loc[data.edges.walk, "length_m"].sum() == pytest.approx(osmnx_len, rel=5e-3)

    simple = ox.simplify_graph(sub)
    ends = {refs[i] for wid, (refs, _) in ways.items() if wid in osmnx_walk for i in (0, -1)}
    assert set(data.nodes.node_id) == set(simple.nodes) | ends
    assert nx.number_weakly_connected_components(sub) == 1


def test_metro_and_light_rail_stations_are_stops_not_train_stations(tmp_path):
    """railway=station with station=subway|light_rail (or subway=yes) is a transit stop; a plain
    railway=station or railway=halt stays a train station (Amsterdam's metro stations were counted as NS)."""
    from plekzoeker.settings import load_config
    from plekzoeker.sources.osm import categories_from_config

    nodes = {1: (4.9, 52.37, {}), 2: (4.901, 52.37, {}),
             3: (4.9, 52.371, {"railway": "station", "name": "Centraal", "train": "yes"}),
             4: (4.9, 52.372, {"railway": "station", "station": "subway", "name": "Nieuwmarkt"}),
             5: (4.9, 52.373, {"railway": "station", "station": "light_rail", "name": "Amstelveen"}),
             6: (4.9, 52.374, {"railway": "halt", "subway": "yes", "name": "Halte"}),
             7: (4.9, 52.375, {"railway": "halt", "name": "Delft Campus"})}
    ways = {10: ([1, 2], {"highway": "residential"})}
    path = write_osm_xml(tmp_path / "stations.osm", nodes, ways)
    for cats in (None, categories_from_config(load_config())):      # the reader's defaults and the config
        p = read_osm(path, categories=cats).pois
        got = {(n, c) for n, c in zip(p["name"], p["category"])}
        assert got == {("Centraal", "train_station"), ("Delft Campus", "train_station"), ("Nieuwmarkt", "stop"),
                       ("Amstelveen", "stop")}, cats      # "Halte" (a subway=yes halt): neither
