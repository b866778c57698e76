"""Special objects (garage boxes, utility huts, tiny units): the rules with known answers, and the
filter on real-shaped LVBAG data loaded through the real reader next to the real Doesburg extract.

Each test fails when the filter is broken either way: too narrow (the garage complex becomes a
candidate) or too broad (the office building with small suites disappears, CBS's Rotterdam lesson).
"""
import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from lvbag_fixture import pand, vbo, write_extract

from plekzoeker.errors import ConfigError
from plekzoeker.scoring.detect import run_detect
from plekzoeker.scoring.special_objects import SpecialObjects, special_reason
from plekzoeker.scoring.vacancy import aggregate_buildings, read_units, unit_evidence
from plekzoeker.scoring.vacancy_config import VacancyConfig
from plekzoeker.settings import load_config
from plekzoeker.sources.bag import load_bag

DATA = Path(__file__).resolve().parent / "data" / "lvbag"
TODAY = dt.date(2026, 11, 1)
OTHER, OFFICE = "overige gebruiksfunctie", "kantoorfunctie"
BOX = OTHER
OUT = "Verblijfsobject buiten gebruik"
USES = {"vacancy": {"gebruiksdoelen": [OFFICE, "industriefunctie", OTHER]}}
# ids in the real format (4-digit gemeente code, 2-digit object type: 10 pand, 01 verblijfsobject)
COMPLEX, HUT, HUT_ADDR, SUITES, KIOSK = ("9999100000000101", "9999100000000201", "9999100000000202",
                                         "9999100000000301", "9999100000000401")
X0, Y0 = 206600.0, 447700.0   # next to the real Doesburg objects


def _sc(**kw) -> SpecialObjects:
    return SpecialObjects.from_config({"vacancy": {**load_config()["vacancy"], **kw}})


class U:
    """A unit row as sql/vacancy_units.sql returns it (only what the rules read)."""

    def __init__(self, uses, area, foot=400.0, units=1, boxes=0):
        self.gebruiksdoelen, self.oppervlakte, self.pand_footprint_m2 = uses, area, foot
        self.pand_units, self.pand_box_units = units, boxes


def test_rules_with_known_answers():
    sc = _sc()
    assert (sc.min_unit_area_m2, sc.hut_max_footprint_m2, sc.garage_box_max_m2) == (10, 20, 30)
    assert special_reason(U([OTHER], 12), sc) == "garage box or storage: overige gebruiksfunctie, 12 m2 (at most 30 m2)"
    assert special_reason(U([OTHER], 30), sc).startswith("garage box")
    assert special_reason(U([OTHER], 31), sc) is None                       # larger than a double garage
    assert special_reason(U([OTHER, OFFICE], 12), sc) is None               # mixed use: not a box
    assert special_reason(U([OFFICE], 12), sc) is None                      # a small office is an office
    assert special_reason(U([OFFICE], 9), sc) == "tiny unit: 9 m2 (below 10 m2)"
    assert special_reason(U([OFFICE], None), sc) is None                    # unknown area: no evidence
    assert special_reason(U([OTHER], 6, foot=6.0), sc) == \
        "utility hut or kiosk: building footprint 6 m2 (below 20 m2)"
    assert special_reason(U([OFFICE], 80, foot=19.9), sc).startswith("utility hut")
    assert special_reason(U([OFFICE], 80, foot=20.0), sc) is None
    # garage complex: 5 boxes of 6 units (share 0.83) -> a workshop box registered as industriefunctie is a box too
    assert special_reason(U(["industriefunctie"], 14, units=6, boxes=5), sc) == \
        "garage complex: 5 of the building's 6 units are garage boxes (overige gebruiksfunctie, at most 30 m2)"
    assert special_reason(U(["industriefunctie"], 14, units=6, boxes=4), sc) is None   # 4 boxes: too few
    assert special_reason(U(["industriefunctie"], 14, units=10, boxes=7), sc) is None  # share 0.7
    assert special_reason(U(["industriefunctie"], 31, units=6, boxes=5), sc) is None   # larger than a box
    # the rules switch off at 0
    off = SpecialObjects(0, 0, 0, 0, 0.8)
    assert all(special_reason(u, off) is None for u in (U([OTHER], 12), U([OFFICE], 3, foot=6.0),
                                                         U(["industriefunctie"], 14, units=6, boxes=5)))


@pytest.mark.parametrize("key,value", [("min_unit_area_m2", -1), ("special_objects", {"garage_box_max_m2": "big"}),
                                       ("special_objects", {"garage_complex_min_share": 0}),
                                       ("special_objects", {"garage_complex_min_units": 2.5}),
                                       ("special_objects", {"box_size": 3})])
def test_config_is_validated(key, value):
    v = load_config()["vacancy"]
    v[key] = {**v["special_objects"], **value} if key == "special_objects" else value
    with pytest.raises(ConfigError, match=r"config vacancy\.(min_unit_area_m2|special_objects)"):
        SpecialObjects.from_config({"vacancy": v})


