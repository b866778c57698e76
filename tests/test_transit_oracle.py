"""The connection scan (scoring/csa.py) against an independent oracle: a time-expanded graph searched
with networkx Dijkstra, on random and hand-made feeds; plus the service-day rules of scoring/timetable.py
(overnight trips, calendar exceptions, no service, calendar_dates-only feeds)."""
import datetime as dt

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from plekzoeker.scoring.csa import INF, build_timetable, connections_from_calls, earliest_arrival
from plekzoeker.scoring.timetable import active_services, day_calls, interpolate_times, pick_date


# --- the oracle -----------------------------------------------------------------------------------
def oracle_arrivals(n_stops, conns, footpaths, access, t0, change=None):
    """Earliest arrival per stop by Dijkstra on a time-expanded graph (None where unreachable).

    conns: list of (dep_stop, arr_stop, dep_t, arr_t, trip) in trip order; footpaths: {(a, b): w};
    access: {stop: walk seconds}; change: {stop: minimum change seconds} (default none). A ("wait",
    s, t) node is "ready to board at s at t"; a vehicle arrival reaches the wait node of its stop
    only after the stop's change time, and the stop itself at once (the ("arr", i) node counts as
    being there). A footpath may follow a vehicle arrival only (and takes its walk, no change time);
    staying on a trip is an edge to the trip's next connection."""
    change = change or {}
    g = nx.DiGraph()
    times = {s: set() for s in range(n_stops)}
    for i, (a, b, d, t, _) in enumerate(conns):
        g.add_edge(("dep", i), ("arr", i), weight=t - d)
        times[a].add(d)
        m = change.get(b, 0)
        times[b].add(t + m)
        g.add_edge(("arr", i), ("wait", b, t + m), weight=m)
        for (x, y), w in footpaths.items():
            if x == b and x != y:
                g.add_edge(("arr", i), ("wait", y, t + w), weight=w)
                times[y].add(t + w)
    by_trip = {}
    for i, c in enumerate(conns):
        by_trip.setdefault(c[4], []).append(i)
    for idx in by_trip.values():
        idx.sort(key=lambda i: conns[i][2])
        for i, j in zip(idx, idx[1:]):
            if conns[i][1] == conns[j][0]:
                g.add_edge(("arr", i), ("dep", j), weight=conns[j][2] - conns[i][3])
    for s, w in access.items():
        g.add_edge("src", ("wait", s, t0 + w), weight=w)
        times[s].add(t0 + w)
    for s, ts in times.items():
        ts = sorted(ts)
        for u, v in zip(ts, ts[1:]):
            g.add_edge(("wait", s, u), ("wait", s, v), weight=v - u)
    for i, (a, _, d, _, _) in enumerate(conns):
        g.add_edge(("wait", a, d), ("dep", i), weight=0)
    g.add_node("src")
    dist = nx.single_source_dijkstra_path_length(g, "src")
    best = [None] * n_stops
    for node, dd in dist.items():
        if isinstance(node, tuple) and node[0] in ("wait", "arr"):
            s = node[1] if node[0] == "wait" else conns[node[1]][1]
            if best[s] is None or t0 + dd < best[s]:
                best[s] = t0 + dd
    return best


def csa_arrivals(n_stops, conns, footpaths, queries, horizon=10 ** 6, change=None):
    """CSA for several (access, t0) queries at once; None where unreachable."""
    n_trips = max((c[4] for c in conns), default=-1) + 1
    arr = np.array(conns, dtype=np.int64).reshape(-1, 5)
    fp = np.array([(a, b, w) for (a, b), w in footpaths.items()], dtype=np.int64).reshape(-1, 3)
    ch = np.zeros(n_stops, dtype=np.int64)
    for s, m in (change or {}).items():
        ch[s] = m
    tt = build_timetable(n_stops, n_trips, tuple(arr[:, k] for k in range(5)), (fp[:, 0], fp[:, 1], fp[:, 2]), ch)
    init = np.full((n_stops, len(queries)), INF, dtype=np.int32)
    for q, (access, t0) in enumerate(queries):
        for s, w in access.items():
            init[s, q] = t0 + w
    S = earliest_arrival(tt, init, horizon)
    return [[None if S[s, q] >= INF else int(S[s, q]) for s in range(n_stops)] for q in range(len(queries))]


