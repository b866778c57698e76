"""Walking legs on a street graph and door-to-door travel times, on a straight street with a known answer."""
import numpy as np
import pandas as pd

from plekzoeker.scoring.access import build_graph
from plekzoeker.scoring.csa import build_timetable
from plekzoeker.scoring.transit import travel_times
from plekzoeker.scoring.transit_walk import walk_legs

X0, Y0 = 150_000.0, 450_000.0


def street(n=31, step=100.0):
    nodes = pd.DataFrame({"node_id": np.arange(n), "x": X0 + np.arange(n) * step, "y": Y0})
    edges = pd.DataFrame({"u": np.arange(n - 1), "v": np.arange(1, n), "length_m": step, "walk": True, "bike": True,
                          "oneway_bike": False})
    return build_graph(nodes, edges, "walk")


def pts(*xs):
    return np.array([[X0 + x, Y0] for x in xs], dtype=float)


def legs(cands, stops, pois, **kw):
    args = {"max_walk_m": 500, "transfer_max_m": 350, "speed_m_s": 1.0, "max_snap_m": 50, "snap_to": "node"} | kw
    return walk_legs(street(), pts(*cands), pts(*stops), pts(*pois), **args)


def test_walk_legs_pairs_within_the_limits():
    lg = legs([0], [200, 2500, 2800], [2700, 100])
    assert sorted(zip(lg.access.src, lg.access.dst, lg.access.seconds)) == [(0, 0, 200)]
    assert sorted(zip(lg.transfers.src, lg.transfers.dst, lg.transfers.seconds)) == [(1, 2, 300), (2, 1, 300)]
    assert sorted(zip(lg.egress.src, lg.egress.dst, lg.egress.seconds)) == [(0, 1, 100), (1, 0, 200), (2, 0, 100)]
    assert sorted(zip(lg.direct.src, lg.direct.dst, lg.direct.seconds)) == [(0, 1, 100)]


def test_door_to_door_median_best_and_counts():
    lg = legs([0, 1500], [200, 2500], [2700, 100])
    # one bus A (stop 0) 08:00 -> B (stop 1) 08:05
    tt = build_timetable(2, 1, (np.array([0]), np.array([1]), np.array([28800]), np.array([29100]), np.array([0])),
                         (lg.transfers.src, lg.transfers.dst, lg.transfers.seconds))
    deps = [28500, 28560, 28620]
    res = travel_times(tt, lg, 2, np.array([0, 1]), 2, deps, max_travel_s=3600, within_s=1800)
    # candidate 0: walk 200 s to A, bus, walk 200 s from B to the GP -> 29300 when leaving by 07:56 (28560);
    # leaving at 07:57 it reaches A at 08:00:20 and misses the bus: times 800, 740, none -> median 800
    assert res["median"][0, 0] == 29300 - 28500 and res["best"][0, 0] == 29300 - 28560
    assert res["median"][0, 1] == 100            # the supermarket is a 100 s walk
    assert list(res["within"][0]) == [1, 1]
    # candidate 1 (1500 m along) reaches no stop within 500 m and no POI on foot: unknown, not 0
    assert np.isinf(res["median"][1]).all() and list(res["within"][1]) == [0, 0]
    # a bus leaving before the walk gets there is missed: no connection
    late = travel_times(tt, lg, 2, np.array([0, 1]), 2, [28700], max_travel_s=3600, within_s=1800)
    assert np.isinf(late["median"][0, 0])
    # and a journey longer than max_travel counts as none
    short = travel_times(tt, lg, 2, np.array([0, 1]), 2, deps, max_travel_s=760, within_s=1800)
    assert short["median"][0, 0] == np.inf and short["best"][0, 0] == 740
