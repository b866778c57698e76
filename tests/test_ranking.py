"""The ranking a coordinator acts on (issue 19): capacity arithmetic, vetoes and flags, profiles, rank
stability, owner grouping — pure functions on planted numbers, then the whole ranking on a real PostGIS
with facts we insert into result.fact ourselves."""
import copy
import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from plekzoeker.errors import ConfigError
from plekzoeker.outputs.ranking_columns import owner_groups, owner_sheet, rank_range
from plekzoeker.scoring.capacity import CapacityConfig, building_capacity, plot_capacity
from plekzoeker.scoring.flags import Facts, QuickScanConfig, flags, quick_scan_subscore, vetoes
from plekzoeker.scoring.profiles import OwnerPriority, Profiles
from plekzoeker.scoring.ranking import RankingConfig, months_between, rank_candidates, score_by_profile
from plekzoeker.scoring.stability import StabilityConfig, rank_ranges
from plekzoeker.settings import load_config


def _cap(**over):
    cfg = load_config()
    cfg["capacity"].update(over)
    return CapacityConfig.from_config(cfg)


# --- capacity ------------------------------------------------------------------------------------
def test_building_capacity_is_area_over_m2_per_person_and_per_home():
    c = _cap(m2_per_person=[20, 40], m2_per_home=[25, 50])
    got = building_capacity(1000, None, None, c)
    # 1000 m²: 1000/40 = 25 .. 1000/20 = 50 people; 1000/50 = 20 .. 1000/25 = 40 homes
    assert (got.people_low, got.people_high, got.homes_low, got.homes_high) == (25, 50, 20, 40)
    assert "no" not in got.basis and "1000 m² vacant floor area (BAG)" in got.basis


def test_building_capacity_rounds_down_and_low_never_above_high():
    c = _cap(m2_per_person=[30, 30], m2_per_home=[30, 45])
    got = building_capacity(899, None, None, c)
    assert got.people_low == got.people_high == math.floor(899 / 30)      # 29, not 30
    for area in (1, 29, 31, 777, 12345):
        g = building_capacity(area, None, None, _cap())
        assert g.people_low <= g.people_high and g.homes_low <= g.homes_high