def random_feed(rng, n_stops=9, n_trips=14):
    conns = []
    for trip in range(n_trips):
        k = int(rng.integers(2, 6))
        stops = rng.choice(n_stops, size=k, replace=False)
        t = int(rng.integers(7 * 3600, 9 * 3600))
        for a, b in zip(stops, stops[1:]):
            dur = int(rng.integers(60, 900))
            conns.append((int(a), int(b), t, t + dur, trip))
            t += dur + int(rng.integers(0, 120))
    footpaths = {}
    for _ in range(int(rng.integers(0, 10))):
        a, b = (int(x) for x in rng.choice(n_stops, size=2, replace=False))
        footpaths[(a, b)] = int(rng.integers(30, 600))
    return conns, footpaths


@pytest.mark.parametrize("seed", range(40))
def test_csa_equals_time_expanded_dijkstra(seed):
    rng = np.random.default_rng(seed)
    n = 9
    conns, fps = random_feed(rng, n)
    queries = []
    for _ in range(6):
        acc = {int(s): int(rng.integers(0, 900)) for s in rng.choice(n, size=int(rng.integers(1, 4)), replace=False)}
        queries.append((acc, int(rng.integers(7 * 3600, 8 * 3600 + 1800))))
    got = csa_arrivals(n, conns, fps, queries)
    for q, (acc, t0) in enumerate(queries):
        assert got[q] == oracle_arrivals(n, conns, fps, acc, t0), (seed, q)


def test_csa_agrees_on_enough_random_answers_to_mean_something():
    """The random feeds above are not trivial: many stops are reached by riding, some not at all."""
    rides = unreached = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        conns, fps = random_feed(rng, 9)
        acc = {0: 0}
        res = oracle_arrivals(9, conns, fps, acc, 7 * 3600)
        rides += sum(r is not None for r in res[1:])
        unreached += sum(r is None for r in res)
    assert rides > 100 and unreached > 20


def test_transfer_by_footpath_and_at_the_same_stop():
    # line A: 0 -> 1 (08:00-08:10); line B leaves 2 at 08:14 -> 3 (08:30); footpath 1 -> 2 takes 3 min
    # line C leaves 1 at 08:10 exactly -> 4 (08:20): the same-stop change with no slack is allowed
    conns = [(0, 1, 28800, 29400, 0), (2, 3, 29640, 30600, 1), (1, 4, 29400, 30000, 2)]
    fps = {(1, 2): 180}
    got = csa_arrivals(5, conns, fps, [({0: 0}, 28800)])[0]
    assert got == [28800, 29400, 29580, 30600, 30000]
    assert got == oracle_arrivals(5, conns, fps, {0: 0}, 28800)
    # with a 5-minute walk the 08:14 is missed and nothing else goes to 3
    got = csa_arrivals(5, conns, {(1, 2): 300}, [({0: 0}, 28800)])[0]
    assert got[3] is None and got[2] == 29700


def test_footpaths_do_not_chain_and_unreachable_stays_unknown():
    conns = [(0, 1, 28800, 29000, 0)]
    fps = {(1, 2): 60, (2, 3): 60}
    got = csa_arrivals(4, conns, fps, [({0: 0}, 28800)])[0]
    assert got == [28800, 29000, 29060, None] == oracle_arrivals(4, conns, fps, {0: 0}, 28800)
    # leaving after the only departure: nothing is reached but the origin's stop
    assert csa_arrivals(4, conns, fps, [({0: 0}, 28801)])[0] == [28801, None, None, None]


def test_horizon_limits_the_scan():
    conns = [(0, 1, 28800 + 3000, 28800 + 3100, 0)]
    assert csa_arrivals(2, conns, {}, [({0: 0}, 28800)], horizon=2000)[0][1] is None
    assert csa_arrivals(2, conns, {}, [({0: 0}, 28800)], horizon=4000)[0][1] == 28800 + 3100


# --- minimum change time at a stop (transfers.txt type 2, from_stop_id == to_stop_id) -------------------
def test_too_tight_change_is_missed_and_the_same_trip_is_not_affected():
    # trip 0: 0 -> 1 (08:00-08:10) -> 2 (08:10-08:20); trip 1 leaves 1 at 08:12 -> 3 (08:25);
    # trip 2 leaves 1 at 08:20 -> 3 (08:40). At stop 1 a change takes 3 min.
    conns = [(0, 1, 28800, 29400, 0), (1, 2, 29400, 30000, 0), (1, 3, 29520, 30300, 1), (1, 3, 30000, 31500, 2)]
    q = [({0: 0}, 28800)]
    free = csa_arrivals(4, conns, {}, q)[0]
    assert free == [28800, 29400, 30000, 30300] == oracle_arrivals(4, conns, {}, {0: 0}, 28800)
    tight = csa_arrivals(4, conns, {}, q, change={1: 180})[0]
    # the 2-minute change to trip 1 is missed (trip 2 at 08:20 is taken), staying on trip 0 to 2 is not
    # affected, and the arrival at stop 1 itself is still 08:10 (the change time is not travel time)
    assert tight == [28800, 29400, 30000, 31500] == oracle_arrivals(4, conns, {}, {0: 0}, 28800, change={1: 180})
    # exactly enough time (120 s) is enough; the change time at the origin's stop does not delay boarding
    assert csa_arrivals(4, conns, {}, q, change={1: 120, 0: 600})[0][3] == 30300