def _unit(i, pand_id, uses, area, status=OUT, **kw):
    base = dict(identificatie=f"9999010000000{i:03d}", pand_id=pand_id, gebruiksdoelen=uses, oppervlakte=area,
                status=status, documentdatum=dt.date(2020, 1, 1), postcode=None, huisnummer=None, huisletter=None,
                toevoeging=None, openbare_ruimte=None, woonplaats=None, pand_status="Pand in gebruik", x=0.0, y=0.0,
                register_since=None, register_file=None, in_register=False, establishment_active=None,
                kwh_per_m2=None, listed_since=None, pand_footprint_m2=550.0, pand_units=1, pand_box_units=0)
    return {**base, **kw}


def test_aggregation_excludes_a_garage_complex_and_keeps_small_offices():
    """44 boxes of 12 m2 out of use (528 m2 >= 500) -> excluded with the reason; 30 office suites of 20 m2
    with one 8 m2 storage unit -> a candidate of 600 m2 (the storage unit not counted)."""
    cfg = VacancyConfig.from_config(load_config())
    sc = cfg.special
    rows = [_unit(i, COMPLEX, [BOX], 12, pand_units=44, pand_box_units=44) for i in range(44)]
    rows += [_unit(100 + i, SUITES, [OFFICE], 20, pand_footprint_m2=300.0, pand_units=31, pand_box_units=1)
             for i in range(30)]
    rows.append(_unit(200, SUITES, [OTHER], 8, pand_footprint_m2=300.0, pand_units=31, pand_box_units=1))
    units = pd.DataFrame(rows)
    units["special"] = [special_reason(r, sc) for r in units.itertuples(index=False)]
    cands, excl = aggregate_buildings(unit_evidence(units, cfg, set(), today=TODAY), cfg)
    assert cands["candidate_key"].tolist() == [f"pand:{SUITES}"]
    c = cands.iloc[0]
    assert c["area_m2"] == 600 and c["details"]["units_vacant"] == 30 and c["details"]["units_total"] == 31
    assert c["details"]["special_objects"] == {"garage box or storage": 1}
    assert excl["candidate_key"].tolist() == [f"pand:{COMPLEX}"]
    assert excl.iloc[0]["reason"] == ("special object (not a place to live): garage complex: 44 of the building's 44 "
                                      "units are garage boxes (overige gebruiksfunctie, at most 30 m2); "
                                      "44 vacant unit(s), 528 m2")
    # the same units without the filter: the complex would be listed (so this test can fail)
    cands2, _ = aggregate_buildings(unit_evidence(units.assign(special=None), cfg, set(), today=TODAY), cfg)
    assert sorted(cands2["candidate_key"]) == [f"pand:{COMPLEX}", f"pand:{SUITES}"]


def _rect(x, y, w, h):
    return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]


