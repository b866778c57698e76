"""Door-to-door travel times by public transport from every candidate to the POIs of each category.

For one service day (``transit.date``, or the busiest ``transit.weekday`` of the feed) and every
departure minute of the window (default 07:30-09:00), a journey is: walk from the candidate to a stop
(:mod:`plekzoeker.scoring.transit_walk`), ride and change (:mod:`plekzoeker.scoring.csa`, walking
transfers between stops within ``transfer_max_m`` and the feed's transfers.txt), walk from the last
stop to the POI; or walk all the way when the POI is within ``max_walk_m``. The travel time of a
departure is arrival minus departure (waiting at the first stop included, as r5py counts it).
Per candidate and category this gives, over the window:

* ``transit_<category>_min``: the **median** travel time to the nearest POI of the category (the
  POI may differ per departure); ``transit_<category>_best_min``: the best;
* ``transit_<category>_within``: how many POIs of the category have a median travel time of at most
  ``count_within_min``.

No connection within ``max_travel_min`` counts as infinitely long, so the median is empty (unknown
is never 0) when more than half of the departures have none. Without a GTFS input nothing is
computed and the score has no transit criteria (not a 0 for everyone).

transfers.txt: ``transfer_type`` 2 between two stops sets that walk to ``min_transfer_time``
(added when the streets do not give one), 3 removes it; ``transfer_type`` 2 with ``from_stop_id ==
to_stop_id`` is the minimum change time at that stop (:func:`change_times`; other stops take
``transit.min_change_s``, default 0): alighting there, another vehicle can be boarded that much later,
staying on the same trip needs none (:mod:`plekzoeker.scoring.csa`). Not modelled: type 3 within one
stop (no change possible there), type 1 (timed transfers), and rules by route or trip.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from numba import njit

from .criteria_config import AccessConfig
from .csa import INF, Scratch, Targets, Timetable, batch_size, build_timetable, connections_from_calls, earliest_arrival
from .graph import Graph
from .timetable import day_calls, pick_date
from .transit_config import TransitConfig
from .transit_walk import Pairs, WalkLegs, walk_legs

log = logging.getLogger(__name__)
QUERY_BATCH = 16_384         # queries (candidate x departure) per scan at most: S is (stops x queries) int32
LABEL_BUDGET = 512 * 2 ** 20  # bytes for the labels (S, V, R if change times) and T of one scan (csa.batch_size)


@dataclass
class Feed:
    stops: pd.DataFrame           # stop_id, x, y
    stop_times: pd.DataFrame      # trip_id, stop_sequence, stop_id, arrival_s, departure_s
    trips: pd.DataFrame           # trip_id, service_id
    calendar: pd.DataFrame
    calendar_dates: pd.DataFrame
    transfers: pd.DataFrame


def read_feed(conn: sa.Connection) -> Feed | None:
    """The loaded GTFS tables (None when no feed is loaded)."""
    stops = pd.read_sql(sa.text("SELECT stop_id, ST_X(geom) AS x, ST_Y(geom) AS y FROM core.gtfs_stop "
                                "ORDER BY stop_id"), conn)
    if stops.empty:
        return None
    q = {"stop_times": "SELECT trip_id, stop_sequence, stop_id, arrival_s, departure_s FROM core.gtfs_stop_time",
         "trips": "SELECT trip_id, service_id FROM core.gtfs_trip",
         "calendar": "SELECT service_id, weekdays, start_date, end_date FROM core.gtfs_calendar",
         "calendar_dates": "SELECT service_id, date, exception_type FROM core.gtfs_calendar_date",
         "transfers": "SELECT from_stop_id, to_stop_id, transfer_type, min_transfer_time FROM core.gtfs_transfer"}
    return Feed(stops=stops, **{k: pd.read_sql(sa.text(v), conn) for k, v in q.items()})


def footpaths(feed: Feed, walks: Pairs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Walking transfers between stops, with transfers.txt applied (type 2 sets the time, type 3 removes)."""
    fp = pd.DataFrame({"f": walks.src, "t": walks.dst, "w": walks.seconds})
    tr = feed.transfers
    if len(tr):
        idx = pd.Series(np.arange(len(feed.stops)), index=feed.stops["stop_id"])
        tr = tr.assign(f=tr["from_stop_id"].map(idx), t=tr["to_stop_id"].map(idx)).dropna(subset=["f", "t"])
        tr = tr[tr["f"] != tr["t"]].astype({"f": "int64", "t": "int64"})
        rules = tr[tr["transfer_type"].isin([2, 3])]
        fp = fp.merge(rules[["f", "t"]], on=["f", "t"], how="left", indicator=True)
        fp = fp[fp["_merge"] == "left_only"].drop(columns="_merge")
        timed = rules[(rules["transfer_type"] == 2) & rules["min_transfer_time"].notna()]
        fp = pd.concat([fp, pd.DataFrame({"f": timed["f"], "t": timed["t"],
                                          "w": timed["min_transfer_time"].astype("int64")})], ignore_index=True)
    return fp["f"].to_numpy(np.int64), fp["t"].to_numpy(np.int64), fp["w"].to_numpy(np.int64)