def test_change_time_does_not_apply_to_a_walk_nor_to_the_other_stop():
    # alight at 1 at 08:10; the footpath 1 -> 4 (60 s) reaches trip 3 at 4 at 08:12 despite a 5-min change at 1
    conns = [(0, 1, 28800, 29400, 0), (4, 3, 29520, 30000, 3), (1, 3, 29460, 29700, 1)]
    fps = {(1, 4): 60}
    got = csa_arrivals(5, conns, fps, [({0: 0}, 28800)], change={1: 300, 4: 300})[0]
    assert got == oracle_arrivals(5, conns, fps, {0: 0}, 28800, change={1: 300, 4: 300})
    assert got[3] == 30000 and got[4] == 29460    # the 08:11 from stop 1 is missed, the walk-and-ride is not


@pytest.mark.parametrize("seed", range(30))
def test_csa_with_change_times_equals_time_expanded_dijkstra(seed):
    rng = np.random.default_rng(1000 + seed)
    n = 9
    conns, fps = random_feed(rng, n)
    change = {int(s): int(rng.integers(0, 400)) for s in rng.choice(n, size=int(rng.integers(1, n)), replace=False)}
    queries = []
    for _ in range(6):
        acc = {int(s): int(rng.integers(0, 900)) for s in rng.choice(n, size=int(rng.integers(1, 4)), replace=False)}
        queries.append((acc, int(rng.integers(7 * 3600, 8 * 3600 + 1800))))
    got = csa_arrivals(n, conns, fps, queries, change=change)
    for q, (acc, t0) in enumerate(queries):
        assert got[q] == oracle_arrivals(n, conns, fps, acc, t0, change=change), (seed, q)


def test_change_times_change_some_random_answers():
    """The change-time cases above are not vacuous: on these feeds change times do move arrivals."""
    moved = 0
    for seed in range(30):
        rng = np.random.default_rng(1000 + seed)
        conns, fps = random_feed(rng, 9)
        ch = dict.fromkeys(range(9), 300)
        moved += oracle_arrivals(9, conns, fps, {0: 0}, 7 * 3600) != oracle_arrivals(9, conns, fps, {0: 0}, 7 * 3600, ch)
    assert moved >= 5


# --- service days ---------------------------------------------------------------------------------
TUE = dt.date(2026, 12, 1)  # a Tuesday


def feed_tables():
    """Three services: weekdays, weekend, and an evening service on weekdays that runs past midnight."""
    calendar = pd.DataFrame({"service_id": ["wk", "we", "night"], "weekdays": ["1111100", "0000011", "1111100"],
                             "start_date": [dt.date(2026, 11, 1)] * 3, "end_date": [dt.date(2026, 12, 31)] * 3})
    calendar_dates = pd.DataFrame({"service_id": ["wk", "extra"], "date": [dt.date(2026, 12, 8), dt.date(2026, 12, 8)],
                                   "exception_type": [2, 1]})
    trips = pd.DataFrame({"trip_id": ["t_wk", "t_we", "t_night", "t_extra"],
                          "service_id": ["wk", "we", "night", "extra"]})
    st = pd.DataFrame({
        "trip_id": ["t_wk"] * 3 + ["t_we"] * 2 + ["t_night"] * 2 + ["t_extra"] * 2,
        "stop_sequence": [1, 2, 3, 1, 2, 1, 2, 1, 2],
        "stop_id": ["A", "B", "C", "A", "C", "C", "D", "A", "D"],
        "arrival_s": [28800, None, 30000, 36000, 37000, 86000, 90600, 28800, 29500],
        "departure_s": [28800, None, 30000, 36000, 37000, 86000, 90600, 28800, 29500],
    })
    return st, trips, calendar, calendar_dates


