"""Transit routing benchmark: the compiled connection scan of scoring/csa.py against baselines, same run.

City feed: stops on a jittered grid (300 m), bus lines as random walks over neighbouring stops, both
directions, every 10 minutes 05:00-24:00; walking transfers between stops within 300 m at 1.3 m/s.
Queries: origins at random stops (with an access walk to the stops around them) times every
departure minute of 07:30-09:00 (91), as the nightly run asks them.

(a) plekzoeker: :func:`~plekzoeker.scoring.csa.earliest_arrival`, one skip group per origin, batches
    of consecutive origins as :mod:`plekzoeker.scoring.transit` runs them; time per origin (91 queries).
(b) the bare lower bound of one pass over the window's connections per origin: one vectorised numpy
    gather/compare/scatter over all of them (no order, no trips, no footpaths: not a correct
    answer, just the cost of touching every connection once).
(c) the numpy scan plekzoeker used before (kept here, in :func:`numpy_scan`, as the baseline it
    replaced: a Python loop over connections, vector operations over the batch's queries).
(d) per-query time-expanded Dijkstra with networkx (the oracle of tests/test_transit_oracle.py), on
    a sample of queries; also checked to give the same arrivals as (a) on that sample.

National: a synthetic country (:func:`national_feed`: ~10^7 stop times a day on 62,500 stops, bus
lines plus a train network, 20,000 POIs in 6 categories, 10,000 candidates) routed door to door by
:func:`plekzoeker.scoring.transit.travel_times` exactly as the nightly run calls it (Hilbert-ordered
batches, 91 departures, 90 min, egress and walk-only journeys, medians and counts). Walking legs are
straight-line distance x 1.25 detour at 1.3 m/s (the OSM walk graph is benchmarked in the access
section). With ``--quick`` or when ``NATIONAL_MEASURED`` < 10,000, a random sample of the candidates
is routed and the time scaled linearly in candidates (noted in the figure); the cost per candidate
does not depend on how many others there are beyond the batch they share.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

import numpy as np

from .common import figure

NATIONAL_STOP_TIMES = 10_000_000
NATIONAL_CANDIDATES = 10_000
NATIONAL_MEASURED = int(os.environ.get("PLEKZOEKER_BENCH_TRANSIT_CANDIDATES", 10_000))
WINDOW = (7 * 3600 + 1800, 9 * 3600)
HORIZON_S = 90 * 60
BUDGET_S = 1800.0
# POIs per category as in the country, about: GP practices, supermarkets, municipal social services
# (a few hundred), railway stations (~400), pharmacies, primary schools; the sparse ones keep queries long
CATEGORY_SHARE = (5000, 6500, 350, 400, 2000, 5750)


def synthetic_feed(n_side: int, n_lines: int, seed: int = 0):
    """Stops on a jittered grid (300 m), lines as random walks; returns (xy, connections, footpaths)."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(n_side), np.arange(n_side))
    xy = np.column_stack([gx.ravel(), gy.ravel()]) * 300.0 + rng.normal(0, 40, (n_side * n_side, 2))
    conns, trip = [], 0
    for _ in range(n_lines):
        r, c = (int(v) for v in rng.integers(0, n_side, 2))
        path = [r * n_side + c]
        for _ in range(int(rng.integers(15, 35))):
            dr, dc = [(0, 1), (1, 0), (0, -1), (-1, 0)][int(rng.integers(4))]
            r, c = min(max(r + dr, 0), n_side - 1), min(max(c + dc, 0), n_side - 1)
            if r * n_side + c != path[-1]:
                path.append(r * n_side + c)
        legs = np.maximum(60, np.ceil(np.hypot(*np.diff(xy[path], axis=0).T) / 7.0 / 60) * 60).astype(int)
        for stops, lg in ((path, legs), (path[::-1], legs[::-1])):
            for t0 in range(5 * 3600 + int(rng.integers(0, 600)), 24 * 3600, 600):
                t = t0
                for a, b, w in zip(stops, stops[1:], lg):
                    conns.append((a, b, t, t + int(w), trip))
                    t += int(w)
                trip += 1
    tree = cKDTree(xy)
    pairs = np.array(sorted(tree.query_pairs(300.0)))
    d = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
    w = np.ceil(d / 1.3).astype(int)
    fp = (np.r_[pairs[:, 0], pairs[:, 1]], np.r_[pairs[:, 1], pairs[:, 0]], np.r_[w, w])
    return xy, np.array(conns, dtype=np.int64), fp, trip