def _extract(folder: Path) -> None:
    """The real Doesburg PND/VBO/NUM/OPR/WPL files plus a real-shaped 9999 extract:

    - a garage complex: one pand of 2 rows x 22 boxes of 2.5 x 5 m (55 x 10 m), 43 boxes overige
      gebruiksfunctie of 12 m2 and one used as a workshop (industriefunctie, 12 m2), all out of use;
    - two transformer huts of 3 x 2 m: one without any unit (as most are), one with an addressed unit
      (overige gebruiksfunctie, 5 m2) in a building out of use;
    - a multi-tenant office (20 x 15 m, 2 floors) with 30 office suites of 20 m2 and one 8 m2 storage
      unit, all out of use: an office building with small units, which must stay a candidate;
    - an office of 700 m2 with a 6 m2 kiosk unit (kantoorfunctie), both out of use.
    """
    for f in DATA.glob("0221*.xml"):
        shutil.copy(f, folder / f.name)
    panden = [pand(COMPLEX, _rect(X0, Y0, 55, 10), bouwjaar=1968), pand(HUT, _rect(X0 + 80, Y0, 3, 2), bouwjaar=1985),
              pand(HUT_ADDR, _rect(X0 + 90, Y0, 3, 2), status="Pand buiten gebruik", bouwjaar=1985),
              pand(SUITES, _rect(X0, Y0 + 40, 20, 15), bouwjaar=1992), pand(KIOSK, _rect(X0 + 60, Y0 + 40, 25, 20))]
    vbos = [vbo(f"9999010000000{i + 1:03d}", COMPLEX, (X0 + 1.25 + 2.5 * (i % 22), Y0 + 2.5 + 5 * (i // 22)),
                ["industriefunctie" if i == 43 else BOX], 12, status=OUT) for i in range(44)]
    vbos.append(vbo("9999010000000201", HUT_ADDR, (X0 + 91.5, Y0 + 1), [OTHER], 5))
    vbos += [vbo(f"9999010000000{301 + i:03d}", SUITES, (X0 + 1 + (i % 10) * 2, Y0 + 41 + (i // 10) * 4), [OFFICE], 20,
                 status=OUT) for i in range(30)]
    vbos.append(vbo("9999010000000331", SUITES, (X0 + 19, Y0 + 54), [OTHER], 8, status=OUT))
    vbos += [vbo("9999010000000401", KIOSK, (X0 + 70, Y0 + 50), [OFFICE], 700, status=OUT),
             vbo("9999010000000402", KIOSK, (X0 + 61, Y0 + 41), [OFFICE], 6, status=OUT)]
    write_extract(folder, "9999", panden, vbos)


@pytest.fixture
def special_bag(db, tmp_path):
    folder = tmp_path / "lvbag"
    folder.mkdir()
    _extract(folder)
    st = load_bag(db, folder)
    assert st.rows_out > 0
    return db


def test_real_shaped_extract_through_detection(special_bag):
    db = special_bag
    cfg = load_config(overrides=USES)
    with db.connect() as c:
        units = read_units(c, load_config(overrides={"vacancy": {"gebruiksdoelen": [OFFICE, "industriefunctie", OTHER,
                                                                                     "woonfunctie"]}}))
    by_id = units.set_index("identificatie")
    assert by_id.loc["9999010000000001", "pand_units"] == 44 and by_id.loc["9999010000000001", "pand_box_units"] == 43
    assert by_id.loc["9999010000000001", "pand_footprint_m2"] == pytest.approx(550)
    assert by_id.loc["9999010000000044", "special"].startswith("garage complex: 43 of the building's 44 units")
    assert by_id.loc["9999010000000201", "special"] == "utility hut or kiosk: building footprint 6 m2 (below 20 m2)"
    assert by_id.loc["9999010000000331", "special"].startswith("garage box or storage")
    assert by_id.loc["9999010000000402", "special"] == "tiny unit: 6 m2 (below 10 m2)"
    assert by_id.loc[[f"9999010000000{301 + i:03d}" for i in range(30)] + ["9999010000000401"], "special"].isna().all()
    # the real Doesburg units: the 18 m2 overige gebruiksfunctie unit is a garage box / storage; the home is not
    real = by_id[by_id.index.str.startswith("0221")]
    assert real.loc["0221010000330999", "special"] == \
        "garage box or storage: overige gebruiksfunctie, 18 m2 (at most 30 m2)"
    assert sorted(real.index) == ["0221010000330226", "0221010000330999"]   # the extract's two current units
    assert real.loc["0221010000330226", "special"] is None                  # a 223 m2 home

    run_detect(db, cfg, run_id=1, day=TODAY)
    with db.connect() as c:
        cands = {r.candidate_key: r for r in c.execute(sa.text("SELECT candidate_key, area_m2, details FROM result.candidate"))}
        excl = dict(c.execute(sa.text("SELECT candidate_key, reason FROM result.exclusion")).all())
    assert sorted(cands) == [f"pand:{SUITES}", f"pand:{KIOSK}"]
    assert cands[f"pand:{SUITES}"].area_m2 == 600 and cands[f"pand:{KIOSK}"].area_m2 == 700
    assert cands[f"pand:{KIOSK}"].details["special_objects"] == {"tiny unit": 1}
    assert excl == {f"pand:{COMPLEX}": "special object (not a place to live): garage complex: 43 of the building's 44 "
                                       "units are garage boxes (overige gebruiksfunctie, at most 30 m2); "
                                       "44 vacant unit(s), 528 m2"}
    # a search for small places (min 5 m2): the hut's unit is still no candidate, and says why
    run_detect(db, load_config(overrides={"vacancy": {**USES["vacancy"], "min_building_area_m2": 5}}), run_id=2, day=TODAY)
    with db.connect() as c:
        excl = dict(c.execute(sa.text("SELECT candidate_key, reason FROM result.exclusion")).all())
    assert excl[f"pand:{HUT_ADDR}"] == ("special object (not a place to live): utility hut or kiosk: building footprint "
                                        "6 m2 (below 20 m2); 1 vacant unit(s), 5 m2")
    # with every rule off the garage complex comes back as a 528 m2 "vacant building" (the filter is what removes it)
    off = {"min_unit_area_m2": 0, "special_objects": {"hut_max_footprint_m2": 0, "garage_box_max_m2": 0,
                                                      "garage_complex_min_units": 0}}
    run_detect(db, load_config(overrides={"vacancy": {**USES["vacancy"], **off}}), run_id=3, day=TODAY)
    with db.connect() as c:
        area = c.execute(sa.text("SELECT area_m2 FROM result.candidate WHERE candidate_key = :k"),
                         {"k": f"pand:{COMPLEX}"}).scalar()
    assert area == 528
