"""Offered places that detection did not find become candidates with what detection computes for them.

Known answers: an offered parcel half covered by a building keeps about half its area as usable area
(the plot detector's own subtraction); an offered office without any signal is a candidate with its
floor area, confidence 0, no vacancy evidence but the offer, and says so. The facts step (BAG
bouwjaar here) reaches both. Real-shaped BAG through the LVBAG reader (tests/lvbag_fixture.py).
"""
import datetime as dt

import geopandas as gpd
import pytest
import sqlalchemy as sa
from lvbag_fixture import pand, vbo, write_extract
from shapely import affinity
from shapely.geometry import box

from plekzoeker.db.load import load_input
from plekzoeker.scoring.detect import run_detect
from plekzoeker.settings import load_config
from plekzoeker.sources.bag import load_bag
from plekzoeker.sources.brk import PERCEEL
from plekzoeker.sources.signals import load_signal

DAY = dt.date(2026, 11, 1)
X0, Y0 = 150_000.0, 450_000.0
OFFICE, SHED, BARN = "9999100000000501", "9999100000000502", "9999100000000503"


def _parcels(specs):
    return gpd.GeoDataFrame({
        "identificatie": [s[0] for s in specs], "kadastrale_gemeente_code": "TST00", "kadastrale_gemeente": "Test",
        "sectie": "A", "perceelnummer": [int(s[0][-3:]) for s in specs],
        "kadastrale_aanduiding": [f"TST00 A {int(s[0][-3:])}" for s in specs], "kadastrale_grootte": None,
    }, geometry=[affinity.translate(s[1], X0, Y0) for s in specs], crs=28992)


def _rect(x, y, w, h):
    return [(X0 + x, Y0 + y), (X0 + x + w, Y0 + y), (X0 + x + w, Y0 + y + h), (X0 + x, Y0 + y + h)]


@pytest.fixture
def offered(db, tmp_path):
    """Parcel 1 (60 x 50 m) with a barn on its west half (30 x 50 m, in use): 50 % covered, so the plot
    rules skip it. Parcel 2 (12 x 200 m): open but too narrow. An office (800 m2 kantoorfunctie, in use,
    no signal) on parcel 3. Offers: parcel 1 and 2 by aanduiding, the office by pand id."""
    folder = tmp_path / "bag"
    write_extract(folder, "9999",
                  [pand(OFFICE, _rect(300, 0, 20, 20), bouwjaar=1975), pand(BARN, _rect(0, 0, 30, 50), bouwjaar=1960)],
                  [vbo("9999010000000501", OFFICE, (X0 + 310, Y0 + 10), ["kantoorfunctie"], 800),
                   vbo("9999010000000503", BARN, (X0 + 15, Y0 + 25), ["industriefunctie"], 1400)])
    load_bag(db, folder)
    f = tmp_path / "p"
    f.write_text("x")
    load_input(db, "brk", f, {PERCEEL: lambda: [_parcels([("9000000000000001", box(0, 0, 60, 50)),
                                                          ("9000000000000002", box(100, 0, 112, 200)),
                                                          ("9000000000000003", box(290, -10, 330, 30))])]})
    offers = tmp_path / "offers.csv"
    offers.write_text("pand_id,kadastrale_aanduiding,offered_from,offered_until,conditions,contact\n"
                      f"{OFFICE},,2026-01-01,,whole building,E. Kantoor-Testpersoon\n"
                      ",TST00 A 1,,2030-12-31,,F. Grond-Testpersoon\n"
                      ",TST00 A 2,,,,G. Smal-Testpersoon\n", encoding="utf-8")
    load_signal(db, "offers", offers)
    return db


def _rows(db):
    with db.connect() as c:
        cands = {r.candidate_key: r for r in c.execute(sa.text(
            "SELECT candidate_key, kind, area_m2, confidence, evidence, details, source_ids, municipality, "
            "ST_Area(geom) AS geom_area, ST_Contains(geom, access_point) AS point_inside FROM result.candidate"))}
        facts = {r.candidate_key: r for r in c.execute(sa.text("SELECT candidate_key, bouwjaar, sources FROM result.fact"))}
    return cands, facts


