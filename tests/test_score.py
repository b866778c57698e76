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