def change_times(feed: Feed, default_s: int = 0) -> np.ndarray:
    """Minimum change time per stop (int32 seconds): transfers.txt ``transfer_type`` 2 with
    ``from_stop_id == to_stop_id`` and a ``min_transfer_time`` sets it for that stop (the largest if a
    stop has several such rows), every other stop gets ``default_s`` (``transit.min_change_s``)."""
    ch = np.full(len(feed.stops), int(default_s), dtype=np.int32)
    tr = feed.transfers
    if len(tr):
        idx = pd.Series(np.arange(len(feed.stops)), index=feed.stops["stop_id"])
        same = tr[(tr["from_stop_id"] == tr["to_stop_id"]) & (tr["transfer_type"] == 2) & tr["min_transfer_time"].notna()]
        s = same["from_stop_id"].map(idx)
        rule = pd.Series(same["min_transfer_time"].to_numpy(np.int64), index=s.to_numpy()).loc[s.notna().to_numpy()]
        if len(rule):
            rule = rule.groupby(level=0).max()
            ch[rule.index.to_numpy(np.int64)] = rule.to_numpy(np.int32)
    return ch


def timetable(feed: Feed, date, walks: Pairs, min_change_s: int = 0, span: tuple[int, int] | None = None) -> Timetable:
    """The connections of ``date`` (with yesterday's trips past midnight and tomorrow's), the footpaths
    and the change time per stop. ``span``: only trips running within these seconds of ``date``
    (:func:`plekzoeker.scoring.timetable.day_calls`; the caller passes the departure window up to its
    last departure + the longest travel time, outside which no query boards)."""
    calls = day_calls(date, feed.stop_times, feed.trips, feed.calendar, feed.calendar_dates, span)
    sidx = pd.Series(np.arange(len(feed.stops)), index=feed.stops["stop_id"])
    calls = calls.assign(s=calls["stop_id"].map(sidx)).dropna(subset=["s"])
    keys, trip = np.unique(calls["trip_key"].to_numpy(dtype=str), return_inverse=True)
    conns = connections_from_calls(trip, calls["stop_sequence"].to_numpy(np.int64), calls["s"].to_numpy(np.int64),
                                   calls["arrival_s"].to_numpy(np.int64), calls["departure_s"].to_numpy(np.int64))
    return build_timetable(len(feed.stops), len(keys), conns, footpaths(feed, walks), change_times(feed, min_change_s))


def _group(idx: np.ndarray, n: int) -> np.ndarray:
    """CSR pointer of sorted group indices."""
    return np.searchsorted(idx, np.arange(n + 1))


def hilbert_order(xy: np.ndarray, bits: int = 16) -> np.ndarray:
    """Indices of the points sorted along a Hilbert curve over their bounding box (ties stable).

    Consecutive points along the curve are close together, so a batch of consecutive candidates
    reaches mostly the same stops and connections (what the scan's per-batch skip test pays off on)."""
    n = len(xy)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    side = (1 << bits) - 1
    lo, span = xy.min(axis=0), np.ptp(xy, axis=0)
    q = np.where(span > 0, (xy - lo) / np.where(span > 0, span, 1) * side, 0).astype(np.int64)
    x, y = q[:, 0].copy(), q[:, 1].copy()
    d = np.zeros(n, dtype=np.int64)
    s = 1 << (bits - 1)
    while s > 0:                                   # the classic xy -> d loop, vectorised over the points
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += s * s * ((3 * rx) ^ ry)
        flip = ~ry
        swap_x = np.where(flip & rx, side - x, x)
        swap_y = np.where(flip & rx, side - y, y)
        x, y = np.where(flip, swap_y, swap_x), np.where(flip, swap_x, swap_y)
        s >>= 1
    return np.argsort(d, kind="stable")


