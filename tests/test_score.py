"""Score arithmetic: decays, weight normalisation, not-applicable criteria, exclusions, ties, reordering."""
import copy

import numpy as np
import pandas as pd
import pytest

from plekzoeker.scoring.score import compute_scores, distance_subscore, linear_between
from plekzoeker.settings import load_config


def test_distance_subscore_decay():
    d = np.array([0, 400, 800, 1200, 2000, np.nan])
    s = distance_subscore(d, threshold=400, cap=1200)
    assert s.tolist() == [1.0, 1.0, 0.5, 0.0, 0.0, 0.0]


def test_linear_between_noise():
    s = linear_between(np.array([40, 50, 57.5, 65, 80, np.nan]), good=50, bad=65)
    assert s[:5].tolist() == [1.0, 1.0, 0.5, 0.0, 0.0]
    assert np.isnan(s[5])


def _cfg(weights):
    cfg = load_config()
    cfg["access"]["categories"] = {"stop": {"tags": [], "threshold_m": 400, "cap_m": 1200},
                                   "supermarket": {"tags": [], "threshold_m": 1000, "cap_m": 3000}}
    cfg["score"]["weights"] = weights
    return cfg


def _cands():
    return pd.DataFrame({"candidate_key": ["a", "b", "c"], "kind": ["vacant_building", "vacant_building", "undeveloped_plot"],
                         "municipality": ["GM0001", "GM0002", "GM0001"], "area_m2": [1000.0, 2000.0, 4000.0],
                         "confidence": [0.8, 0.4, None]})


def _dist():
    return pd.DataFrame({"stop": [400.0, 800.0, np.nan], "supermarket": [3000.0, 1000.0, 2000.0]}, index=["a", "b", "c"])


def test_weighted_mean_and_not_applicable_confidence():
    cfg = _cfg({"stop": 1.0, "supermarket": 1.0, "vacancy_confidence": 2.0, "area": 0.0})
    out = compute_scores(_cands(), _dist(), None, cfg).set_index("candidate_key")
    # a: stop 1, supermarket 0, conf 0.8*2 -> (1 + 0 + 1.6) / 4
    assert out.loc["a", "score"] == pytest.approx(2.6 / 4, abs=1e-4)
    # b: stop 0.5, supermarket 1, conf 0.4*2 -> (0.5 + 1 + 0.8) / 4
    assert out.loc["b", "score"] == pytest.approx(2.3 / 4, abs=1e-4)
    # c (plot): no confidence criterion -> renormalised over stop (unreachable: 0) and supermarket (0.5)
    assert out.loc["c", "score"] == pytest.approx(0.5 / 2, abs=1e-4)
    assert "vacancy_confidence" not in out.loc["c", "weights"]
    assert out.loc["c", "criteria"]["dist_stop_m"] is None
    assert out.loc["a", "rank"] == 1 and out.loc["b", "rank"] == 2 and out.loc["c", "rank"] == 3
    assert out.loc["c", "rank_municipality"] == 2 and out.loc["b", "rank_municipality"] == 1


def test_weight_change_reorders():
    cfg = _cfg({"stop": 1.0, "supermarket": 5.0, "vacancy_confidence": 0.0, "area": 0.0})
    out = compute_scores(_cands(), _dist(), None, cfg).set_index("candidate_key")
    assert out.loc["b", "rank"] == 1  # supermarket-heavy weights favour b now


def test_hard_exclusion_keeps_reason_and_no_rank():
    cfg = _cfg({"stop": 1.0, "supermarket": 1.0, "noise": 1.0})
    noise = pd.Series([55.0, 72.0, 60.0], index=["a", "b", "c"])
    out = compute_scores(_cands(), _dist(), noise, cfg).set_index("candidate_key")
    assert out.loc["b", "excluded_reason"].startswith("mean noise Lden above")
    assert pd.isna(out.loc["b", "score"]) and pd.isna(out.loc["b", "rank"])
    assert out.loc["a", "subscores"]["noise"] == pytest.approx(2 / 3, abs=1e-3)