def _queries(xy, n_origins: int, deps: np.ndarray, seed: int = 1):
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    tree = cKDTree(xy)
    out = []
    for o in rng.choice(len(xy), n_origins, replace=False):
        near = tree.query_ball_point(xy[o], 400.0)
        out.append({int(s): int(np.ceil(np.hypot(*(xy[s] - xy[o])) / 1.3)) for s in near})
    return out


def numpy_scan(tt, initial: np.ndarray, horizon_s: int) -> np.ndarray:
    """The scan plekzoeker had before the compiled kernel (no change times; batch-wide horizon): the baseline (c)."""
    from plekzoeker.scoring.csa import INF

    S = np.array(initial, dtype=np.int32, copy=True)
    nq = S.shape[1]
    reached = S < INF
    if nq == 0 or not reached.any():
        return S
    lo = np.searchsorted(tt.dep_t, int(S[reached].min()), "left")
    hi = np.searchsorted(tt.dep_t, int(S[reached].max()) + horizon_s, "right")
    ds, as_, dt, at = tt.dep_stop[lo:hi], tt.arr_stop[lo:hi], tt.dep_t[lo:hi], tt.arr_t[lo:hi]
    trips, tr = np.unique(tt.trip[lo:hi], return_inverse=True)
    T = np.zeros((len(trips), nq), dtype=bool)
    on_any = np.zeros(len(trips), dtype=bool)
    ptr, fto, fw = tt.fp_ptr, tt.fp_to, tt.fp_w
    earliest = S.min(axis=1)
    cand = np.empty(nq, dtype=np.int32)
    for i in range(hi - lo):
        s, d, trip = ds[i], dt[i], tr[i]
        if not on_any[trip] and earliest[s] > d:
            continue
        on = T[trip]
        on |= S[s] <= d
        if not on_any[trip]:
            if not on.any():
                continue
            on_any[trip] = True
        a, t = as_[i], at[i]
        np.copyto(cand, np.where(on, t, INF))
        row = S[a]
        np.minimum(row, cand, out=row)
        if t < earliest[a]:
            earliest[a] = t
        f0, f1 = ptr[a], ptr[a + 1]
        if f1 > f0:
            to = fto[f0:f1]
            S[to] = np.minimum(S[to], cand[None, :] + fw[f0:f1, None])
            earliest[to] = np.minimum(earliest[to], t + fw[f0:f1])
    return S


# --- the synthetic country ----------------------------------------------------------------------------
def _line_connections(stops: np.ndarray, legs: np.ndarray, dwell: int, starts: np.ndarray, trip0: int):
    """All trips of one line direction at once: (dep_stop, arr_stop, dep_t, arr_t, trip) arrays."""
    n, k = len(starts), len(legs)
    dep_off = np.r_[0, np.cumsum(legs[:-1] + dwell)]
    arr_off = dep_off + legs
    dep = (starts[:, None] + dep_off[None, :]).ravel()
    arr = (starts[:, None] + arr_off[None, :]).ravel()
    trip = np.repeat(np.arange(trip0, trip0 + n), k)
    return np.tile(stops[:-1], n), np.tile(stops[1:], n), dep, arr, trip