def _arrivals(calls, t0, origin="A"):
    stops = sorted(set(calls["stop_id"]) | {origin})
    sidx = {s: i for i, s in enumerate(stops)}
    keys = {k: i for i, k in enumerate(sorted(set(calls["trip_key"])))}
    conns = connections_from_calls(calls["trip_key"].map(keys).to_numpy(), calls["stop_sequence"].to_numpy(),
                                   calls["stop_id"].map(sidx).to_numpy(), calls["arrival_s"].to_numpy(),
                                   calls["departure_s"].to_numpy())
    tt = build_timetable(len(stops), len(keys), conns, (np.array([], int), np.array([], int), np.array([], int)))
    init = np.full((len(stops), 1), INF, dtype=np.int32)
    init[sidx[origin], 0] = t0
    S = earliest_arrival(tt, init, 10 ** 6)
    return {s: (None if S[i, 0] >= INF else int(S[i, 0])) for s, i in sidx.items()}


def test_calendar_weekdays_weekend_and_exceptions():
    st, trips, cal, cd = feed_tables()
    assert active_services(TUE, cal, cd) == {"wk", "night"}
    assert active_services(dt.date(2026, 12, 5), cal, cd) == {"we"}                 # Saturday
    assert active_services(dt.date(2026, 12, 8), cal, cd) == {"night", "extra"}     # wk removed, extra added
    assert active_services(dt.date(2027, 1, 5), cal, cd) == set()                  # after the feed: no service
    # the interpolated middle stop (no times given) lies halfway
    calls = day_calls(TUE, st, trips, cal, cd)
    b = calls[(calls["trip_key"] == "t_wk@0") & (calls["stop_id"] == "B")]
    assert int(b["arrival_s"].iloc[0]) == 29400
    assert _arrivals(calls, 28000)["C"] == 30000
    sat = _arrivals(day_calls(dt.date(2026, 12, 5), st, trips, cal, cd), 28000)
    assert sat["C"] == 37000 and sat["B"] is None
    exc = _arrivals(day_calls(dt.date(2026, 12, 8), st, trips, cal, cd), 28000)
    assert exc["D"] == 29500 and exc["C"] == 30000 + 86400   # wk is removed today: only tomorrow's trip goes
    none = _arrivals(day_calls(dt.date(2027, 1, 5), st, trips, cal, cd), 28000)
    assert [v for k, v in none.items() if k != "A"] == [None] * (len(none) - 1)


def test_overnight_trip_of_yesterday_runs_after_midnight_today():
    st, trips, cal, cd = feed_tables()
    # Wednesday 00:30 (1800 s): Tuesday's night trip leaves C at 23:53:20 (86000) and calls at D at 25:10
    wed = TUE + dt.timedelta(days=1)
    calls = day_calls(wed, st, trips, cal, cd)
    night = calls[calls["trip_key"] == "t_night@-1"]
    assert sorted(night["arrival_s"]) == [86000 - 86400, 90600 - 86400]
    # a traveller at C at 23:50 on Tuesday (-600 s of Wednesday) reaches D at 01:10 Wednesday
    assert _arrivals(calls, -600, origin="C")["D"] == 4200
    # and on Tuesday evening itself, the same trip in Tuesday's seconds
    assert _arrivals(day_calls(TUE, st, trips, cal, cd), 85000, origin="C")["D"] == 90600


def test_pick_date_is_the_busiest_wanted_weekday():
    st, trips, cal, cd = feed_tables()
    assert pick_date(1, trips, cal, cd) == dt.date(2026, 11, 3)   # first Tuesday with both weekday services
    assert pick_date(5, trips, cal, cd).weekday() == 5


def test_calendar_dates_only_feed():
    st, trips, _, _ = feed_tables()
    cd = pd.DataFrame({"service_id": ["wk"], "date": [TUE], "exception_type": [1]})
    empty = pd.DataFrame(columns=["service_id", "weekdays", "start_date", "end_date"])
    assert active_services(TUE, empty, cd) == {"wk"}
    assert _arrivals(day_calls(TUE, st, trips, empty, cd), 28000)["C"] == 30000


def test_untimed_first_call_drops_the_trip():
    calls = pd.DataFrame({"trip_id": ["a", "a", "b", "b", "b"], "stop_sequence": [1, 2, 1, 2, 3],
                          "stop_id": list("xyxyz"), "arrival_s": [None, 100, 0, None, 100],
                          "departure_s": [None, 100, 0, None, 100]})
    out = interpolate_times(calls)
    assert list(out["trip_id"]) == ["b", "b", "b"] and list(out["arrival_s"]) == [0, 50, 100]