def test_ties_break_by_key_and_are_stable():
    cfg = _cfg({"stop": 1.0})
    c = _cands().assign(candidate_key=["z", "y", "x"])
    d = pd.DataFrame({"stop": [100.0, 100.0, 100.0]}, index=["z", "y", "x"])
    out = compute_scores(c, d, None, cfg).set_index("candidate_key")
    assert [out.loc[k, "rank"] for k in ("x", "y", "z")] == [1, 2, 3]
    again = compute_scores(c, d, None, copy.deepcopy(cfg)).set_index("candidate_key")
    assert out["rank"].equals(again["rank"])


# ---- context criteria: residential decay, raw context, flood exclusion ------------------------------


def _context(**cols):
    return pd.DataFrame(cols, index=pd.Index(["a", "b", "c"], name="candidate_key"))


def test_residential_decay_is_in_the_breakdown_but_not_weighted_by_default():
    cfg = _cfg({"stop": 1.0, "supermarket": 1.0})
    ctx = _context(dist_residential_m=[0.0, 1250.0, np.nan], candidates_nearby=[3, 0, 1],
                   noise_lden_max_db=[61.26, 48.0, np.nan])
    out = compute_scores(_cands(), _dist(), None, cfg, context=ctx).set_index("candidate_key")
    plain = compute_scores(_cands(), _dist(), None, cfg).set_index("candidate_key")
    assert out["score"].equals(plain["score"])                    # weight 0: the score does not move
    assert out.loc["a", "subscores"]["residential"] == 1.0
    assert out.loc["b", "subscores"]["residential"] == pytest.approx(0.5)     # 500 m -> 1, 2,000 m -> 0
    assert out.loc["c", "subscores"]["residential"] is None                   # no residential area: n/a
    assert out.loc["a", "weights"]["residential"] == 0.0 and "residential" not in out.loc["c", "weights"]
    assert out.loc["a", "criteria"]["dist_residential_m"] == 0.0
    assert out.loc["a", "criteria"]["candidates_nearby"] == 3.0
    assert out.loc["a", "criteria"]["noise_lden_max_db"] == 61.3
    assert "noise" not in out.loc["a", "subscores"]                           # max noise is context only


def test_residential_weight_and_decay_settings_count():
    cfg = _cfg({"stop": 1.0, "residential": 1.0})
    cfg["score"].update(residential_good_m=100.0, residential_bad_m=300.0)
    ctx = _context(dist_residential_m=[300.0, 0.0, 200.0])
    out = compute_scores(_cands(), _dist(), None, cfg, context=ctx).set_index("candidate_key")
    # a: stop 1, residential 0 -> 0.5; b: stop 0.5, residential 1 -> 0.75; c: stop 0, residential 0.5 -> 0.25
    assert out["score"].to_dict() == pytest.approx({"a": 0.5, "b": 0.75, "c": 0.25})
    assert out.loc["b", "rank"] == 1 and out.loc["c", "rank"] == 3


def test_flood_depth_hard_exclusion_and_combined_reasons():
    cfg = _cfg({"stop": 1.0, "noise": 1.0})
    cfg["score"]["hard_exclude"] = {"noise_lden_above_db": 70, "flood_depth_above_m": 0.5}
    ctx = _context(noise_lden_db=[55.0, 72.0, 60.0], flood_depth_max_m=[0.126, 0.8, np.nan])
    out = compute_scores(_cands(), _dist(), None, cfg, context=ctx).set_index("candidate_key")
    assert out.loc["b", "excluded_reason"] == "mean noise Lden above 70 dB; max flood depth above 0.5 m"
    assert pd.isna(out.loc["b", "score"]) and pd.isna(out.loc["b", "rank"])
    assert pd.isna(out.loc["a", "excluded_reason"]) and pd.isna(out.loc["c", "excluded_reason"])   # NaN: no cell
    assert out.loc["a", "criteria"]["flood_depth_max_m"] == 0.13
    assert out.loc["a", "subscores"]["noise"] == pytest.approx(2 / 3, abs=1e-3)   # mean noise taken from context
    ctx2 = ctx.assign(flood_depth_max_m=[0.6, 0.0, 0.0])
    out2 = compute_scores(_cands(), _dist(), None, cfg, context=ctx2).set_index("candidate_key")
    assert out2.loc["a", "excluded_reason"] == "max flood depth above 0.5 m"
    cfg["score"]["hard_exclude"]["flood_depth_above_m"] = None
    out3 = compute_scores(_cands(), _dist(), None, cfg, context=ctx2).set_index("candidate_key")
    assert pd.isna(out3.loc["a", "excluded_reason"])                        # limit not set: no exclusion