@njit(cache=True)
def _median_at_most(x, lim):
    """``np.median(x) <= lim`` in one pass (no sort): with n values, an odd n's median is at most lim
    when at least (n + 1) / 2 are; an even n's (the mean of the n/2-th and n/2+1-th smallest) when at
    least n/2 + 1 are, or exactly n/2 are and the largest of them plus the smallest of the rest is at
    most 2 lim."""
    n = len(x)
    below = 0
    hi_below = -np.inf
    lo_above = np.inf
    for v in x:
        if v <= lim:
            below += 1
            if v > hi_below:
                hi_below = v
        elif v < lo_above:
            lo_above = v
    if n % 2:
        return below >= (n + 1) // 2
    if below >= n // 2 + 1:
        return True
    return below == n // 2 and (hi_below + lo_above) / 2 <= lim


@njit(cache=True)
def _door_to_door(S, reached, batch, nd, dep, e_ptr, e_stop, e_w, d_ptr, d_c, d_w, pos, poi_cat, n_cats,
                  max_travel_s, within_s, median, best, within):
    """Egress walks, walks all the way, and the per-candidate summaries of one scanned batch.

    Query ``c * nd + j`` is candidate ``batch[c]`` leaving at ``dep[j]``; ``pos[candidate]`` its c (-1
    outside the batch). Per POI: arrival = min(stop arrival + egress walk, departure + direct walk);
    travel = arrival - departure, none (inf) beyond ``max_travel_s``. Writes ``median``/``best`` (over
    the departures, of the travel time to the nearest POI of each category) and ``within`` (POIs whose
    median travel time is at most ``within_s``) for the batch's candidates. A stop no query reached
    (``reached``, from the scan) costs one load per egress walk from it."""
    n_stops, nq = S.shape
    nb = len(batch)
    nearest = np.full((n_cats, nq), np.inf)
    arr = np.empty(nq, dtype=np.int64)
    travel = np.empty(nd)
    for p in range(len(poi_cat)):
        k = poi_cat[p]
        if k < 0:
            continue
        arr[:] = INF
        for e in range(e_ptr[p], e_ptr[p + 1]):
            st = e_stop[e]
            if not reached[st]:
                continue
            w = e_w[e]
            for q in range(nq):           # branch-free min: INF + a walk stays >= INF ("none")
                arr[q] = min(arr[q], S[st, q] + w)
        for e in range(d_ptr[p], d_ptr[p + 1]):
            c = pos[d_c[e]]
            if c < 0:
                continue
            for j in range(nd):
                arr[c * nd + j] = min(arr[c * nd + j], dep[j] + d_w[e])
        some = False
        for q in range(nq):
            if arr[q] < INF:
                some = True
                break
        if not some:
            continue
        for c in range(nb):
            for j in range(nd):
                v = arr[c * nd + j]
                t = float(v - dep[j]) if v < INF else np.inf
                if t > max_travel_s:
                    t = np.inf
                travel[j] = t
                if t < nearest[k, c * nd + j]:
                    nearest[k, c * nd + j] = t
            if _median_at_most(travel, within_s):
                within[batch[c], k] += 1
    for c in range(nb):
        for k in range(n_cats):
            row = nearest[k, c * nd:(c + 1) * nd]
            median[batch[c], k] = np.median(row)
            best[batch[c], k] = row.min()


