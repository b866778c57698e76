"""The demo PBF's BAG import (plekzoeker/demo/osm_buildings.py): building ways and address nodes that
match bag.gpkg, and an OSM read that ignores them (the same graph, POIs and land use as without them)."""
from __future__ import annotations

from pathlib import Path

import osmium
import pandas as pd
import pyogrio
import pytest
import shapely

from plekzoeker.demo.generate import generate_town
from plekzoeker.demo.osm_buildings import NOT_STANDING
from plekzoeker.sources.osm_read import read_osm
from plekzoeker.sources.osm_ways_read import read_osm_ways


def _objects(pbf: Path) -> tuple[dict, dict, dict]:
    nodes, ways, refs = {}, {}, {}
    for o in osmium.FileProcessor(str(pbf)):
        if o.is_node():
            nodes[o.id] = dict(o.tags)
        elif o.is_way():
            ways[o.id] = dict(o.tags)
            refs[o.id] = [n.ref for n in o.nodes]
    return nodes, ways, refs


def test_building_ways_and_address_nodes_match_bag(demo_dir):
    d = Path(demo_dir)
    pand = pyogrio.read_dataframe(d / "bag.gpkg", layer="pand", read_geometry=False)
    vbo = pyogrio.read_dataframe(d / "bag.gpkg", layer="verblijfsobject", read_geometry=False)
    vbo[["huisletter", "toevoeging"]] = vbo[["huisletter", "toevoeging"]].fillna("")
    nodes, ways, refs = _objects(d / "town.osm.pbf")
    bld = {t["ref:bag"]: (w, t) for w, t in ways.items() if t.get("source") == "BAG"}
    standing = pand[~pand["status"].isin(NOT_STANDING)]
    # one closed way per standing pand, ref:bag = the pand id without leading zeros, start_date = bouwjaar
    assert set(bld) == {i.lstrip("0") for i in standing["identificatie"]} and len(bld) == len(standing)
    for i, year in zip(standing["identificatie"], standing["bouwjaar"]):
        w, t = bld[i.lstrip("0")]
        assert refs[w][0] == refs[w][-1] and len(refs[w]) >= 5 and t["start_date"] == str(year)
    # the default demo has no building:levels (its floors facts stay 3DBAG or unknown)
    assert not any("building:levels" in t for t in ways.values())
    # one address node per verblijfsobject with the BAG address
    addr = {t["ref:bag"]: t for t in nodes.values() if "addr:housenumber" in t}
    assert set(addr) == {i.lstrip("0") for i in vbo["identificatie"]}
    for r in vbo.itertuples():
        t = addr[r.identificatie.lstrip("0")]
        assert (t["addr:street"], t["addr:housenumber"], t["addr:postcode"], t["addr:city"], t.get("addr:unit")) == \
            (r.openbare_ruimte_naam, f"{r.huisnummer}{r.huisletter}", r.postcode, r.woonplaats_naam,
             r.toevoeging or None)
    m = __import__("json").loads((d / "manifest.json").read_text())["counts"]
    assert (m["osm_building_ways"], m["osm_address_nodes"], m["osm_building_levels"]) == (len(bld), len(vbo), 0)


def _without_bag_import(src: Path, dst: Path) -> None:
    """A copy of the PBF without the BAG import's ways and address nodes (their corner nodes stay, untagged)."""
    w = osmium.SimpleWriter(str(dst), overwrite=True)
    try:
        for o in osmium.FileProcessor(str(src)):
            if o.is_node() and "addr:housenumber" not in o.tags:
                w.add_node(o)
            elif o.is_way() and o.tags.get("source") != "BAG":
                w.add_way(o)
    finally:
        w.close()


@pytest.fixture(scope="module")
def scaled(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("scaled_osm")
    generate_town(d, seed=7, units=5_000)
    return d


def test_reader_ignores_the_bag_import(scaled, tmp_path):
    pbf = scaled / "town.osm.pbf"
    bare = tmp_path / "bare.osm.pbf"
    _without_bag_import(pbf, bare)
    a, b = read_osm(pbf), read_osm(bare)
    for name in ("nodes", "edges", "pois", "landuse"):
        pd.testing.assert_frame_equal(pd.DataFrame(getattr(a, name)), pd.DataFrame(getattr(b, name)), obj=name)
    assert len(a.edges) > 200 and len(a.ways.buildings) > 0 and len(b.ways.buildings) == 0


def test_scaled_town_levels_are_read_in_the_same_pass(scaled):
    pbf = scaled / "town.osm.pbf"
    m = __import__("json").loads((scaled / "manifest.json").read_text())["counts"]
    one = read_osm(pbf).ways.buildings
    alone = read_osm_ways(pbf).buildings
    # every fifth single-dwelling house of the added neighbourhoods carries building:levels=2
    assert 0 < len(one) == m["osm_building_levels"] < m["osm_building_ways"]
    assert set(one["levels"]) == {2} and one["pand_id"].notna().all()
    pand = pyogrio.read_dataframe(scaled / "bag.gpkg", layer="pand", columns=["identificatie"])
    assert set(one["pand_id"]) <= set(pand["identificatie"])
    # each point lies on its pand
    geo = pand.set_index("identificatie").geometry
    assert shapely.contains(shapely.buffer(geo.loc[one["pand_id"]].values, 0.01), one.geometry.values).all()
    pd.testing.assert_frame_equal(pd.DataFrame(one), pd.DataFrame(alone))


def test_ingest_loads_the_same_rows_with_and_without_the_bag_import(db, scaled, tmp_path):
    from plekzoeker.sources.osm import load_osm

    bare = tmp_path / "bare.osm.pbf"
    _without_bag_import(scaled / "town.osm.pbf", bare)
    q = {t: f"SELECT md5(string_agg(r::text, '|' ORDER BY r::text)) FROM (SELECT {cols} FROM core.{t}) r"
         for t, cols in (("network_node", "node_id, ST_AsBinary(geom)"),
                         ("network_edge", "u, v, length_m, highway, walk, bike, oneway_bike, osm_way_id, ST_AsBinary(geom)"),
                         ("poi", "category, name, osm_id, tags, ST_AsBinary(geom)"),
                         ("landuse", "osm_id, key, value, ST_AsBinary(geom)"))}

    def loaded(pbf: Path) -> tuple[dict, dict]:
        st = load_osm(db, pbf, force=True)
        with db.connect() as c:
            return st.per_table, {t: c.exec_driver_sql(sql).scalar() for t, sql in q.items()}

    try:
        full, full_rows = loaded(scaled / "town.osm.pbf")
        none, none_rows = loaded(bare)
    finally:  # the scaled town's OSM tables would make the next test's demo load look like a shrink
        from db_helpers import TRUNCATE

        with db.begin() as c:
            c.exec_driver_sql(TRUNCATE)
    assert full_rows == none_rows and all(full_rows.values())
    assert {t: n for t, n in full.items() if t != "osm_building"} == {t: n for t, n in none.items() if t != "osm_building"}
    assert none["osm_building"] == 0 < full["osm_building"]