def test_land_cover_subscore_for_plots_only():
    cfg = _cfg({"stop": 1.0, "land_cover": 1.0})
    cands = _cands().assign(land_cover_penalty=[None, None, 0.25])
    out = compute_scores(cands, _dist(), None, cfg).set_index("candidate_key")
    assert out.loc["c", "subscores"]["land_cover"] == 0.75
    assert out.loc["c", "score"] == pytest.approx((0.0 + 0.75) / 2)      # stop unreachable: 0
    assert "land_cover" not in out.loc["a", "weights"]                    # buildings: does not apply
    assert out.loc["a", "score"] == 1.0


def test_penalty_config_is_validated():
    from plekzoeker.errors import ConfigError
    with pytest.raises(ConfigError, match="penalise_osm.*not a land-use class"):
        load_config(overrides={"plots": {"penalise_osm": {"landuse=farmyard": 0.5}}})
    with pytest.raises(ConfigError, match=r"penalty in \(0, 1\]"):
        load_config(overrides={"plots": {"penalise_bgt": {"begroeidterreindeel:groenvoorziening": 2}}})
    with pytest.raises(ConfigError, match="also a hard exclusion"):
        load_config(overrides={"plots": {"penalise_osm": {"leisure=park": 0.5}}})


def test_no_data_category_is_left_out_but_beyond_cap_keeps_zero():
    """A category without data is not applicable (weight dropped); a POI beyond the cap is a real 0."""
    from plekzoeker.scoring.coverage import no_data_categories, poi_coverage

    cfg = _cfg({"stop": 1.0, "supermarket": 1.0})
    cands_xy = np.array([[0.0, 0.0], [5000.0, 0.0], [0.0, 9000.0]])
    cats = {"stop": {"cap_m": 1200.0}, "supermarket": {"cap_m": 3000.0}, "pharmacy": {"cap_m": 4000.0}}
    pois = pd.DataFrame({"category": ["stop", "supermarket", "pharmacy"], "x": [100.0, 7900.0, 20000.0],
                         "y": [0.0, 0.0, 0.0]})
    cov = poi_coverage(cands_xy, pois, cats)
    assert cov["stop"] == {"pois": 1, "pois_within_cap": 1, "no_data": False}
    assert cov["supermarket"] == {"pois": 1, "pois_within_cap": 1, "no_data": False}   # 2,900 m from the 2nd
    assert cov["pharmacy"] == {"pois": 1, "pois_within_cap": 0, "no_data": True}       # 15 km from all
    assert no_data_categories(cov) == ["pharmacy"]
    cands = _cands()
    dist = pd.DataFrame({"stop": [100.0, np.nan, np.nan], "supermarket": [3500.0, 2900.0, np.nan]}, index=["a", "b", "c"])
    with_sm = compute_scores(cands, dist, None, cfg).set_index("candidate_key")
    without = compute_scores(cands, dist, None, cfg, no_data=["supermarket"]).set_index("candidate_key")
    assert with_sm.loc["a", "subscores"]["supermarket"] == 0.0           # beyond the cap: 0, still weighted
    assert with_sm.loc["a", "score"] == pytest.approx(0.5)
    assert without.loc["a", "subscores"]["supermarket"] is None           # no data: not applicable
    assert "supermarket" not in without.loc["a", "weights"]
    assert without.loc["a", "score"] == 1.0
    assert without.loc["a", "criteria"]["dist_supermarket_m"] == 3500.0  # the distance is still shown
