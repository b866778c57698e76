"""Hand-built OSM test data (near Amersfoort/Ede, lon ~5.8, lat ~52.1) and writers for XML/PBF.

The town (see ``town()``), street part::

        4 ───(footway 103, via 8)─── 3 (see below)
        │ (101 residential oneway=yes, via 7)
  2 ─── 1 ──(100 residential, via 6)── 3 ──(105 service access=private)── 12
        │ (102 tertiary, via 11)       │ (107 residential oneway=-1, via 14: bikes go 3 → 13)
        5 ──(106 residential oneway=yes + oneway:bicycle=no)── 13
  motorway 104: 9 ─ 10 ─ 11 (shares node 11 with way 102: must not split it)

Expected graph: nodes {1, 2, 3, 4, 5, 13}; edges (way, u, v)::

  (100, 2, 1) (100, 1, 3) (101, 1, 4) (102, 5, 1) (103, 3, 4) (106, 5, 13) (107, 3, 13)

all walkable, all but 103 (footway) bikeable; oneway for bikes: 101 and 107.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import quoteattr

Nodes = dict[int, tuple[float, float, dict[str, str]]]          # id -> (lon, lat, tags)
Ways = dict[int, tuple[list[int], dict[str, str]]]              # id -> (node ids, tags)
Relations = dict[int, tuple[list[tuple[str, int, str]], dict[str, str]]]  # id -> (members, tags)


def town() -> tuple[Nodes, Ways, Relations]:
    n: Nodes = {
        1: (5.8000, 52.1000, {}),
        2: (5.7990, 52.1000, {}),
        3: (5.8010, 52.1000, {}),
        4: (5.8000, 52.1010, {}),
        5: (5.8000, 52.0990, {}),
        6: (5.8005, 52.10002, {}),
        7: (5.80002, 52.1005, {}),
        8: (5.8010, 52.1010, {}),
        9: (5.7970, 52.0995, {}),
        10: (5.7985, 52.0995, {}),
        11: (5.8000, 52.0995, {}),
        12: (5.8020, 52.1000, {}),
        13: (5.8010, 52.0990, {}),
        14: (5.8012, 52.0995, {}),
        # POI nodes
        20: (5.8003, 52.1003, {"highway": "bus_stop", "name": "Kerkplein"}),
        21: (5.7992, 52.1005, {"railway": "halt", "name": "Station Testdorp"}),
        22: (5.8006, 52.0996, {"shop": "convenience", "amenity": "pharmacy",
                               "name": "Apotheek & Winkel <Centrum>"}),
        23: (5.8004, 52.0994, {"amenity": "bench"}),
        24: (5.7995, 52.1004, {"amenity": "doctors;pharmacy", "name": "Gezondheidscentrum"}),
        # supermarket building
        30: (5.8020, 52.1010, {}), 31: (5.8024, 52.1010, {}),
        32: (5.8024, 52.1013, {}), 33: (5.8020, 52.1013, {}),
        # school building with a main entrance node (34) on its outline
        34: (5.79825, 52.1010, {"entrance": "main"}),
        35: (5.7980, 52.1010, {}), 36: (5.7985, 52.1010, {}),
        37: (5.7985, 52.1014, {}), 38: (5.7980, 52.1014, {}),
        # park multipolygon: outer 40-43, inner pond 44-47
        40: (5.7990, 52.1020, {}), 41: (5.8010, 52.1020, {}),
        42: (5.8010, 52.1030, {}), 43: (5.7990, 52.1030, {}),
        44: (5.7995, 52.1023, {}), 45: (5.8000, 52.1023, {}),
        46: (5.8000, 52.1027, {}), 47: (5.7995, 52.1027, {}),
        # canal piece
        50: (5.7960, 52.1000, {}), 51: (5.7965, 52.1000, {}),
        52: (5.7965, 52.1010, {}), 53: (5.7960, 52.1010, {}),
        # cemetery
        54: (5.8030, 52.0980, {}), 55: (5.8040, 52.0980, {}),
        56: (5.8040, 52.0988, {}), 57: (5.8030, 52.0988, {}),
        # protected area (boundary relation)
        58: (5.8050, 52.1000, {}), 59: (5.8060, 52.1000, {}),
        60: (5.8060, 52.1010, {}), 61: (5.8050, 52.1010, {}),
        # residential landuse
        62: (5.7960, 52.0980, {}), 63: (5.7970, 52.0980, {}),
        64: (5.7970, 52.0990, {}), 65: (5.7960, 52.0990, {}),
    }
    w: Ways = {
        100: ([2, 1, 6, 3], {"highway": "residential", "name": "Hoofdstraat"}),
        101: ([1, 7, 4], {"highway": "residential", "oneway": "yes", "name": "Kerkstraat"}),
        102: ([5, 11, 1], {"highway": "tertiary", "name": "Dorpsweg"}),
        103: ([3, 8, 4], {"highway": "footway"}),
        104: ([9, 10, 11], {"highway": "motorway", "ref": "A12"}),
        105: ([3, 12], {"highway": "service", "access": "private"}),
        106: ([5, 13], {"highway": "residential", "oneway": "yes", "oneway:bicycle": "no"}),
        107: ([13, 14, 3], {"highway": "residential", "oneway": "-1"}),
        200: ([30, 31, 32, 33, 30], {"building": "retail", "shop": "supermarket", "name": "Jumbo"}),
        201: ([35, 34, 36, 37, 38, 35], {"building": "school", "amenity": "school",
                                         "name": "Basisschool De Regenboog"}),
        202: ([40, 41, 42, 43, 40], {}),
        203: ([44, 45, 46, 47, 44], {"natural": "water", "water": "pond"}),
        204: ([50, 51, 52, 53, 50], {"water": "canal"}),
        205: ([54, 55, 56, 57, 54], {"landuse": "cemetery", "name": "Algemene Begraafplaats"}),
        206: ([58, 59, 60, 61, 58], {}),
        207: ([62, 63, 64, 65, 62], {"landuse": "residential"}),
    }
    r: Relations = {
        300: ([("w", 202, "outer"), ("w", 203, "inner")],
              {"type": "multipolygon", "leisure": "park", "name": "Stadspark"}),
        301: ([("w", 206, "outer")],
              {"type": "boundary", "boundary": "protected_area", "name": "Natuurgebied"}),
    }
    return n, w, r


EXPECTED_EDGES = {(100, 2, 1), (100, 1, 3), (101, 1, 4), (102, 5, 1), (103, 3, 4),
                  (106, 5, 13), (107, 3, 13)}
EXPECTED_GRAPH_NODES = {1, 2, 3, 4, 5, 13}


def _tags_xml(tags: dict[str, str], indent: str) -> Iterable[str]:
    for k, v in tags.items():
        yield f"{indent}<tag k={quoteattr(k)} v={quoteattr(v)}/>"


def write_osm_xml(path: str | Path, nodes: Nodes, ways: Ways, relations: Relations | None = None) -> Path:
    """Write OSM XML (API 0.6 style, sorted by type and id)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<osm version="0.6" generator="plekzoeker-tests">']
    for nid in sorted(nodes):
        lon, lat, tags = nodes[nid]
        attrs = f'id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"'
        if tags:
            lines.append(f"  <node {attrs}>")
            lines.extend(_tags_xml(tags, "    "))
            lines.append("  </node>")
        else:
            lines.append(f"  <node {attrs}/>")
    for wid in sorted(ways):
        refs, tags = ways[wid]
        lines.append(f'  <way id="{wid}" version="1">')
        lines.extend(f'    <nd ref="{ref}"/>' for ref in refs)
        lines.extend(_tags_xml(tags, "    "))
        lines.append("  </way>")
    for rid in sorted(relations or {}):
        members, tags = (relations or {})[rid]
        lines.append(f'  <relation id="{rid}" version="1">')
        for mtype, ref, role in members:
            kind = {"n": "node", "w": "way", "r": "relation"}[mtype]
            lines.append(f'    <member type="{kind}" ref="{ref}" role={quoteattr(role)}/>')
        lines.extend(_tags_xml(tags, "    "))
        lines.append("  </relation>")
    lines.append("</osm>")
    p = Path(path)
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def write_osm_pbf(path: str | Path, nodes: Nodes, ways: Ways, relations: Relations | None = None) -> Path:
    """Write a PBF with pyosmium's SimpleWriter (the format follows the ``.osm.pbf`` suffix)."""
    import osmium
    from osmium.osm import mutable

    p = Path(path)
    if p.exists():
        p.unlink()
    with osmium.SimpleWriter(str(p)) as w:
        for nid in sorted(nodes):
            lon, lat, tags = nodes[nid]
            w.add_node(mutable.Node(id=nid, version=1, location=(lon, lat), tags=tags))
        for wid in sorted(ways):
            refs, tags = ways[wid]
            w.add_way(mutable.Way(id=wid, version=1, nodes=refs, tags=tags))
        for rid in sorted(relations or {}):
            members, tags = (relations or {})[rid]
            w.add_relation(mutable.Relation(id=rid, version=1, members=members, tags=tags))
    return p