def national_feed(seed: int = 0, n_side: int = 250, spacing: float = 400.0, target_stop_times: int = NATIONAL_STOP_TIMES):
    """~``target_stop_times`` calls a day: bus lines (random walks that rarely turn back, 15-40 stops,
    every 10/15/20/30 min, 25 km/h) and 60 train lines (8-16 stations ~8 km apart, 100 km/h, 1 min
    dwell, every 15/30 min), 05:00-24:00 both ways, on ``n_side``^2 stops. Returns xy, the connection
    columns, footpaths (stops within 400 m) and the trip count."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(n_side), np.arange(n_side))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    xy = grid * spacing + rng.normal(0, spacing / 8, (n_side * n_side, 2))
    parts, trip, stop_times = [], 0, 0
    moves = np.array([(0, 1), (1, 0), (0, -1), (-1, 0)])

    def add(path, speed, dwell, headway):
        nonlocal trip, stop_times
        path = np.asarray(path)
        legs = np.maximum(60, np.ceil(np.hypot(*np.diff(xy[path], axis=0).T) / speed / 60) * 60).astype(np.int64)
        for stops, lg in ((path, legs), (path[::-1], legs[::-1])):
            starts = np.arange(5 * 3600 + int(rng.integers(0, headway)), 24 * 3600, headway, dtype=np.int64)
            parts.append(_line_connections(stops, lg, dwell, starts, trip))
            trip += len(starts)
            stop_times += len(starts) * len(stops)

    for _ in range(60):                                 # trains
        r, c = (int(v) for v in rng.integers(0, n_side, 2))
        heading = moves[int(rng.integers(4))]
        path = [r * n_side + c]
        for _ in range(int(rng.integers(8, 17))):
            if rng.random() < 0.3:
                heading = moves[int(rng.integers(4))]
            step = heading * int(rng.integers(15, 26)) + rng.integers(-3, 4, 2)
            r, c = int(np.clip(r + step[0], 0, n_side - 1)), int(np.clip(c + step[1], 0, n_side - 1))
            if r * n_side + c != path[-1]:
                path.append(r * n_side + c)
        if len(path) > 2:
            add(path, 28.0, 60, int(rng.choice([900, 1800])))
    while stop_times < target_stop_times:               # buses
        r, c = (int(v) for v in rng.integers(0, n_side, 2))
        heading = int(rng.integers(4))
        path = [r * n_side + c]
        for _ in range(int(rng.integers(15, 41))):
            if rng.random() < 0.25:
                heading = (heading + int(rng.choice([1, 3]))) % 4
            dr, dc = moves[heading]
            r, c = min(max(r + dr, 0), n_side - 1), min(max(c + dc, 0), n_side - 1)
            if r * n_side + c != path[-1]:
                path.append(r * n_side + c)
        if len(path) > 2:
            add(path, 7.0, 0, int(rng.choice([600, 900, 1200, 1800])))
    cols = [np.concatenate([p[k] for p in parts]) for k in range(5)]
    tree = cKDTree(xy)
    pairs = np.array(sorted(tree.query_pairs(400.0)))
    w = np.ceil(np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T) * 1.25 / 1.3).astype(np.int64)
    fp = (np.r_[pairs[:, 0], pairs[:, 1]], np.r_[pairs[:, 1], pairs[:, 0]], np.r_[w, w])
    return xy, cols, fp, trip, stop_times


SERVICE_DAY = dt.date(2026, 12, 1)      # a Tuesday


def national_gtfs_tables(xy: np.ndarray, cols, n_trips: int):
    """The synthetic country as the GTFS tables :func:`plekzoeker.scoring.transit.read_feed` gives
    (string ids, one weekday service), so the timetable is built by the nightly code path."""
    import pandas as pd

    from plekzoeker.scoring.transit import Feed

    ds, as_, dep, arr, trip = cols                 # trip-contiguous, in call order within a trip
    first = np.r_[True, trip[1:] != trip[:-1]]
    last = np.r_[trip[1:] != trip[:-1], True]
    pos = np.arange(len(trip)) - np.repeat(np.flatnonzero(first), np.diff(np.r_[np.flatnonzero(first), len(trip)]))
    c_trip = np.r_[trip, trip[last]]
    c_seq = np.r_[pos, pos[last] + 1]
    c_stop = np.r_[ds, as_[last]]
    c_arr = np.r_[np.where(first, dep, np.r_[0, arr[:-1]]), arr[last]]       # arrival = the previous leg's
    c_dep = np.r_[dep, arr[last]]
    ids = pd.Series(np.arange(max(n_trips, len(xy)))).astype(str)
    stop_times = pd.DataFrame({"trip_id": "t" + ids.iloc[c_trip].to_numpy(), "stop_sequence": c_seq,
                               "stop_id": "s" + ids.iloc[c_stop].to_numpy(), "arrival_s": c_arr, "departure_s": c_dep})
    return Feed(stops=pd.DataFrame({"stop_id": "s" + ids.iloc[:len(xy)].to_numpy(), "x": xy[:, 0], "y": xy[:, 1]}),
                stop_times=stop_times,
                trips=pd.DataFrame({"trip_id": "t" + ids.iloc[:n_trips].to_numpy(), "service_id": "weekday"}),
                calendar=pd.DataFrame({"service_id": ["weekday"], "weekdays": ["1111100"],
                                       "start_date": [dt.date(2026, 11, 1)], "end_date": [dt.date(2026, 12, 31)]}),
                calendar_dates=pd.DataFrame(columns=["service_id", "date", "exception_type"]),
                transfers=pd.DataFrame(columns=["from_stop_id", "to_stop_id", "transfer_type", "min_transfer_time"]))


def national_legs(xy: np.ndarray, n_cands: int, n_pois: int, n_cats: int, seed: int = 2):
    """Candidates and POIs at random places in the country; walking legs as straight line x 1.25 at 1.3 m/s
    within 1,000 m (the defaults of the transit section)."""
    from scipy.spatial import cKDTree

    from plekzoeker.scoring.transit_walk import Pairs, WalkLegs

    rng = np.random.default_rng(seed)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    cand_xy = rng.uniform(lo, hi, (n_cands, 2))
    poi_xy = rng.uniform(lo, hi, (n_pois, 2))
    tree = cKDTree(xy)

    def within(pts):
        lists = tree.query_ball_point(pts, 1000.0 / 1.25)
        src = np.repeat(np.arange(len(pts)), [len(x) for x in lists])
        dst = np.concatenate([np.asarray(x, dtype=np.int64) for x in lists])
        sec = np.ceil(np.hypot(*(pts[src] - xy[dst]).T) * 1.25 / 1.3).astype(np.int64)
        return src, dst, sec

    a_src, a_dst, a_w = within(cand_xy)
    e_poi, e_stop, e_w = within(poi_xy)
    ptree = cKDTree(poi_xy)
    dl = ptree.query_ball_point(cand_xy, 1000.0 / 1.25)
    d_src = np.repeat(np.arange(n_cands), [len(x) for x in dl])
    d_dst = np.concatenate([np.asarray(x, dtype=np.int64) for x in dl])
    d_w = np.ceil(np.hypot(*(cand_xy[d_src] - poi_xy[d_dst]).T) * 1.25 / 1.3).astype(np.int64)
    legs = WalkLegs(access=Pairs(a_src, a_dst, a_w), transfers=Pairs.empty(), egress=Pairs(e_stop, e_poi, e_w),
                    direct=Pairs(d_src, d_dst, d_w))
    share = np.asarray(CATEGORY_SHARE[:n_cats], dtype=float)
    return cand_xy, legs, rng.choice(n_cats, n_pois, p=share / share.sum())


def national(args) -> dict:
    from plekzoeker.scoring.transit import hilbert_order, timetable, travel_times
    from plekzoeker.scoring.transit_walk import Pairs, WalkLegs

    t0 = time.perf_counter()
    xy, cols, fp, n_trips, stop_times = national_feed()
    cand_xy, legs, cat = national_legs(xy, NATIONAL_CANDIDATES, 20_000, 6)
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    feed = national_gtfs_tables(xy, cols, n_trips)
    del cols
    t_tables = time.perf_counter() - t0
    t0 = time.perf_counter()
    # the nightly path: day_calls (three service days, cut to the trips running in the window + 90 min),
    # connections, footpaths, change times
    tt = timetable(feed, SERVICE_DAY, Pairs(*fp), 0, (WINDOW[0], WINDOW[1] + HORIZON_S))
    t_build = time.perf_counter() - t0
    n_day_calls = len(feed.stop_times)
    del feed
    n_meas = 100 if args.quick else min(NATIONAL_MEASURED, NATIONAL_CANDIDATES)
    rng = np.random.default_rng(5)
    sample = np.sort(rng.choice(NATIONAL_CANDIDATES, n_meas, replace=False)) if n_meas < NATIONAL_CANDIDATES \
        else np.arange(NATIONAL_CANDIDATES)

    remap = np.full(NATIONAL_CANDIDATES, -1)
    remap[sample] = np.arange(n_meas)

    def sub(p: Pairs, side: str) -> Pairs:
        keep = remap[getattr(p, side)] >= 0
        src, dst = p.src[keep], p.dst[keep]
        src, dst = (remap[src], dst) if side == "src" else (src, remap[dst])
        return Pairs(src, dst, p.seconds[keep])

    mine = WalkLegs(access=sub(legs.access, "src"), transfers=legs.transfers, egress=legs.egress, direct=sub(legs.direct, "src"))
    deps = list(range(WINDOW[0], WINDOW[1] + 1, 60))
    travel_times(tt, WalkLegs(Pairs.empty(), Pairs.empty(), Pairs.empty(), Pairs.empty()), 1, cat, 6, deps[:2],
                 HORIZON_S, 1800)                                        # compile outside the clock
    t0 = time.perf_counter()
    res = travel_times(tt, mine, n_meas, cat, 6, deps, HORIZON_S, 1800, order=hilbert_order(cand_xy[sample]))
    t_route = time.perf_counter() - t0
    per_cand = t_route / n_meas
    total = per_cand * NATIONAL_CANDIDATES + t_build
    in_window = int(((tt.dep_t >= WINDOW[0]) & (tt.dep_t <= WINDOW[1] + HORIZON_S)).sum())
    reached = float(np.isfinite(res["median"]).mean())
    # the same without target pruning (count threshold = max travel time: every query runs the whole
    # 90 min), on a random sample: the cost if no destination were ever settled early
    n_np = 50 if args.quick else 1000
    pick = np.sort(rng.choice(n_meas, n_np, replace=False))
    remap2 = np.full(n_meas, -1)
    remap2[pick] = np.arange(n_np)
    keep_a, keep_d = remap2[mine.access.src] >= 0, remap2[mine.direct.src] >= 0
    few = WalkLegs(access=Pairs(remap2[mine.access.src[keep_a]], mine.access.dst[keep_a], mine.access.seconds[keep_a]),
                   transfers=mine.transfers, egress=mine.egress,
                   direct=Pairs(remap2[mine.direct.src[keep_d]], mine.direct.dst[keep_d], mine.direct.seconds[keep_d]))
    t0 = time.perf_counter()
    travel_times(tt, few, n_np, cat, 6, deps, HORIZON_S, HORIZON_S, order=hilbert_order(cand_xy[sample][pick]))
    t_np = time.perf_counter() - t0
    return {"value": total, "measured_candidates": n_meas, "measured_s": round(t_route, 1),
            "extrapolated": "linearly in candidates" if n_meas < NATIONAL_CANDIDATES else False,
            "stop_times": stop_times, "stops": len(xy), "trips": n_trips, "connections": tt.n_connections,
            "connections_in_window": in_window, "pois": len(cat), "access_pairs": len(legs.access.src),
            "egress_pairs": len(legs.egress.src), "share_cand_cat_reached": round(reached, 3),
            "stop_times_rows": n_day_calls, "generate_s": round(t_gen, 1), "gtfs_tables_s": round(t_tables, 1),
            "timetable_s": round(t_build, 1), "routing_s": round(t_route, 1),
            "includes": "timetable (day_calls for 3 service days cut to the window + 90 min, connections, footpaths) + "
                        "routing, egress, medians/counts (travel_times); not: reading the feed from PostGIS, walk legs over OSM",
            "without_pruning_s": round(t_np / n_np * NATIONAL_CANDIDATES, 1),
            "without_pruning_basis": f"{n_np} random candidates, count threshold = 90 min, scaled linearly to {NATIONAL_CANDIDATES:,}"}


def run(args) -> list[dict]:
    from plekzoeker.scoring.csa import INF, batch_size, build_timetable, earliest_arrival
    from plekzoeker.scoring.transit import LABEL_BUDGET, QUERY_BATCH

    n_side, n_lines, n_origins = (30, 60, 60) if args.quick else (60, 300, 400)
    xy, conns, fp, n_trips = synthetic_feed(n_side, n_lines)
    tt = build_timetable(len(xy), n_trips, tuple(conns[:, k] for k in range(5)), fp)
    deps = np.arange(WINDOW[0], WINDOW[1] + 1, 60)
    access = _queries(xy, n_origins, deps)
    nd = len(deps)
    nq = n_origins * nd
    load = os.getloadavg()[0]

    def init_for(origins):
        init = np.full((tt.n_stops, len(origins) * nd), INF, dtype=np.int32)
        for k, acc in enumerate(origins):
            for s, w in acc.items():
                init[s, k * nd:(k + 1) * nd] = deps + w
        return init

    n_win_trips = tt.trips_between(WINDOW[0], WINDOW[1] + HORIZON_S)
    per = max(1, batch_size(tt.n_stops, n_win_trips, QUERY_BATCH, LABEL_BUDGET, tt.has_change_times) // nd)
    earliest_arrival(tt, init_for(access[:1]), HORIZON_S, group=nd)     # compile outside the clock
    t0 = time.perf_counter()
    first = None
    for lo in range(0, n_origins, per):
        S = earliest_arrival(tt, init_for(access[lo:lo + per]), HORIZON_S, group=nd)
        first = S if first is None else first
    t_csa = (time.perf_counter() - t0) / n_origins
    in_window = (tt.dep_t >= WINDOW[0]) & (tt.dep_t <= WINDOW[1] + HORIZON_S)
    n_win = int(in_window.sum())

    # (b) one bare pass over the window's connections per origin
    ds, as_, dt, at = (x[in_window] for x in (tt.dep_stop, tt.arr_stop, tt.dep_t, tt.arr_t))
    sample = min(nq, 200)
    S0 = init_for(access[:1])[:, 0].astype(np.int64)
    t0 = time.perf_counter()
    for _ in range(sample):
        S = S0.copy()
        np.minimum.at(S, as_, np.where(S[ds] <= dt, at, INF))
    t_bare = (time.perf_counter() - t0) / sample

    # (c) the numpy scan it replaced, one batch of the size it ran (its batch was QUERY_BATCH queries)
    old_per = max(1, QUERY_BATCH // nd)
    n_old = min(n_origins, old_per if not args.quick else 20)
    t0 = time.perf_counter()
    old = numpy_scan(tt, init_for(access[:n_old]), HORIZON_S)
    t_old = (time.perf_counter() - t0) / n_old
    until = WINDOW[1] + HORIZON_S
    lim = (deps + HORIZON_S)[None, :]
    same_old = bool(np.array_equal(np.where(old[:, :nd] <= lim, old[:, :nd], INF), np.where(first[:, :nd] <= lim, first[:, :nd], INF)))

    # (d) networkx time-expanded Dijkstra per query, on the window's connections
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_transit_oracle import oracle_arrivals

    win_conns = [tuple(int(v) for v in c) for c in conns if WINDOW[0] <= c[2] <= until]
    fps = {(int(a), int(b)): int(w) for a, b, w in zip(*fp)}
    n_nx = 2 if args.quick else 3
    t0 = time.perf_counter()
    same = True
    for k in range(n_nx):
        got = oracle_arrivals(len(xy), win_conns, fps, access[0], int(deps[k]))
        # both are exact up to the query's horizon (beyond it either may stop looking)
        lim = int(deps[k]) + HORIZON_S
        mine = [None if v >= INF or v > lim else int(v) for v in first[:, k]]
        same &= [None if v is None or v > lim else v for v in got] == mine
    t_nx = (time.perf_counter() - t0) / n_nx

    nat = national(args)
    load_after = os.getloadavg()[0]
    common = {"stops": len(xy), "connections": len(conns), "connections_in_window": n_win, "queries": nq}
    busy = f"{load:.1f} at start, {load_after:.1f} at end (2 cores, shared)"
    return [
        figure("csa_per_origin_vs_bare_pass", t_csa * 1e3, "ms",
               "one numpy pass over the window's connections per origin", t_bare * 1e3, higher_is_better=False,
               departures=nd, origins_per_batch=per, **common, load_avg=busy),
        figure("csa_per_origin_vs_previous_numpy_scan", t_csa * 1e3, "ms", "the numpy scan it replaced (per origin)",
               t_old * 1e3, higher_is_better=False, same_arrivals=same_old, origins_in_numpy_batch=n_old, **common),
        figure("csa_per_query_vs_networkx", t_csa / nd * 1e3, "ms", "networkx time-expanded Dijkstra per query",
               t_nx * 1e3, higher_is_better=False, same_arrivals=bool(same), sampled=n_nx, **common),
        figure("national_10k_candidates_91_departures", nat.pop("value"), "s", "the whole nightly budget (30 min)",
               BUDGET_S, higher_is_better=False, before="12,738 s (0.141x; the numpy scan, extrapolated)",
               **nat, load_avg=busy),
    ]