def travel_times(tt: Timetable, legs: WalkLegs, n_cands: int, poi_cat: np.ndarray, n_cats: int,
                 departures: list[int], max_travel_s: int, within_s: int, order: np.ndarray | None = None
                 ) -> dict[str, np.ndarray]:
    """Median and best travel time (s, inf = none) to the nearest POI per (candidate, category), and the
    count of POIs with a median within ``within_s``. ``poi_cat``: the category index of every POI.

    Candidates are scanned in batches of consecutive entries of ``order`` (default: as given; the
    caller passes :func:`hilbert_order` of their positions), all departures of a candidate in one
    batch and one skip group (:func:`plekzoeker.scoring.csa.earliest_arrival`). Each query stops
    once the nearest POI of every category and every POI within ``within_s`` are settled
    (:class:`plekzoeker.scoring.csa.Targets`, with the stop -> category egress walks), which is what
    makes the national run fit. The answer does not depend on the order or the batch size, and equals
    the unpruned numpy computation it replaced (tests/test_transit_kernel.py)."""
    dep = np.asarray(departures, dtype=np.int64)
    nd, n_poi = len(dep), len(poi_cat)
    median = np.full((n_cands, n_cats), np.inf)
    best = np.full((n_cands, n_cats), np.inf)
    within = np.zeros((n_cands, n_cats), dtype=np.int64)
    if nd == 0 or n_cands == 0:
        return {"median": median, "best": best, "within": within}
    for name, p, n_src, n_dst in (("access", legs.access, n_cands, tt.n_stops), ("egress", legs.egress, tt.n_stops, n_poi),
                                  ("direct", legs.direct, n_cands, n_poi)):
        if len(p.src) and (p.src.min() < 0 or p.src.max() >= n_src or p.dst.min() < 0 or p.dst.max() >= n_dst):
            raise ValueError(f"travel_times: {name} walk indices out of range")   # the compiled loops do not check
    acc_o = np.argsort(legs.access.src, kind="stable")
    a_src, a_dst, a_w = legs.access.src[acc_o], legs.access.dst[acc_o], legs.access.seconds[acc_o]
    a_ptr = _group(a_src, n_cands)
    eg_o = np.argsort(legs.egress.dst, kind="stable")
    e_stop, e_poi, e_w = legs.egress.src[eg_o], legs.egress.dst[eg_o], legs.egress.seconds[eg_o]
    e_ptr = _group(e_poi, n_poi)
    dr_o = np.lexsort((legs.direct.src, legs.direct.dst))
    d_c, d_p, d_w = legs.direct.src[dr_o], legs.direct.dst[dr_o], legs.direct.seconds[dr_o]
    d_ptr = _group(d_p, n_poi)
    n_trips = tt.trips_between(int(dep.min()), int(dep.max()) + max_travel_s)
    per = max(1, batch_size(tt.n_stops, n_trips, QUERY_BATCH, LABEL_BUDGET, tt.has_change_times) // nd)
    order = np.arange(n_cands) if order is None else np.asarray(order, dtype=np.int64)
    pos = np.full(n_cands, -1, dtype=np.int64)
    cat = np.asarray(poi_cat, dtype=np.int64)
    as_i64 = (np.asarray(x, dtype=np.int64) for x in (e_ptr, e_stop, e_w, d_ptr, d_c, d_w))
    e_ptr, e_stop, e_w, d_ptr, d_c, d_w = as_i64
    # targets (csa.Targets): per stop the shortest egress walk to each category; a category without
    # egress walks cannot get nearer during the scan and does not hold queries back (0)
    t_stop, t_cat, t_w = (np.asarray(x, dtype=np.int64) for x in (e_stop, cat[e_poi] if len(e_poi) else e_poi, e_w))
    if len(t_stop):
        key = np.unique(t_stop * n_cats + t_cat)
        wmin = np.full(len(key), np.iinfo(np.int64).max)
        np.minimum.at(wmin, np.searchsorted(key, t_stop * n_cats + t_cat), t_w)
        t_stop, t_cat, t_w = key // n_cats, key % n_cats, wmin
    t_ptr = _group(t_stop, tt.n_stops)
    targetable = np.zeros(n_cats, dtype=bool)
    targetable[t_cat] = True
    floor = dep + within_s * (1 if nd % 2 else 2)       # an even count's median averages two values
    scratch = Scratch()
    shape, touched = None, None
    for b0 in range(0, n_cands, per):
        batch = order[b0:b0 + per]
        nb = len(batch)
        init = scratch.get("S", (tt.n_stops, nb * nd), np.int32)
        if init.shape == shape:
            init[touched] = INF                        # only the rows the last batch reached
        else:
            init.fill(INF)
        best0 = np.where(targetable[:, None], INF, 0).repeat(nb * nd, axis=1).astype(np.int32)
        for c, cand in enumerate(batch):
            lo, hi = a_ptr[cand], a_ptr[cand + 1]
            if hi > lo:
                init[a_dst[lo:hi, None], c * nd + np.arange(nd)[None, :]] = (dep[None, :] + a_w[lo:hi, None]).astype(np.int32)
        pos[batch] = np.arange(nb)
        dsel = np.flatnonzero(pos[d_c] >= 0)           # walks all the way from the batch's candidates
        for p, c, w in zip(np.repeat(np.arange(n_poi), np.diff(d_ptr))[dsel], pos[d_c[dsel]], d_w[dsel]):
            k = cat[p]
            if targetable[k]:
                cols = slice(c * nd, (c + 1) * nd)
                best0[k, cols] = np.minimum(best0[k, cols], dep + w)
        tg = Targets(ptr=t_ptr, cat=t_cat, walk=t_w, best=best0, floor=np.tile(floor, nb).astype(np.int32),
                     end=np.tile(dep + max_travel_s, nb).astype(np.int32))
        rows = a_dst[np.concatenate([np.arange(a_ptr[c], a_ptr[c + 1]) for c in batch])] if nb else a_dst[:0]
        S = earliest_arrival(tt, init, max_travel_s, group=nd, targets=tg, in_place=True, scratch=scratch, rows=rows)
        shape, touched = S.shape, tg.reached
        _door_to_door(S, tg.reached, batch, nd, dep, e_ptr, e_stop, e_w, d_ptr, d_c, d_w, pos, cat, n_cats,
                      float(max_travel_s), float(within_s), median, best, within)
        pos[batch] = -1
    return {"median": median, "best": best, "within": within}


def transit_frame(engine: sa.Engine, cfg: dict, cands: pd.DataFrame, pois: pd.DataFrame,
                  walk_graph: Callable[[], Graph]) -> tuple[pd.DataFrame, dict]:
    """``transit_<category>_min``, ``_best_min`` and ``_within`` per candidate_key (index), and a summary.

    ``cands``: candidate_key, x, y; ``pois``: category, x, y; ``walk_graph()`` gives the walk graph
    (called only when a feed is loaded). Empty frame when no GTFS feed is loaded."""
    tc = TransitConfig.from_config(cfg)
    index = pd.Index(cands["candidate_key"].to_numpy(), name="candidate_key")
    with engine.connect() as conn:
        feed = read_feed(conn)
    if feed is None or not tc.categories or cands.empty:
        return pd.DataFrame(index=index), {"feed": feed is not None}
    t0 = time.perf_counter()
    date = tc.date or pick_date(tc.weekday, feed.trips, feed.calendar, feed.calendar_dates)
    cats = list(tc.categories)
    p = pois[pois["category"].isin(cats)].reset_index(drop=True)
    ac = AccessConfig.from_config(cfg)
    legs = walk_legs(walk_graph(), cands[["x", "y"]].to_numpy(float), feed.stops[["x", "y"]].to_numpy(float),
                     p[["x", "y"]].to_numpy(float), max_walk_m=tc.max_walk_m, transfer_max_m=tc.transfer_max_m,
                     speed_m_s=tc.walk_speed_m_s, max_snap_m=ac.max_snap_m,
                     snap_to=ac.snap_to)
    span = (tc.window_start_s, tc.window_end_s + tc.max_travel_s)
    tt = timetable(feed, date, legs.transfers, tc.min_change_s, span) if date else None
    t1 = time.perf_counter()
    if tt is None:
        res = {"median": np.full((len(cands), len(cats)), np.inf), "best": np.full((len(cands), len(cats)), np.inf),
               "within": np.zeros((len(cands), len(cats)), dtype=np.int64)}
    else:
        res = travel_times(tt, legs, len(cands), p["category"].map({c: i for i, c in enumerate(cats)}).to_numpy(),
                           len(cats), tc.departures, tc.max_travel_s, tc.count_within_s,
                           order=hilbert_order(cands[["x", "y"]].to_numpy(float)))
    out = pd.DataFrame(index=index)
    for k, cat in enumerate(cats):
        out[f"transit_{cat}_min"] = np.where(np.isfinite(res["median"][:, k]), res["median"][:, k] / 60, np.nan)
        out[f"transit_{cat}_best_min"] = np.where(np.isfinite(res["best"][:, k]), res["best"][:, k] / 60, np.nan)
        out[f"transit_{cat}_within"] = res["within"][:, k].astype(float)
    info = {"feed": True, "date": str(date) if date else None, "departures": len(tc.departures),
            "stops": len(feed.stops), "connections": tt.n_connections if tt else 0,
            "walk_s": round(t1 - t0, 2), "route_s": round(time.perf_counter() - t1, 2)}
    log.info("transit: %s, %d departures x %d candidates over %d connections: walk legs %.1fs, routing %.1fs",
             info["date"], info["departures"], len(cands), info["connections"], info["walk_s"], info["route_s"])
    return out, info
