"""Zoning: the real Goes IMRO2012 plan through reader, loader and the facts step; overlapping plans;
Omgevingsplan GeoJSON; bad input (no CRS, not a plan, truncated, points instead of surfaces)."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import sqlalchemy as sa
from fact_helpers import facts, run_facts
from shapely.geometry import Point, box, mapping

from plekzoeker.errors import SourceError
from plekzoeker.settings import load_config
from plekzoeker.sources.zoning import load_zoning
from plekzoeker.sources.zoning_read import read_zoning

GOES = Path(__file__).resolve().parent / "data" / "zoning" / "NL.IMRO.0664.BPBS03-ON99.gml"


def gml_counts(path: Path) -> dict[str, int]:
    """Enkelbestemming per naam, counted in the XML text itself (an oracle independent of GDAL)."""
    import defusedxml.ElementTree as ET

    ns = "{http://www.geonovum.nl/imro/2012/1.1}"
    out: dict[str, int] = {}
    for e in ET.parse(str(path)).getroot().iter(f"{ns}Enkelbestemming"):
        naam = e.find(f"{ns}naam").text
        out[naam] = out.get(naam, 0) + 1
    return out


@pytest.fixture(scope="module")
def goes() -> gpd.GeoDataFrame:
    return pd.concat(list(read_zoning(GOES)), ignore_index=True)


def test_goes_plan_reads_its_13_bestemmingsvlakken(goes):
    enkel = goes[goes["objecttype"] == "enkelbestemming"]
    assert gml_counts(GOES) == {"Groen": 5, "Kantoor": 4, "Maatschappelijk": 3, "Verkeer": 1}
    assert enkel["naam"].value_counts().to_dict() == gml_counts(GOES)
    assert (enkel["hoofdgroep"] == enkel["naam"].str.lower()).all()
    assert set(goes["plan_id"]) == {"NL.IMRO.0664.BPBS03-ON99"}
    assert set(goes["plan_status"]) == {"ontwerp"}
    assert goes["objecttype"].value_counts().to_dict() == {
        "enkelbestemming": 13, "maatvoering": 14, "bouwvlak": 9, "functieaanduiding": 9, "dubbelbestemming": 1,
        "plangebied": 1}
    # the arcs are linearised into valid polygons in RD New, inside the plan's documented extent
    assert goes.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all() and goes.is_valid.all()
    minx, miny, maxx, maxy = goes.total_bounds
    assert 49_800 <= minx and maxx <= 52_500 and 390_600 <= miny and maxy <= 391_100  # SOURCES.md, rounded
    # linearised arcs stay close to the curve: the plan area equals the union of its bestemmingen within 0.5 %
    plan = goes[goes["objecttype"] == "plangebied"].geometry.iloc[0]
    assert enkel.union_all().area == pytest.approx(plan.area, rel=0.005)
    mv = goes[goes["objecttype"] == "maatvoering"]
    assert "maximum aantal bouwlagen" in set(mv["waarde_type"]) and mv["waarde"].notna().all()


def _inside(geom, r: float = 4.0):
    p = geom.point_on_surface()
    return geom.intersection(p.buffer(r))


def test_goes_loads_and_candidates_get_verdicts(db, goes):
    st = load_zoning(db, GOES)
    assert st.per_table["zoning"] == len(goes) and st.rejected == 0
    with db.connect() as c:
        n = c.execute(sa.text("SELECT hoofdgroep, count(*) FROM core.zoning WHERE objecttype = 'enkelbestemming' "
                              "GROUP BY 1 ORDER BY 1")).all()
    assert dict(n) == {"groen": 5, "kantoor": 4, "maatschappelijk": 3, "verkeer": 1}
    enkel = goes[goes["objecttype"] == "enkelbestemming"]
    kantoor = _inside(enkel[enkel["hoofdgroep"] == "kantoor"].geometry.iloc[0])
    groen = _inside(enkel[enkel["hoofdgroep"] == "groen"].geometry.iloc[0])
    cfg = load_config()
    res = run_facts(db, cfg, [
        {"candidate_key": "pand:0664100000000001", "kind": "vacant_building", "geometry": kantoor,
         "details": {"pand_id": "0664100000000001"}},
        {"candidate_key": "perceel:GOS00 A 1", "kind": "undeveloped_plot", "geometry": groen},
        {"candidate_key": "pand:0664100000000002", "kind": "vacant_building", "geometry": box(0, 300_000, 10, 300_010),
         "details": {"pand_id": "0664100000000002"}},
    ])
    f = facts(db)
    k = f["pand:0664100000000001"]
    assert (k["zoning"], k["zoning_verdict"], k["zoning_plan"]) == ("kantoor", "deviation", "NL.IMRO.0664.BPBS03-ON99")
    assert "facts.zoning.verdicts.kantoor" in k["zoning_rule"]
    assert k["sources"]["zoning"] == "imro:NL.IMRO.0664.BPBS03-ON99"
    # a plot on Groen is blocked by default, so it is excluded with that reason and has no fact row
    assert "perceel:GOS00 A 1" not in f
    assert res["exclusions"]["perceel:GOS00 A 1"].startswith("zoning blocked: groen")
    # outside every plan: unknown, not a guess
    far = f["pand:0664100000000002"]
    assert far["zoning"] is None and far["zoning_verdict"] is None and far["sources"] == {}
    # the verdict is configurable
    cfg2 = load_config(None, {"facts": {"zoning": {"verdicts": {"kantoor": "allowed", "groen": "deviation"}}}})
    res2 = run_facts(db, cfg2, [{"candidate_key": "perceel:GOS00 A 1", "kind": "undeveloped_plot", "geometry": groen}])
    assert res2["exclusions"] == {}
    assert facts(db)["perceel:GOS00 A 1"]["zoning_verdict"] == "deviation"


def _plan_geojson(path: Path, plan: str, status: str, datum: str, shapes: list[tuple[str, object]]) -> Path:
    feats = [{"type": "Feature", "geometry": mapping(g), "properties": {
        "identificatie": f"{plan}.f{i}", "naam": grp.title(), "groep": f"http://standaarden.omgevingswet.overheid.nl/functie/id/concept/{grp.title()}",
        "regeling": plan, "status": status, "datum": datum}} for i, (grp, g) in enumerate(shapes)]
    path.write_text(json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {
        "name": "urn:ogc:def:crs:EPSG::28992"}}, "features": feats}))
    return path


def test_newer_adopted_plan_wins_where_plans_overlap(db, tmp_path):
    d = tmp_path / "plans"
    d.mkdir()
    # an old adopted plan says water over the whole block; a newer adopted plan says wonen on its east half;
    # a draft (ontwerp) says groen on the east half too but loses to the adopted one
    _plan_geojson(d / "a_old.geojson", "NL.IMRO.9999.OLD-VA01", "vastgesteld", "2010-01-01",
                  [("water", box(150_000, 450_000, 150_100, 450_100))])
    _plan_geojson(d / "b_new.geojson", "NL.IMRO.9999.NEW-VA01", "vastgesteld", "2020-01-01",
                  [("wonen", box(150_040, 450_000, 150_100, 450_100))])
    _plan_geojson(d / "c_draft.geojson", "NL.IMRO.9999.NEW-ON01", "ontwerp", "2024-01-01",
                  [("groen", box(150_040, 450_000, 150_100, 450_100))])
    load_zoning(db, d)
    cfg = load_config()
    cand = box(150_020, 450_010, 150_060, 450_030)  # half on the old plan only, half where the new one wins
    run_facts(db, cfg, [{"candidate_key": "pand:9999100000000001", "kind": "vacant_building", "geometry": cand,
                         "details": {"pand_id": "9999100000000001"}}])
    f = facts(db)["pand:9999100000000001"]
    assert f["zoning"] in ("water (50%), wonen (50%)", "wonen (50%), water (50%)")
    cand2 = box(150_030, 450_010, 150_070, 450_030)  # 25 % old water, 75 % new wonen; the draft never counts
    run_facts(db, cfg, [{"candidate_key": "pand:9999100000000001", "kind": "vacant_building", "geometry": cand2,
                         "details": {"pand_id": "9999100000000001"}}])
    f = facts(db)["pand:9999100000000001"]
    assert f["zoning"] == "wonen (75%), water (25%)"
    assert (f["zoning_verdict"], f["zoning_plan"]) == ("allowed", "NL.IMRO.9999.NEW-VA01")
    assert f["sources"]["zoning"] == "dso:NL.IMRO.9999.NEW-VA01"


def test_zip_of_plans_and_surfaces_only(db, tmp_path):
    gj = _plan_geojson(tmp_path / "p.geojson", "P1", "geldend", "2024-01-01",
                       [("wonen", box(150_000, 450_000, 150_050, 450_050)), ("verkeer", Point(150_010, 450_010))])
    z = tmp_path / "plans.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(GOES, GOES.name)
        zf.write(gj, gj.name)
    st = load_zoning(db, z)
    assert st.rejected == 1  # the point is no surface: rejected with the reason
    with db.connect() as c:
        reason = c.execute(sa.text("SELECT reason FROM meta.reject")).scalar_one()
        plans = c.execute(sa.text("SELECT count(DISTINCT plan_id) FROM core.zoning")).scalar_one()
    assert "no surface" in reason and plans == 2


def test_bad_zoning_files(db, tmp_path):
    trunc = tmp_path / "trunc.gml"
    trunc.write_bytes(GOES.read_bytes()[:20_000])
    with pytest.raises(SourceError, match="trunc.gml"):
        list(read_zoning(trunc))
    notplan = tmp_path / "other.gml"
    notplan.write_text('<?xml version="1.0"?><gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml/3.2">'
                       "</gml:FeatureCollection>")
    with pytest.raises(SourceError, match="other.gml"):
        list(read_zoning(notplan))
    nocrs = tmp_path / "nocrs.geojson"
    nocrs.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": mapping(
        box(150_000, 450_000, 150_010, 450_010)), "properties": {"identificatie": "x", "groep": "wonen", "regeling": "P"}}]}))
    # GeoJSON without a crs member is WGS84 by RFC 7946: RD New numbers then lie far outside the Netherlands
    with pytest.raises(SourceError):
        load_zoning(db, nocrs)
    nocols = _plan_geojson(tmp_path / "nocols.geojson", "P", "geldend", "2024-01-01", [("wonen", box(0, 0, 1, 1))])
    data = json.loads(nocols.read_text())
    for f in data["features"]:
        f["properties"].pop("groep")
    nocols.write_text(json.dumps(data))
    with pytest.raises(SourceError, match="groep"):
        list(read_zoning(nocols))
    with db.connect() as c:  # the earlier good data is untouched by the failed loads
        assert c.execute(sa.text("SELECT count(*) FROM core.zoning")).scalar_one() == 0


def test_goes_detail_facts_come_from_the_deciding_plan(db, goes):
    """Maatvoering, Functieaanduiding and Bouwvlak of the real Goes plan on two candidates, checked against
    the plan's own objects with shapely (an oracle outside the SQL)."""
    load_zoning(db, GOES)
    fa = goes[goes["objecttype"] == "functieaanduiding"]
    mv = goes[goes["objecttype"] == "maatvoering"]
    bv = goes[goes["objecttype"] == "bouwvlak"].union_all()
    office = fa[fa["naam"] == "kantoor"].geometry.iloc[0]
    inside = _inside(office, 2.0)
    # the Maatvoering objects holding the candidate, as the plan's text would be read by hand
    floors = {int(r.waarde) for r in mv.itertuples() if r.waarde_type == "maximum aantal bouwlagen"
              and r.geometry.contains(inside)}
    assert len(floors) == 1
    # a candidate straddling the edge of a Bouwvlak: part in, part out
    edge = bv.boundary.interpolate(0.37, normalized=True)
    straddle = edge.buffer(3.0).envelope
    want_pct = round(100 * straddle.intersection(bv).area / straddle.area, 1)
    assert 5 < want_pct < 95
    run_facts(db, load_config(), [
        {"candidate_key": "pand:0664100000000011", "kind": "vacant_building", "geometry": inside,
         "details": {"pand_id": "0664100000000011"}},
        {"candidate_key": "pand:0664100000000012", "kind": "vacant_building", "geometry": straddle,
         "details": {"pand_id": "0664100000000012"}},
        {"candidate_key": "pand:0664100000000013", "kind": "vacant_building", "geometry": box(0, 300_000, 10, 300_010),
         "details": {"pand_id": "0664100000000013"}},
    ])
    f = facts(db)
    a = f["pand:0664100000000011"]
    names = {r.naam for r in fa.itertuples() if r.geometry.intersection(inside).area >= max(1.0, 0.01 * inside.area)}
    assert "kantoor" in names and a["zoning_functions"] == ", ".join(sorted(names))
    assert a["zoning_max_floors"] == floors.pop()
    assert a["bouwvlak_pct"] == pytest.approx(100 * inside.intersection(bv).area / inside.area, abs=0.1)
    assert a["sources"]["zoning_details"] == "imro:NL.IMRO.0664.BPBS03-ON99"
    assert f["pand:0664100000000012"]["bouwvlak_pct"] == pytest.approx(want_pct, abs=0.2)
    far = f["pand:0664100000000013"]  # no plan: every detail unknown
    assert all(far[k] is None for k in ("zoning_functions", "zoning_max_floors", "zoning_max_height_m",
                                        "zoning_max_coverage_pct", "bouwvlak_pct"))


