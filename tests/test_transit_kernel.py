"""The compiled scan of scoring/csa.py against a straightforward pure-Python connection scan, array for array.

The reference below is the textbook CSA, one query at a time, with none of the kernel's shortcuts (no
batch or group skip test, no local trip numbering, footpaths relaxed on every usable connection, not
only when the vehicle arrival improved). On random feeds (seeded) with ties in departure times,
footpaths, change times, several access stops per query and a horizon, the kernel must give the
identical (stops x queries) array for every grouping of the queries. The networkx oracle of
tests/test_transit_oracle.py checks the model itself; this checks the kernel's shortcuts."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from plekzoeker.scoring.csa import INF, build_timetable, earliest_arrival
from plekzoeker.scoring.transit import Feed, change_times, hilbert_order, travel_times
from plekzoeker.scoring.transit_walk import Pairs, WalkLegs


def reference(tt, initial, horizon_s):
    """Earliest arrivals, one query at a time, by the plain scan (see the module docstring)."""
    S = np.array(initial, dtype=np.int64)
    ch = tt.change_s
    fp = {s: list(zip(tt.fp_to[tt.fp_ptr[s]:tt.fp_ptr[s + 1]], tt.fp_w[tt.fp_ptr[s]:tt.fp_ptr[s + 1]]))
          for s in range(tt.n_stops)}
    for q in range(S.shape[1]):
        col = S[:, q]
        start = col.min()
        if start >= INF:
            continue
        ready = col.copy()
        on = set()
        for i in range(tt.n_connections):
            s, a, d, t, k = (int(x[i]) for x in (tt.dep_stop, tt.arr_stop, tt.dep_t, tt.arr_t, tt.trip))
            if d > start + horizon_s:
                break
            if k in on or ready[s] <= d:
                on.add(k)
                col[a] = min(col[a], t)
                ready[a] = min(ready[a], t + int(ch[a]))
                for b, w in fp[a]:
                    col[b] = min(col[b], t + int(w))
                    ready[b] = min(ready[b], t + int(w))
    return S


def random_timetable(rng, n_stops, n_trips, with_change):
    conns = []
    for trip in range(n_trips):
        stops = rng.choice(n_stops, size=int(rng.integers(2, min(7, n_stops + 1))), replace=False)
        t = int(rng.integers(0, 40)) * 60 + 7 * 3600          # whole minutes: many equal departures
        for a, b in zip(stops, stops[1:]):
            dur = int(rng.integers(1, 12)) * 60
            conns.append((int(a), int(b), t, t + dur, trip))
            t += dur + int(rng.integers(0, 3)) * 60
    arr = np.array(conns, dtype=np.int64)
    n_fp = int(rng.integers(0, 3 * n_stops))
    f, g = rng.integers(0, n_stops, n_fp), rng.integers(0, n_stops, n_fp)
    w = rng.integers(0, 8, n_fp) * 60
    ch = rng.integers(0, 5, n_stops) * 60 * rng.integers(0, 2, n_stops) if with_change else None
    return build_timetable(n_stops, n_trips, tuple(arr[:, k] for k in range(5)), (f, g, w), ch)


def random_initial(rng, n_stops, n_origins, nd):
    init = np.full((n_stops, n_origins * nd), INF, dtype=np.int32)
    deps = 7 * 3600 + np.arange(nd) * 120
    for o in range(n_origins):
        if rng.random() < 0.1:
            continue                                           # an origin that reaches no stop
        for s in rng.choice(n_stops, size=int(rng.integers(1, 4)), replace=False):
            init[s, o * nd:(o + 1) * nd] = deps + int(rng.integers(0, 10)) * 60
    return init


@pytest.mark.parametrize("seed", range(25))
def test_kernel_equals_the_plain_scan(seed):
    rng = np.random.default_rng(seed)
    n_stops = int(rng.integers(5, 30))
    tt = random_timetable(rng, n_stops, int(rng.integers(3, 40)), with_change=seed % 2 == 1)
    nd = int(rng.integers(1, 6))
    init = random_initial(rng, n_stops, int(rng.integers(1, 6)), nd)
    horizon = int(rng.choice([600, 1800, 10 ** 6]))
    want = reference(tt, init, horizon)
    for group in (None, 1, nd, 2 * nd + 1):
        got = earliest_arrival(tt, init, horizon, group=group)
        assert got.dtype == np.int32 and np.array_equal(got, want), (seed, group)
    # a query's answer does not depend on the others in its scan
    one = np.hstack([earliest_arrival(tt, init[:, [q]], horizon) for q in range(init.shape[1])])
    assert np.array_equal(one, want)


def test_the_random_feeds_are_not_trivial():
    rode = unreached = 0
    for seed in range(25):
        rng = np.random.default_rng(seed)
        n_stops = int(rng.integers(5, 30))
        tt = random_timetable(rng, n_stops, int(rng.integers(3, 40)), with_change=True)
        init = random_initial(rng, n_stops, 3, 2)
        S = earliest_arrival(tt, init, 10 ** 6)
        rode += int(((S < INF) & (init >= INF)).sum())
        unreached += int((S >= INF).sum())
    assert rode > 200 and unreached > 200


def test_initial_is_not_changed_and_empty_cases():
    rng = np.random.default_rng(7)
    tt = random_timetable(rng, 6, 5, with_change=True)
    init = random_initial(rng, 6, 2, 2)
    keep = init.copy()
    earliest_arrival(tt, init, 10 ** 6, group=2)
    assert np.array_equal(init, keep)
    assert earliest_arrival(tt, np.full((6, 0), INF, dtype=np.int32), 100).shape == (6, 0)
    nothing = np.full((6, 3), INF, dtype=np.int32)
    assert np.array_equal(earliest_arrival(tt, nothing, 10 ** 6), nothing)


def test_change_times_from_transfers_txt():
    stops = pd.DataFrame({"stop_id": ["a", "b", "c"], "x": [0.0, 1, 2], "y": [0.0, 0, 0]})
    tr = pd.DataFrame({"from_stop_id": ["a", "b", "a", "c", "zz"], "to_stop_id": ["a", "c", "a", "c", "zz"],
                       "transfer_type": [2, 2, 2, 3, 2], "min_transfer_time": [120, 60, 180, 600, 30]})
    feed = Feed(stops=stops, stop_times=None, trips=None, calendar=None, calendar_dates=None, transfers=tr)
    # a: its own rule (the larger of two); b: the b -> c rule is a walk, not a change time; c: type 3 not modelled
    assert list(change_times(feed, 0)) == [180, 0, 0]
    assert list(change_times(feed, 45)) == [180, 45, 45]
    empty = Feed(stops=stops, stop_times=None, trips=None, calendar=None, calendar_dates=None, transfers=tr.iloc[:0])
    assert list(change_times(empty, 30)) == [30, 30, 30]


def test_hilbert_order_is_a_permutation_that_keeps_neighbours_together():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 10_000, (2000, 2))
    o = hilbert_order(xy)
    assert sorted(o) == list(range(2000))
    step = np.hypot(*np.diff(xy[o], axis=0).T).mean()
    assert step < np.hypot(*np.diff(xy, axis=0).T).mean() / 5
    assert list(hilbert_order(np.zeros((3, 2)))) == [0, 1, 2] and len(hilbert_order(np.zeros((0, 2)))) == 0


def test_travel_times_do_not_depend_on_order_or_batch_size(monkeypatch):
    import plekzoeker.scoring.transit as transit

    rng = np.random.default_rng(11)
    n_stops, n_cands, n_poi = 20, 13, 9
    tt = random_timetable(rng, n_stops, 30, with_change=True)

    def pairs(n_src, n_dst, k, hi):
        src, dst = rng.integers(0, n_src, k), rng.integers(0, n_dst, k)
        key = np.unique(src * 1000 + dst)
        return Pairs(key // 1000, key % 1000, rng.integers(0, hi, len(key)))

    legs = WalkLegs(access=pairs(n_cands - 3, n_stops, 30, 600), transfers=Pairs.empty(),
                    egress=pairs(n_stops, n_poi, 25, 600), direct=pairs(n_cands - 3, n_poi, 6, 2400))
    cat = rng.integers(0, 3, n_poi)
    deps = list(range(7 * 3600, 7 * 3600 + 1800, 300))
    base = travel_times(tt, legs, n_cands, cat, 3, deps, 3600, 1800)
    assert np.isfinite(base["median"]).any() and np.isinf(base["median"][-3:]).all()   # the last 3 walk nowhere
    for per_batch, order in ((1, None), (4, rng.permutation(n_cands)), (1000, hilbert_order(rng.uniform(0, 1, (n_cands, 2))))):
        monkeypatch.setattr(transit, "QUERY_BATCH", per_batch * len(deps))
        got = travel_times(tt, legs, n_cands, cat, 3, deps, 3600, 1800, order=order)
        for k in base:
            assert np.array_equal(got[k], base[k]), (per_batch, k)


def numpy_door_to_door(tt, legs, n_cands, poi_cat, n_cats, deps, max_travel_s, within_s):
    """The door-to-door summaries as the numpy code before the compiled kernel computed them
    (one candidate per scan, the plain reference scan for the arrivals)."""
    dep = np.asarray(deps, dtype=np.int64)
    nd, n_poi = len(dep), len(poi_cat)
    out = {"median": np.full((n_cands, n_cats), np.inf), "best": np.full((n_cands, n_cats), np.inf),
           "within": np.zeros((n_cands, n_cats), dtype=np.int64)}
    for c in range(n_cands):
        init = np.full((tt.n_stops, nd), INF, dtype=np.int64)
        sel = legs.access.src == c
        for s, w in zip(legs.access.dst[sel], legs.access.seconds[sel]):
            init[s] = np.minimum(init[s], dep + w)
        S = reference(tt, init, max_travel_s)
        travel = np.full((n_poi, nd), np.inf)
        for p in range(n_poi):
            e = legs.egress.dst == p
            via = S[legs.egress.src[e]] + legs.egress.seconds[e][:, None]
            arr = np.where(via.min(axis=0) < INF, via.min(axis=0), np.inf) if e.any() else np.full(nd, np.inf)
            d = (legs.direct.dst == p) & (legs.direct.src == c)
            for w in legs.direct.seconds[d]:
                arr = np.minimum(arr, dep + w)
            t = arr - dep
            t[t > max_travel_s] = np.inf
            travel[p] = t
        for k in range(n_cats):
            mine = poi_cat == k
            if mine.any():
                nearest = travel[mine].min(axis=0)
                out["median"][c, k], out["best"][c, k] = np.median(nearest), nearest.min()
                out["within"][c, k] = (np.median(travel[mine], axis=1) <= within_s).sum()
    return out


@pytest.mark.parametrize("within_s", [300, 900, 1500])
@pytest.mark.parametrize("seed", range(6))
def test_travel_times_equal_the_numpy_door_to_door(seed, within_s):
    """Also checks the target pruning: with a short count threshold most queries end early."""
    rng = np.random.default_rng(100 + seed)
    n_stops, n_cands, n_poi = 15, 6, 7
    tt = random_timetable(rng, n_stops, 25, with_change=seed % 2 == 0)

    def pairs(n_src, n_dst, k, hi):
        src, dst = rng.integers(0, n_src, k), rng.integers(0, n_dst, k)
        key = np.unique(src * 1000 + dst)
        return Pairs(key // 1000, key % 1000, rng.integers(0, hi, len(key)))

    legs = WalkLegs(access=pairs(n_cands, n_stops, 12, 600), transfers=Pairs.empty(),
                    egress=pairs(n_stops, n_poi, 20, 600), direct=pairs(n_cands, n_poi, 4, 2400))
    cat = rng.integers(0, 4, n_poi)                      # some category may have no POI
    deps = list(range(7 * 3600, 7 * 3600 + 2400 + seed % 2, 240))     # 10 or 11: even and odd departure counts
    want = numpy_door_to_door(tt, legs, n_cands, cat, 4, deps, 2700, within_s)
    got = travel_times(tt, legs, n_cands, cat, 4, deps, 2700, within_s, order=rng.permutation(n_cands))
    for k in want:
        assert np.array_equal(got[k], want[k]), k


def test_median_at_most_is_np_median():
    from plekzoeker.scoring.transit import _median_at_most

    rng = np.random.default_rng(4)
    for _ in range(3000):
        n = int(rng.integers(1, 9))
        x = rng.integers(0, 10, n).astype(float) * 100
        x[rng.random(n) < 0.3] = np.inf
        lim = float(rng.integers(0, 10) * 100 + rng.choice([0, 50]))
        assert _median_at_most(x, lim) == (np.median(x) <= lim), (x, lim)


def test_target_pruning_is_exact_up_to_each_querys_bound():
    from plekzoeker.scoring.csa import Targets

    pruned = 0
    for seed in range(40):
        rng = np.random.default_rng(500 + seed)
        n_stops, nd, n_cats = 20, 4, 2
        tt = random_timetable(rng, n_stops, 35, with_change=seed % 2 == 0)
        init = random_initial(rng, n_stops, 3, nd)
        nq = init.shape[1]
        stop, cat = rng.integers(0, n_stops, 8), rng.integers(0, n_cats, 8)
        key, first = np.unique(stop * n_cats + cat, return_index=True)
        walk = rng.integers(0, 300, 8)[first]
        ptr = np.searchsorted(key // n_cats, np.arange(n_stops + 1))
        t0 = np.repeat(init.min(axis=0).reshape(3, nd).min(axis=1), nd).clip(None, 10 ** 6)
        tg = Targets(ptr=ptr, cat=key % n_cats, walk=walk, best=np.full((n_cats, nq), INF, dtype=np.int32),
                     floor=(t0 + 300).astype(np.int32), end=np.full(nq, 10 ** 6, dtype=np.int32))
        got = earliest_arrival(tt, init, 0, group=nd, targets=tg)
        want = reference(tt, init, 10 ** 6)
        for q in range(nq):
            per_cat = [min([int(want[key[i] // n_cats, q]) + int(walk[i]) for i in range(len(key)) if key[i] % n_cats == k
                            and want[key[i] // n_cats, q] < INF], default=INF) for k in range(n_cats)]
            assert [min(int(b), INF) for b in tg.best[:, q]] == per_cat, (seed, q)
            bound = max(int(tg.floor[q]), *per_cat)
            ok = want[:, q] <= bound
            assert np.array_equal(got[ok, q], want[ok, q]), (seed, q)
            pruned += int((got[:, q] != want[:, q]).any())
    assert pruned > 10                 # the pruning did stop queries early


def test_min_change_s_is_read_and_checked():
    import copy

    from plekzoeker.errors import ConfigError
    from plekzoeker.scoring.transit_config import TransitConfig
    from plekzoeker.settings import load_config

    cfg = load_config()
    assert TransitConfig.from_config(cfg).min_change_s == 0          # the default keeps the old behaviour
    bad = copy.deepcopy(cfg)
    bad["transit"]["min_change_s"] = -60
    with pytest.raises(ConfigError, match="min_change_s"):
        TransitConfig.from_config(bad)
    ok = copy.deepcopy(cfg)
    ok["transit"]["min_change_s"] = 120
    assert TransitConfig.from_config(ok).min_change_s == 120


@pytest.mark.parametrize("span", [(28000, 33000), (-3600, 3600), (80000, 92000), (0, 10)])
def test_day_calls_span_keeps_every_connection_departing_within_it(span):
    from test_transit_oracle import TUE, feed_tables

    from plekzoeker.scoring.timetable import day_calls

    st, trips, cal, cd = feed_tables()

    def legs(calls):
        c = calls.sort_values(["trip_key", "stop_sequence"])
        out = set()
        for key, g in c.groupby("trip_key"):
            rows = list(zip(g["stop_id"], g["arrival_s"], g["departure_s"]))
            for (a, _, d), (b, t, _) in zip(rows, rows[1:]):
                if span[0] <= d <= span[1]:
                    out.add((key, a, b, int(d), int(t)))
        return out

    for day in (TUE, TUE + dt.timedelta(days=1), dt.date(2026, 12, 8)):
        full, cut = day_calls(day, st, trips, cal, cd), day_calls(day, st, trips, cal, cd, span)
        assert legs(cut) == legs(full) and len(cut) <= len(full), (day, span)
    assert len(day_calls(TUE, st, trips, cal, cd, (28000, 33000))) < len(day_calls(TUE, st, trips, cal, cd))
