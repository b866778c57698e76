"""Transit routing benchmark: the connection scan of scoring/csa.py against two baselines, same feed, same run.

Feed: a synthetic city (stops on a jittered grid, bus lines as random walks over neighbouring stops,
both directions, every 10 minutes 05:00-24:00; walking transfers between stops within 300 m at
1.3 m/s). Queries: origins at random stops (with an access walk to the stops around them) times every
departure minute of 07:30-09:00 (91), as the nightly run asks them.

(a) plekzoeker: :func:`~plekzoeker.scoring.csa.earliest_arrival`, queries in batches of
    ``QUERY_BATCH`` as :mod:`plekzoeker.scoring.transit` runs them; time per query.
(b) the bare lower bound of one pass over the window's connections per origin: one vectorised numpy
    gather/compare/scatter over all of them (no order, no trips, no footpaths: not a correct
    answer, just the cost of touching every connection once). plekzoeker answers every departure
    minute (91 queries) per origin, a profile search would need about one pass per origin: this is
    the floor such a search would have in numpy.
(c) per-query time-expanded Dijkstra with networkx (the oracle of tests/test_transit_oracle.py,
    graph built per query as the oracle does), on a sample of queries; it is also checked to give the
    same arrivals as (a) on that sample.

National estimate: the scan's cost per scanned connection, fitted here as ``a + b x queries`` from two
batch sizes, times the connections of a national feed (``NATIONAL_STOP_TIMES`` a day; those departing
in the window plus the travel horizon, at this feed's share of the day) and the number of batches of
``NATIONAL_CANDIDATES`` x 91 queries when a batch's labels must fit ``LABEL_BUDGET`` with the national
stop and trip counts. It is an extrapolation (the national feed itself is not generated), noted as such.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from .common import figure

NATIONAL_STOP_TIMES = 10_000_000
NATIONAL_CANDIDATES = 10_000
NATIONAL_STOPS = 60_000          # stops of the Dutch national feed, about
NATIONAL_TRIPS = 400_000         # trips a day, about (10^7 stop times at ~25 calls per trip)
WINDOW = (7 * 3600 + 1800, 9 * 3600)
HORIZON_S = 90 * 60


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


def run(args) -> list[dict]:
    from plekzoeker.scoring.csa import INF, batch_size, build_timetable, earliest_arrival
    from plekzoeker.scoring.transit import LABEL_BUDGET, QUERY_BATCH

    n_side, n_lines, n_origins = (30, 60, 60) if args.quick else (60, 300, 400)
    xy, conns, fp, n_trips = synthetic_feed(n_side, n_lines)
    tt = build_timetable(len(xy), n_trips, tuple(conns[:, k] for k in range(5)), fp)
    deps = np.arange(WINDOW[0], WINDOW[1] + 1, 60)
    access = _queries(xy, n_origins, deps)
    nq = n_origins * len(deps)

    def init_for(origins):
        init = np.full((tt.n_stops, len(origins) * len(deps)), INF, dtype=np.int32)
        for k, acc in enumerate(origins):
            for s, w in acc.items():
                init[s, k * len(deps):(k + 1) * len(deps)] = deps + w
        return init

    per = max(1, QUERY_BATCH // len(deps))
    t0 = time.perf_counter()
    first = None
    for lo in range(0, n_origins, per):
        S = earliest_arrival(tt, init_for(access[lo:lo + per]), HORIZON_S)
        first = S if first is None else first
    t_csa = time.perf_counter() - t0
    in_window = (tt.dep_t >= WINDOW[0]) & (tt.dep_t <= WINDOW[1] + HORIZON_S)
    n_win = int(in_window.sum())
    # cost per scanned connection as a function of the batch (a + b * queries), from two batch sizes
    small = max(1, per // 8)
    t0 = time.perf_counter()
    earliest_arrival(tt, init_for(access[:small]), HORIZON_S)
    t_small = time.perf_counter() - t0
    q_big, q_small = per * len(deps), small * len(deps)
    t_big = t_csa / -(-n_origins // per)
    b = max((t_big - t_small) / n_win / (q_big - q_small), 0.0)
    a = max(t_small / n_win - b * q_small, 0.0)

    # (b) one bare pass over the window's connections per query
    ds, as_, dt, at = (x[in_window] for x in (tt.dep_stop, tt.arr_stop, tt.dep_t, tt.arr_t))
    sample = min(nq, 200)
    S0 = init_for(access[:1])[:, 0].astype(np.int64)
    t0 = time.perf_counter()
    for _ in range(sample):
        S = S0.copy()
        np.minimum.at(S, as_, np.where(S[ds] <= dt, at, INF))
    t_bare = (time.perf_counter() - t0) / sample

    # (c) networkx time-expanded Dijkstra per query, on the window's connections
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_transit_oracle import oracle_arrivals

    win_conns = [tuple(int(v) for v in c) for c in conns if WINDOW[0] <= c[2] <= WINDOW[1] + HORIZON_S]
    fps = {(int(a), int(b)): int(w) for a, b, w in zip(*fp)}
    n_nx = 2 if args.quick else 3
    t0 = time.perf_counter()
    same = True
    for k in range(n_nx):
        got = oracle_arrivals(len(xy), win_conns, fps, access[0], int(deps[k]))
        # both are exact for arrivals up to the oracle's last connection (the scan may look a little further)
        until = WINDOW[1] + HORIZON_S
        mine = [None if v >= INF or v > until else int(v) for v in first[:, k]]
        same &= [None if v is None or v > until else v for v in got] == mine
    t_nx = (time.perf_counter() - t0) / n_nx

    t_query = t_csa / nq
    national_conns = NATIONAL_STOP_TIMES * n_win / len(conns)
    national_trips = NATIONAL_TRIPS * len(np.unique(tt.trip[in_window])) / n_trips
    q_nat = batch_size(NATIONAL_STOPS, int(national_trips), QUERY_BATCH, LABEL_BUDGET) // len(deps) * len(deps)
    national_batches = -(-NATIONAL_CANDIDATES * len(deps) // q_nat)
    national_s = (a + b * q_nat) * national_conns * national_batches
    common = {"stops": len(xy), "connections": len(conns), "connections_in_window": n_win, "queries": nq}
    return [
        figure("csa_per_origin_vs_bare_pass", t_query * len(deps) * 1e3, "ms",
               "one numpy pass over the window's connections per origin", t_bare * 1e3, higher_is_better=False,
               departures=len(deps), **common),
        figure("csa_per_query_vs_networkx", t_query * 1e3, "ms", "networkx time-expanded Dijkstra per query",
               t_nx * 1e3, higher_is_better=False, same_arrivals=bool(same), sampled=n_nx, **common),
        figure("national_estimate_10k_candidates_91_departures", national_s, "s", "the whole nightly budget (30 min)",
               1800.0, higher_is_better=False, extrapolated=True, cost_per_connection_us=f"{a * 1e6:.2f} + {b * 1e9:.3f}e-3 x queries",
               queries_per_batch=q_nat, national_connections=int(national_conns), national_window_trips=int(national_trips),
               batches=national_batches),
    ]
