"""Energy labels, monuments, 3DBAG, Natura 2000 and power lines: readers, loads with rejects, and the facts
they give a candidate (label-C rule, monument, floors, height; plots excluded for Natura 2000 / power lines)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from fact_helpers import facts, run_facts
from shapely.geometry import box, mapping

from plekzoeker.errors import SourceError
from plekzoeker.settings import load_config
from plekzoeker.sources.bag3d import load_3dbag, read_3dbag
from plekzoeker.sources.labels import load_labels, read_labels
from plekzoeker.sources.monuments import load_monuments
from plekzoeker.sources.natura2000 import load_natura2000

DATA = Path(__file__).resolve().parent / "data" / "facts"
PAND_A, PAND_B, PAND_C = "9999100000000001", "9999100000000002", "9999100000000003"
FOOT = {PAND_A: box(150_000, 450_000, 150_030, 450_020), PAND_B: box(150_100, 450_000, 150_130, 450_020),
        PAND_C: box(150_200, 450_000, 150_210, 450_010)}
# units: A has two offices (600 + 500 m2), B one office of 900 m2 (a monument), C a small office of 80 m2
UNITS = [("9999010000000011", PAND_A, 600, "1234AB", 1), ("9999010000000012", PAND_A, 500, "1234AB", 3),
         ("9999010000000021", PAND_B, 900, "1234AC", 1), ("9999010000000031", PAND_C, 80, "1234AD", 1)]


def rows(db, sql: str) -> list:
    with db.connect() as c:
        return c.execute(sa.text(sql)).all()


@pytest.fixture
def bag(db):
    with db.begin() as c:
        for pid, g in FOOT.items():
            c.execute(sa.text("INSERT INTO core.pand (identificatie, status, bouwjaar, geom) VALUES "
                              "(:i, 'Pand in gebruik', 1972, ST_Multi(ST_GeomFromText(:g, 28992)))"), {"i": pid, "g": g.wkt})
        for vid, pid, opp, pc, nr in UNITS:
            p = FOOT[pid].centroid
            c.execute(sa.text("INSERT INTO core.verblijfsobject (identificatie, pand_ids, gebruiksdoelen, oppervlakte, "
                              "status, postcode, huisnummer, geom) VALUES (:v, ARRAY[:p], ARRAY['kantoorfunctie'], :o, "
                              "'Verblijfsobject in gebruik', :pc, :nr, ST_SetSRID(ST_MakePoint(:x, :y), 28992))"),
                      {"v": vid, "p": pid, "o": opp, "pc": pc, "nr": nr, "x": p.x, "y": p.y})
    return db


def candidates() -> list[dict]:
    return [{"candidate_key": f"pand:{pid}", "kind": "vacant_building", "geometry": g, "confidence": 0.6,
             "source_ids": [pid] + [u[0] for u in UNITS if u[1] == pid], "details": {"pand_id": pid}}
            for pid, g in FOOT.items()]


def test_labels_csv_and_xml_read_alike():
    csv_rows = next(read_labels(DATA / "ep_online.csv"))
    xml_rows = next(read_labels(DATA / "ep_online.xml"))
    assert list(csv_rows["label"]) == list(xml_rows["label"])
    assert list(csv_rows["verblijfsobject_id"]) == list(xml_rows["verblijfsobject_id"])
    assert csv_rows["verblijfsobject_id"].iloc[1] == "9999010000000021"  # the NL.IMBAG prefix is stripped
    assert pd.isna(csv_rows["verblijfsobject_id"].iloc[0]) and csv_rows["postcode"].iloc[0] == "1234AB"


def test_label_rule_monument_floors_height(bag):
    st = load_labels(bag, DATA / "ep_online.csv")
    reasons = dict(rows(bag, "SELECT row_ref IS NULL, reason FROM meta.reject"))
    assert st.rejected == 3
    got = sorted(r for (r,) in rows(bag, "SELECT reason FROM meta.reject"))
    assert got == sorted(["energy_label: label class not one of A++++ .. G",
                          "energy_label: unknown BAG verblijfsobject_id (not in the loaded BAG)",
                          "energy_label: neither a 16-digit verblijfsobject_id nor postcode (1234AB) + huisnummer"]), reasons
    cfg = load_config()
    # monuments not loaded yet: for A (offices below C) the rule would apply but the exemption is unknown
    run_facts(bag, cfg, candidates())
    f = facts(bag)
    assert f[f"pand:{PAND_A}"]["label_rule"] is None and f[f"pand:{PAND_A}"]["monument"] is None
    assert f[f"pand:{PAND_C}"]["label_rule"] is False  # 80 m2 of offices: the rule does not apply
    load_monuments(bag, DATA / "rijksmonumenten.csv", "rijks")
    load_3dbag(bag, DATA / "3dbag.csv")
    res = run_facts(bag, cfg, candidates())
    f = facts(bag)
    a, b, c = f[f"pand:{PAND_A}"], f[f"pand:{PAND_B}"], f[f"pand:{PAND_C}"]
    # A: one office E (by address), one without a label -> worst known label E, the rule applies
    assert (a["energy_label"], a["label_rule"], a["monument"]) == ("E", True, "none")
    assert b["monument"] == "rijks" and b["label_rule"] is False  # a monument is exempt
    assert (a["bouwjaar"], a["floors"], a["height_m"]) == (1972, 3, 10.5)
    assert a["sources"]["floors"] == "3DBAG" and a["sources"]["bouwjaar"] == "BAG"
    assert a["sources"]["energy_label"].startswith("EP-Online")
    assert c["floors"] is None and c["height_m"] is None  # not in the 3DBAG file: unknown
    # the rule is a vacancy signal: evidence and a higher confidence (noisy-OR with the configured weight)
    ca = res["candidates"][f"pand:{PAND_A}"]
    w = cfg["facts"]["label_rule"]["weight"]
    assert ca["confidence"] == pytest.approx(1 - (1 - 0.6) * (1 - w), abs=1e-4)
    assert ca["evidence"][-1]["signal"] == "label_rule" and "since 2023" in ca["evidence"][-1]["value"]
    assert res["candidates"][f"pand:{PAND_B}"]["confidence"] == pytest.approx(0.6)
    chk = ca["details"]["floor_area_check"]
    assert chk["bag_m2"] == 1100 and chk["floors_x_footprint_m2"] == 3 * 600


def test_monument_and_3dbag_bad_rows(bag, tmp_path):
    load_3dbag(bag, DATA / "3dbag.csv")
    got = sorted(r for (r,) in rows(bag, "SELECT reason FROM meta.reject"))
    assert got == ["pand_3d: roof below the ground (b3_h_dak_70p < b3_h_maaiveld)",
                   "pand_3d: unknown BAG pand_id (not in the loaded BAG)"]
    nocols = tmp_path / "x.csv"
    nocols.write_text("identificatie,hoogte\n9999100000000001,12\n")
    with pytest.raises(SourceError, match=r"x\.csv: missing column\(s\) h_maaiveld"):
        list(read_3dbag(nocols))
    gj = tmp_path / "gem.geojson"  # a municipal list as geometry, declared in WGS84: reprojected
    gj.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"monumentnummer": "GM-1", "naam": "Pakhuis"},
         "geometry": {"type": "Point", "coordinates": [5.0, 52.0]}}]}))
    st = load_monuments(bag, gj, "gemeentelijk")
    assert st.rows_out == 1
    (x, y), = rows(bag, "SELECT ST_X(geom), ST_Y(geom) FROM core.monument WHERE kind = 'gemeentelijk'")
    assert 120_000 < x < 140_000 and 440_000 < y < 460_000
    nocrs = tmp_path / "nocrs.gpkg"
    import geopandas as gpd
    gpd.GeoDataFrame({"naam": ["x"]}, geometry=[box(0, 0, 1, 1)]).to_file(nocrs)
    with pytest.raises(SourceError, match="nocrs.gpkg: declares no CRS"):
        load_monuments(bag, nocrs, "gemeentelijk")
    assert rows(bag, "SELECT count(*) FROM core.monument WHERE kind = 'gemeentelijk'") == [(1,)]  # kept


def test_truncated_and_broken_files(db, tmp_path):
    xml = (DATA / "ep_online.xml").read_text()
    cut = tmp_path / "cut.xml"
    cut.write_text(xml[: len(xml) // 2])
    with pytest.raises(SourceError, match=r"cut\.xml: broken or truncated XML"):
        load_labels(db, cut)
    notcsv = tmp_path / "labels.csv"
    notcsv.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(SourceError, match="labels.csv: not UTF-8"):
        load_labels(db, notcsv)
    gpkg = tmp_path / "broken.gpkg"
    gpkg.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    with pytest.raises(SourceError, match="broken.gpkg"):
        list(read_3dbag(gpkg))
    with pytest.raises(SourceError, match="broken.gpkg"):
        load_natura2000(db, gpkg)


def test_natura2000_and_power_line_exclude_plots(db, tmp_path):
    n2k = tmp_path / "n2k.geojson"
    n2k.write_text(json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {
        "name": "urn:ogc:def:crs:EPSG::28992"}}, "features": [
        {"type": "Feature", "properties": {"naam_n2k": "Demodorper Veen", "nummer": 999},
         "geometry": mapping(box(150_000, 450_000, 150_200, 450_200))},
        {"type": "Feature", "properties": {"naam_n2k": "Lijn", "nummer": 998},
         "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}]}))
    st = load_natura2000(db, n2k)
    assert (st.rows_out, st.rejected) == (1, 1)
    with db.begin() as c:
        c.execute(sa.text("INSERT INTO core.power_line (osm_id, voltage, geom) VALUES "
                          "('w1', '150000', ST_GeomFromText('LINESTRING(151000 449000, 151000 451000)', 28992))"))
    cfg = load_config()
    plots = [("perceel:A 1", box(150_150, 450_150, 150_250, 450_250)),   # 2,500 m2 on the Natura 2000 site
             ("perceel:A 2", box(151_030, 450_000, 151_080, 450_050)),   # 30 m from the line
             ("perceel:A 3", box(151_080, 450_000, 151_130, 450_050))]   # 80 m from the line
    res = run_facts(db, cfg, [{"candidate_key": k, "kind": "undeveloped_plot", "geometry": g} for k, g in plots])
    assert res["exclusions"]["perceel:A 1"] == "Natura 2000: Demodorper Veen"
    assert res["exclusions"]["perceel:A 2"].startswith("within 50 m of a high-voltage line")
    assert set(res["exclusions"]) == {"perceel:A 1", "perceel:A 2"} and set(res["candidates"]) == {"perceel:A 3"}
    res = run_facts(db, load_config(None, {"facts": {"power_line_buffer_m": 100}}),
                    [{"candidate_key": k, "kind": "undeveloped_plot", "geometry": g} for k, g in plots])
    assert set(res["exclusions"]) == {"perceel:A 1", "perceel:A 2", "perceel:A 3"}


def test_power_lines_from_osm(tmp_path):
    from plekzoeker.sources.osm_ways_read import read_power_lines

    osm = tmp_path / "p.osm"
    osm.write_text("""<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="1" lat="52.0" lon="5.0"/><node id="2" lat="52.01" lon="5.0"/><node id="3" lat="52.0" lon="5.01"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><tag k="power" v="line"/><tag k="voltage" v="380000"/></way>
  <way id="11"><nd ref="1"/><nd ref="3"/><tag k="power" v="minor_line"/></way>
  <way id="12"><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