def test_offered_parcel_and_office_get_the_detection_facts(offered):
    det = run_detect(offered, load_config(), run_id=1, day=DAY)
    cands, facts = _rows(offered)
    assert sorted(cands) == ["pand:" + OFFICE, "perceel:TST00 A 1", "perceel:TST00 A 2"]
    assert det["vacant_building"] == 1 and det["undeveloped_plot"] == 2

    p = cands["perceel:TST00 A 1"]       # half under the barn: about half is usable
    assert p.kind == "undeveloped_plot" and p.area_m2 == pytest.approx(1500, abs=1)
    assert p.geom_area == pytest.approx(1500, abs=1) and p.point_inside
    assert p.evidence[0]["signal"] == "offered_by_owner" and p.evidence[0]["weight"] == 0
    assert p.evidence[0]["value"] == "offered by owner until 2030-12-31"
    assert {"removed": "bag:pand", "area_m2": 1500.0} in p.evidence[1:]
    assert p.details["offered"] is True and p.details["building_coverage"] == pytest.approx(0.5)
    assert p.details["parcel_area_m2"] == 3000 and p.details["usable_area_m2"] == pytest.approx(1500, abs=1)
    assert p.details["plot_rules"] == "building coverage 50% (the plot rules list parcels below 5%)"
    assert p.municipality == "GM9999" and p.confidence is None

    n = cands["perceel:TST00 A 2"]       # 12 m wide: the width test leaves nothing; the parcel stays the shape
    assert n.area_m2 == 0 and n.geom_area == pytest.approx(2400)
    assert n.details["plot_rules"] == ("too narrow: 0 m2 usable (the plot rules need 1000 m2 at least 20 m wide)")
    assert {"removed": "narrower than 20 m", "area_m2": 2400.0} in n.evidence

    b = cands["pand:" + OFFICE]          # no signal at all: its floor area, confidence 0, and it says so
    assert b.kind == "vacant_building" and b.area_m2 == 800 and b.confidence == 0
    assert b.evidence == [{"signal": "offered_by_owner", "value": "offered by owner from 2026-01-01: whole building",
                           "weight": 0.0, "source": "offers"}]
    d = b.details
    assert (d["units_total"], d["units_vacant"], d["vacant_area_m2"], d["offered_area_m2"]) == (1, 0, 0.0, 800.0)
    assert d["detection"].startswith("no vacancy signal") and d["offered"] is True
    assert b.source_ids == [OFFICE, "9999010000000501"] and b.point_inside

    # the facts step ran over the offered candidates too (BAG bouwjaar of the building; a row per candidate)
    assert set(facts) == set(cands)
    assert facts["pand:" + OFFICE].bouwjaar == 1975


def test_offered_office_with_a_signal_gets_its_confidence(offered, tmp_path):
    """The same office with a vacancy-register entry: the detection's confidence (0.7) and evidence,
    below the 500 m2 threshold only because the offered unit is smaller than the building."""
    reg = tmp_path / "vacancy.csv"
    reg.write_text("verblijfsobject_id,vacant_since\n9999010000000501,2025-05-01\n", encoding="utf-8")
    load_signal(offered, "vacancy", reg)
    cfg = load_config(overrides={"vacancy": {"min_building_area_m2": 1000}})   # 800 m2: not detected
    run_detect(offered, cfg, run_id=1, day=DAY)
    cands, _ = _rows(offered)
    b = cands["pand:" + OFFICE]
    assert b.confidence == pytest.approx(0.7) and b.area_m2 == 800
    assert [e["signal"] for e in b.evidence] == ["offered_by_owner", "vacancy_register"]
    assert b.details["units_vacant"] == 1 and b.details["vacant_area_m2"] == 800
    assert b.details["detection"].startswith("vacancy signals below the detection threshold")