def test_floors_times_footprint_caps_an_impossible_bag_area():
    c = _cap(m2_per_person=[20, 40], m2_per_home=[25, 50], floors_tolerance=0.25)
    # 3 floors x 400 m² = 1200 m²; BAG says 2000 m² > 1200 x 1.25 -> capped at 1200
    capped = building_capacity(2000, 3, 400, c)
    assert (capped.people_low, capped.people_high) == (1200 // 40, 1200 // 20)
    assert "more than the building holds" in capped.basis
    # 1400 m² <= 1500 m²: consistent, BAG's area is kept
    kept = building_capacity(1400, 3, 400, c)
    assert (kept.people_low, kept.people_high) == (1400 // 40, 1400 // 20) and "consistent" in kept.basis


def test_plot_capacity_is_hectares_times_density_times_people_per_home():
    c = _cap(homes_per_ha=[40, 60], people_per_home=[1, 2])
    got = plot_capacity(5000, c)                    # 0.5 ha: 20 .. 30 homes, 20 .. 60 people
    assert (got.homes_low, got.homes_high, got.people_low, got.people_high) == (20, 30, 20, 60)


def test_unknown_area_is_unknown_capacity_not_zero():
    c = _cap()
    assert building_capacity(None, 3, 100, c).people_low is None
    assert plot_capacity(float("nan"), c).homes_high is None


@pytest.mark.parametrize("key,value", [("m2_per_person", [35, 25]), ("m2_per_home", [0, 10]), ("homes_per_ha", 50),
                                       ("floors_tolerance", -1)])
def test_capacity_config_is_validated(key, value):
    with pytest.raises(ConfigError, match=f"capacity.{key}"):
        _cap(**{key: value})


# --- vetoes and flags ----------------------------------------------------------------------------
def _qs(**over):
    cfg = load_config()
    cfg["quick_scan"].update(over)
    return QuickScanConfig.from_config(cfg)


def test_vetoes_from_facts_and_unknown_raises_none():
    c = _qs()
    assert vetoes(Facts(kind="vacant_building"), c) == []            # everything unknown: no veto
    blocked = vetoes(Facts(kind="undeveloped_plot", zoning_verdict="blocked", zoning="groen"), c)
    assert blocked == ["zoning blocks housing (groen)"]
    assert vetoes(Facts(kind="undeveloped_plot", zoning_verdict="deviation"), c) == []
    assert vetoes(Facts(kind="vacant_building", pand_status="Sloopvergunning verleend"), c) == \
        ["demolition permit granted (BAG)"]
    assert vetoes(Facts(kind="undeveloped_plot", natura2000="Veluwe"), c) == ["in a Natura 2000 area (Veluwe)"]
    off = _qs(vetoes={"zoning_blocked": False, "natura2000": True, "demolition_permit": True})
    assert vetoes(Facts(kind="undeveloped_plot", zoning_verdict="blocked"), off) == []


def test_flags_are_graded_with_their_penalties():
    c = _qs()
    f = Facts(kind="vacant_building", monument="rijks", bouwjaar=1975, bouwjaar_source="BAG", label_rule=True,
              energy_label="E", depth_m=c.deep_plan_m + 5, units_vacant=4, vacant_area_m2=4 * (c.small_unit_m2 - 10))
    found = flags(f, c)
    assert [k for k, _ in found] == ["monument", "asbestos", "no_label_c", "deep_plan", "small_units"]
    assert "built 1975 (BAG)" in found[1][1] and "label E" in found[2][1]
    expected = max(0.0, 1 - sum(c.penalties.values()))
    assert quick_scan_subscore(found, c) == pytest.approx(expected)
    none = Facts(kind="vacant_building", monument="none", bouwjaar=c.asbestos_before_year, label_rule=False,
                 depth_m=c.deep_plan_m, units_vacant=1, vacant_area_m2=c.small_unit_m2)
    assert flags(none, c) == [] and quick_scan_subscore([], c) == 1.0


def test_unknown_quick_scan_key_is_refused():
    with pytest.raises(ConfigError, match="quick_scan.flags"):
        _qs(flags={"haunted": 0.5})


# --- profiles ------------------------------------------------------------------------------------
def _profiles(profiles):
    cfg = load_config()
    cfg["score"]["profiles"] = profiles
    return cfg


def test_profile_selection_and_merge_with_score_weights():
    cfg = _profiles({"GM0002": {"weights": {"stop": 9.0}}, "default": {"weights": {"park": 0.0}}})
    p = Profiles.from_config(cfg)
    assert p.name_for("GM0002") == "GM0002" and p.name_for("GM0001") == "default" and p.name_for(None) == "default"
    base = cfg["score"]["weights"]
    assert p.weights_for("GM0002") == {**base, "stop": 9.0}               # own profile: score.weights + its own
    assert p.weights_for("default") == {**base, "park": 0.0}
    assert Profiles.from_config(_profiles({})).weights_for(p.name_for("GM0002")) == base


@pytest.mark.parametrize("profiles,match", [
    ({"Ede": {"weights": {}}}, "GMxxxx"),
    ({"GM0228": {"weights": {"nonsense": 1.0}}}, "not a criterion"),
    ({"GM0228": {"weights": {"stop": -1}}}, ">= 0"),
    ({"GM0228": {"weight": {"stop": 1}}}, "weights"),
])
def test_bad_profiles_are_one_config_error(profiles, match):
    with pytest.raises(ConfigError, match=match):
        Profiles.from_config(_profiles(profiles))


def test_each_municipality_is_scored_with_its_own_profile():
    cfg = load_config()
    cfg["access"]["categories"] = {"stop": {"tags": [], "threshold_m": 400, "cap_m": 1200},
                                   "supermarket": {"tags": [], "threshold_m": 1000, "cap_m": 3000}}
    cfg["score"]["weights"] = {"stop": 1.0, "supermarket": 1.0}
    cfg["score"]["profiles"] = {"GM0002": {"weights": {"stop": 0.0}}}
    rc = RankingConfig.from_config(cfg)
    cands = pd.DataFrame({"candidate_key": ["a", "b"], "kind": "vacant_building", "municipality": ["GM0001", "GM0002"],
                          "area_m2": 1000.0, "confidence": 0.5})
    dist = pd.DataFrame({"stop": [400.0, 400.0], "supermarket": [2000.0, 2000.0]}, index=["a", "b"])
    out = score_by_profile(cands, dist, cfg, rc, pd.DataFrame(index=["a", "b"])).set_index("candidate_key")
    assert out.loc["a", "profile"] == "default" and out.loc["b", "profile"] == "GM0002"
    assert out.loc["a", "score"] == pytest.approx((1.0 + 0.5) / 2)          # stop 1, supermarket 0.5
    assert out.loc["b", "score"] == pytest.approx(0.5)                      # GM0002: supermarket only
    assert out.loc["b", "weights"]["stop"] == 0.0


# --- owners --------------------------------------------------------------------------------------
def test_owner_tiers_subscore_and_unknown():
    cfg = load_config()
    o = OwnerPriority.from_config(cfg)
    assert o.tier("municipality") == 1 and o.subscore("municipality") == 1.0
    assert o.subscore("natural_person") == 0.0 and o.subscore("company") == pytest.approx(0.5)
    assert math.isnan(o.subscore(None)) and o.sort_tier(None) == cfg["owners"]["unknown_tier"]
    cfg["owners"]["priority"] = {"banana": 1}
    with pytest.raises(ConfigError, match="owner kind"):
        OwnerPriority.from_config(cfg)


def test_owner_groups_number_owners_by_their_best_rank_and_count_places():
    keys = pd.Series(["k1", "k2", "k3", "k4", "k5"])
    names = pd.Series(["Corp", "Gemeente", None, "Corp", "Gemeente"])
    kinds = pd.Series(["housing_corporation", "municipality", None, "housing_corporation", "municipality"])
    rank = pd.Series([4, 1, 2, 3, 5])
    g = owner_groups(keys, names, kinds, rank)
    assert [None if pd.isna(x) else x for x in g["owner_group"]] == ["owner 2", "owner 1", None, "owner 2", "owner 1"]
    assert g["owner_places"].tolist()[:2] == [2, 2] and pd.isna(g["owner_places"][2])
    # same name, other kind: another owner
    other = owner_groups(keys[:2], pd.Series(["X", "X"]), pd.Series(["company", "municipality"]), rank[:2])
    assert other["owner_group"].nunique() == 2


def test_by_owner_sheet_groups_rows_best_tier_first():
    df = pd.DataFrame({"owner_group": ["owner 2", "owner 1", None, "owner 2"], "owner_kind": ["company", "state", None, "company"],
                       "owner_places": [2, 1, None, 2], "owner_priority": [2, 1, None, 2], "rank": [1, 3, 2, 4],
                       "address_or_parcel": ["a", "b", "c", "d"], "candidate_key": ["ka", "kb", "kc", "kd"]})
    cols, rows = owner_sheet(df)
    at = cols.index("address_or_parcel")
    assert [r[at] for r in rows] == ["b", "a", "d"]          # tier 1 owner first; owner 2's places together


# --- stability -----------------------------------------------------------------------------------
def test_rank_range_without_spread_is_the_rank_itself():
    S = np.array([[1.0, 0.0], [0.0, 1.0], [0.2, 0.2]])
    W = np.array([[1.0, 1.1]] * 3)
    lo, hi = rank_ranges(S, W, None, StabilityConfig(draws=50, spread=0.0, seed=1))
    assert lo.tolist() == hi.tolist() == [2, 1, 3]


def test_near_tie_on_different_criteria_swaps_a_dominated_one_never_does():
    S = np.array([[1.0, 0.0], [0.0, 1.0], [0.1, 0.1]])     # a and b tie under equal weights; c is dominated
    W = np.ones((3, 2))
    c = StabilityConfig(draws=300, spread=0.25, seed=7)
    lo, hi = rank_ranges(S, W, None, c)
    assert (lo[0], hi[0]) == (1, 2) and (lo[1], hi[1]) == (1, 2) and (lo[2], hi[2]) == (3, 3)
    again = rank_ranges(S, W, None, c)
    assert (again[0] == lo).all() and (again[1] == hi).all()                   # seeded


def test_groups_rank_before_the_score_in_every_draw():
    S = np.array([[0.1], [0.9]])
    lo, hi = rank_ranges(S, np.ones((2, 1)), np.array([0, 1]), StabilityConfig(100, 0.25, 3))
    assert lo.tolist() == hi.tolist() == [1, 2]


def test_rank_range_words():
    assert rank_range(3, 2, 5) == "rank 3, between 2 and 5"
    assert rank_range(1, 1, 1).startswith("rank 1, stable") and rank_range(None, 1, 2) is None


def test_months_between():
    assert months_between(dt.date(2025, 1, 31), dt.date(2026, 1, 30)) == 11
    assert months_between(dt.date(2025, 1, 15), dt.date(2026, 1, 15)) == 12


# --- the whole ranking on PostGIS ----------------------------------------------------------------
SQUARE = "ST_GeomFromText('POLYGON(({x} 0, {x2} 0, {x2} {d}, {x} {d}, {x} 0))', 28992)"


def _insert(db, rows, facts, owners=(), history=()):
    with db.begin() as c:
        c.execute(sa.text("DELETE FROM result.fact"))
        for key, kind, gm, area, x, depth, details in rows:
            geom = SQUARE.format(x=x, x2=x + 20, d=depth)
            c.execute(sa.text(
                "INSERT INTO result.candidate (candidate_key, kind, source_ids, municipality, area_m2, confidence, "
                f"details, geom, access_point) VALUES (:k, :kind, ARRAY['x'], :gm, :a, :conf, CAST(:d AS jsonb), {geom}, "
                f"ST_SetSRID(ST_MakePoint({x}, 0), 28992))"),
                {"k": key, "kind": kind, "gm": gm, "a": area, "conf": 0.7 if kind == "vacant_building" else None,
                 "d": json.dumps(details)})
        for f in facts:
            c.execute(sa.text("INSERT INTO result.fact (candidate_key, zoning_verdict, zoning, monument, bouwjaar, floors) "
                              "VALUES (:k, :zv, :z, :m, :b, :f)"), f)
        for o in owners:
            c.execute(sa.text("INSERT INTO core.owner (kadastrale_aanduiding, owner_name, owner_kind) VALUES (:a, :n, :k)"), o)
        for key, first in history:
            c.execute(sa.text("INSERT INTO result.candidate_history (candidate_key, kind, first_seen, last_seen) "
                              "VALUES (:k, 'vacant_building', :f, :f)"), {"k": key, "f": first})


def test_ranking_on_postgis_vetoes_flags_capacity_owner_and_long_vacancy(db):
    cfg = load_config()
    cfg["access"]["categories"] = {"stop": {"tags": [], "threshold_m": 400, "cap_m": 1200}}
    cfg["score"]["weights"] = {"stop": 1.0, "quick_scan": 1.0, "owner": 1.0, "long_vacancy": 1.0, "area": 0.0}
    today = dt.date(2026, 12, 1)
    rows = [("pand:1", "vacant_building", "GM0001", 3000.0, 0, 10, {"pand_id": "p1", "units_vacant": 2, "vacant_area_m2": 3000}),
            ("pand:2", "vacant_building", "GM0001", 800.0, 100, 10, {"pand_id": "p2", "units_vacant": 1, "vacant_area_m2": 800}),
            ("perceel:A 1", "undeveloped_plot", "GM0001", 5000.0, 200, 10, {}),
            ("perceel:A 2", "undeveloped_plot", "GM0001", 5000.0, 300, 10, {})]
    facts = [{"k": "pand:1", "zv": None, "z": None, "m": "rijks", "b": 1970, "f": 2},       # 2 x 200 m² footprint
             {"k": "perceel:A 2", "zv": "blocked", "z": "agrarisch", "m": None, "b": None, "f": None}]
    owners = [{"a": "A 1", "n": "Gemeente X", "k": "municipality"}]
    history = [("pand:1", dt.date(2025, 6, 1)), ("pand:2", today)]      # history reaches back 18 months
    _insert(db, rows, facts, owners, history)
    cands = pd.DataFrame([{"candidate_key": r[0], "kind": r[1], "municipality": r[2], "area_m2": r[3],
                           "confidence": 0.7 if r[1] == "vacant_building" else None} for r in rows])
    dist = pd.DataFrame({"stop": [100.0] * 4}, index=[r[0] for r in rows])
    scores, ranking, info = rank_candidates(db, cands, dist, cfg, run_id=1, today=today)
    s, r = scores.set_index("candidate_key"), ranking.set_index("candidate_key")
    # veto: zoning blocked -> not ranked, reason kept
    assert pd.isna(s.loc["perceel:A 2", "score"]) and pd.isna(s.loc["perceel:A 2", "rank"])
    assert "zoning blocks housing (agrarisch)" in s.loc["perceel:A 2", "excluded_reason"]
    assert json.loads(r.loc["perceel:A 2", "vetoes"]) == ["zoning blocks housing (agrarisch)"]
    # capacity of pand:1 capped at floors x footprint (2 x 20 m x 10 m = 400 m² << 3000 m²)
    cc = CapacityConfig.from_config(cfg)
    assert r.loc["pand:1", "people_high"] == math.floor(2 * 20 * 10 / cc.m2_per_person[0])
    assert r.loc["pand:2", "people_high"] == math.floor(800 / cc.m2_per_person[0])   # BAG's 800 m², no floors known
    # flags: monument from facts, bouwjaar from facts
    fl = json.loads(r.loc["pand:1", "flags"])
    assert any("rijksmonument" in x for x in fl) and any("built 1970 (facts)" in x for x in fl)
    qc = QuickScanConfig.from_config(cfg)
    assert s.loc["pand:1", "subscores"]["quick_scan"] == pytest.approx(1 - qc.penalties["monument"] - qc.penalties["asbestos"])
    # owner: the municipality's plot ranks first (tier 1, owner sub-score 1); others unknown (not applicable)
    assert s.loc["perceel:A 1", "rank"] == 1 and r.loc["perceel:A 1", "owner_kind"] == "municipality"
    assert "owner" not in s.loc["pand:2", "weights"]
    # long vacancy: 18 months flagged -> 1; flagged today -> 0; plots: not applicable
    assert r.loc["pand:1", "months_flagged"] == 18 and s.loc["pand:1", "subscores"]["long_vacancy"] == 1.0
    assert s.loc["pand:2", "subscores"]["long_vacancy"] == 0.0
    assert "long_vacancy" not in s.loc["perceel:A 1", "weights"]
    # relative score and rank range of the ranked ones
    ranked = s[s["rank"].notna()]
    assert sorted(r.loc[ranked.index, "score_relative"]) == [0.0, 0.5, 1.0]
    for k in ranked.index:
        assert r.loc[k, "rank_low"] <= s.loc[k, "rank_municipality"] <= r.loc[k, "rank_high"]
    assert info["score_profiles"]["default"] == cfg["score"]["weights"]


def test_profile_of_another_municipality_changes_nothing_here(db):
    cfg = load_config()
    cfg["access"]["categories"] = {"stop": {"tags": [], "threshold_m": 400, "cap_m": 1200}}
    rows = [("pand:1", "vacant_building", "GM0001", 900.0, 0, 10, {}), ("pand:2", "vacant_building", "GM0002", 900.0, 100, 10, {})]
    _insert(db, rows, [])
    cands = pd.DataFrame([{"candidate_key": r[0], "kind": r[1], "municipality": r[2], "area_m2": r[3], "confidence": 0.5}
                          for r in rows])
    dist = pd.DataFrame({"stop": [700.0, 700.0]}, index=["pand:1", "pand:2"])
    base, _, _ = rank_candidates(db, cands, dist, cfg, 1)
    other = copy.deepcopy(cfg)
    other["score"]["profiles"] = {"GM0002": {"weights": {"vacancy_confidence": 0.0}}}
    changed, ranking, info = rank_candidates(db, cands, dist, other, 1)
    b, c = base.set_index("candidate_key"), changed.set_index("candidate_key")
    assert c.loc["pand:1", "score"] == b.loc["pand:1", "score"]
    assert c.loc["pand:2", "score"] != b.loc["pand:2", "score"]
    assert ranking.set_index("candidate_key")["profile"].to_dict() == {"pand:1": "default", "pand:2": "GM0002"}
    assert info["score_profiles"]["GM0002"]["vacancy_confidence"] == 0.0