</osm>""")
    lines = read_power_lines(osm)
    assert list(lines["osm_id"]) == ["w10"] and list(lines["voltage"]) == ["380000"]
    assert lines.geometry.iloc[0].length == pytest.approx(1112, rel=0.01)  # 0.01 degree of latitude


def test_fact_columns_for_outputs(bag):
    import pandas as pd_

    from plekzoeker.outputs.facts_columns import COLUMNS, add_fact_columns

    load_labels(bag, DATA / "ep_online.csv")
    load_monuments(bag, DATA / "rijksmonumenten.csv", "rijks")
    run_facts(bag, load_config(), candidates())
    df = pd_.DataFrame({"candidate_key": [f"pand:{PAND_A}", "pand:0000000000000000"]})
    with bag.connect() as c:
        geo, lst = add_fact_columns(df, c), add_fact_columns(df, c, for_list=True)
    assert list(geo.columns[1:]) == COLUMNS
    assert geo.loc[0, "label_rule"] is True and lst.loc[0, "label_rule"] == "yes"
    assert "energy_label: EP-Online" in geo.loc[0, "fact_sources"] and "bouwjaar: BAG" in geo.loc[0, "fact_sources"]
    assert geo.loc[1, COLUMNS].isna().all()  # no fact row: every fact unknown (empty)


def _osm_with_buildings(path: Path) -> Path:
    """An OSM XML file: a street, and buildings drawn on the fixture's panden (WGS84 from RD New)."""
    from pyproj import Transformer

    tr = Transformer.from_crs(28992, 4326, always_xy=True)
    nodes, ways, nid = [], [], 1

    def way(wid: int, xy: list[tuple[float, float]], tags: dict[str, str]) -> None:
        nonlocal nid
        refs = []
        for x, y in xy:
            lon, lat = tr.transform(x, y)
            nodes.append(f'<node id="{nid}" lat="{lat:.8f}" lon="{lon:.8f}"/>')
            refs.append(nid)
            nid += 1
        if tags.get("building"):
            refs.append(refs[0])  # closed ring
        ways.append(f'<way id="{wid}">' + "".join(f'<nd ref="{r}"/>' for r in refs)
                    + "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items()) + "</way>")

    def ring(g) -> list[tuple[float, float]]:
        return list(g.buffer(-2).exterior.coords)[:-1]

    way(100, [(149_900, 449_950), (150_300, 449_950)], {"highway": "residential"})
    # C: no 3DBAG row (its roof is below the ground, rejected) -> OSM, matched by its ref:bag tag
    way(101, ring(box(160_000, 460_000, 160_020, 460_020)), {"building": "office", "building:levels": "2",
                                                               "height": "7 m", "ref:bag": PAND_C.lstrip("0")})
    way(102, ring(FOOT[PAND_A]), {"building": "yes", "building:levels": "5"})   # 3DBAG has A: 3DBAG wins
    way(103, ring(FOOT[PAND_B]), {"building": "yes", "building:levels": "3;4"})  # not a number: unknown, ignored
    path.write_text("<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n" + "\n".join(nodes + ways)
                    + "\n</osm>\n")
    return path


def test_floors_fall_back_to_osm_building_levels(bag, tmp_path):
    from plekzoeker.sources.osm import load_osm
    from plekzoeker.sources.osm_ways_read import pand_id_from_ref, parse_height, parse_levels

    assert (parse_levels("4"), parse_levels("3;4"), parse_levels("2.5"), parse_levels(None)) == (4, None, None, None)
    assert (parse_height("12,5 m"), parse_height("40'"), parse_height("0")) == (12.5, None, None)
    assert pand_id_from_ref("503100000024959") == "0503100000024959" and pand_id_from_ref("abc") is None
    load_3dbag(bag, DATA / "3dbag.csv")
    st = load_osm(bag, _osm_with_buildings(tmp_path / "b.osm"))
    assert st.per_table["osm_building"] == 2  # the '3;4' building has neither levels nor height
    run_facts(bag, load_config(), candidates())
    f = facts(bag)
    a, b, c = f[f"pand:{PAND_A}"], f[f"pand:{PAND_B}"], f[f"pand:{PAND_C}"]
    assert (c["floors"], c["height_m"]) == (2, 7.0)
    assert c["sources"]["floors"] == "OSM building:levels (w101)" and c["sources"]["height_m"] == "OSM height (w101)"
    assert (a["floors"], a["sources"]["floors"]) == (3, "3DBAG")
    assert (b["floors"], b["sources"]["floors"]) == (2, "3DBAG")


def test_osm_levels_from_the_real_delft_extract():
    from plekzoeker.sources.osm_ways_read import read_osm_ways

    w = read_osm_ways(Path(__file__).parent / "data" / "osm" / "tudelft.osm.pbf")
    b = w.buildings
    # the real extract: hundreds of BAG-imported buildings with building:levels, almost all with ref:bag
    assert len(b) > 500 and b["pand_id"].notna().mean() > 0.95
    assert b["pand_id"].dropna().str.fullmatch(r"0503\d{12}").all()  # Delft's municipality code 0503
    assert b["levels"].dropna().between(0, 200).all()
    assert b.geometry.within(box(82_000, 443_000, 88_000, 449_000)).all()  # inside Delft, in RD New