def test_zoning_details_rule_is_pure():
    from plekzoeker.scoring.facts import zoning_details_fact

    rows = [("P", "maatvoering", "maximum aantal bouwlagen", "3", "maximum aantal bouwlagen", 80.0),
            ("P", "maatvoering", "maximum aantal bouwlagen", "6", "maximum aantal bouwlagen", 20.0),
            ("P", "maatvoering", "maximum bouwhoogte (m)", "12,5", "Maximum bouwhoogte (m)", 100.0),
            ("P", "functieaanduiding", "kantoor", None, None, 100.0),
            ("P", "functieaanduiding", "horeca", None, None, 0.5),      # a sliver: not this candidate's rule
            ("Q", "functieaanduiding", "wonen", None, None, 100.0),     # another (overridden) plan
            ("P", "bouwvlak", None, None, None, 40.0)]
    out = zoning_details_fact(rows, "P", 100.0, True)
    assert out == {"zoning_functions": "kantoor", "zoning_max_floors": 3, "zoning_max_height_m": 12.5,
                   "zoning_max_coverage_pct": None, "bouwvlak_pct": 40.0}
    assert zoning_details_fact(rows[:1], "P", 100.0, False)["bouwvlak_pct"] is None   # the plan has no Bouwvlak
    assert zoning_details_fact(rows[:1], "P", 100.0, True)["bouwvlak_pct"] == 0.0     # it has, elsewhere
    assert set(zoning_details_fact(rows, None, 100.0, True).values()) == {None}
