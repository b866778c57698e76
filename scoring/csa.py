"""Earliest arrival by public transport: the Connection Scan Algorithm, many queries per scan, compiled (numba).

Model (what "travel time" means here, and what the networkx oracle in tests/test_transit_oracle.py
rebuilds independently as a time-expanded graph):

* a journey leaves its origin at ``t0``, walks to a stop (an *access* leg, seconds given per
  (origin, stop)), and there boards any vehicle departing at or after its arrival;
* it may stay on a trip (no change time), or alight at any later stop of it; from a vehicle arrival
  at stop ``s`` at ``t`` it may board another vehicle at ``s`` departing at or after ``t +
  change_s[s]`` (the stop's minimum change time: transfers.txt ``transfer_type`` 2 with
  ``from_stop_id == to_stop_id``, else ``transit.min_change_s``, default 0), or take **one**
  *footpath* (a walking transfer to another stop, seconds given per (stop, stop); the walk is the
  change, so no change time is added at either end) and board there from ``t + walk``; footpaths
  are not chained (two walks in a row are one longer walk, which the footpath list holds if short
  enough) and never follow the access walk;
* its arrival at a stop is the earliest time it can be there (by access walk, vehicle or footpath,
  *not* plus a change time: the egress walk starts on arrival); the door-to-door time to a
  destination adds an egress walk (done by the caller, :mod:`plekzoeker.scoring.transit`);
* ``horizon_s``: query ``q`` starts at ``start_q`` = its earliest access arrival and uses only
  connections departing by ``start_q + horizon_s`` (any journey that arrives within ``horizon_s`` of
  ``t0`` uses only such connections, so travel times up to the horizon are exact; later arrivals may
  be reported or not). This is per query, so a query's answer never depends on the others in its batch.

Labels per (stop, query): ``S`` the arrival, ``R`` ready to board another vehicle (``S`` itself when
no stop has a change time: the same array), ``V`` the earliest *vehicle* arrival; per (trip, query)
``T`` "is on this trip". Connections (one vehicle leg between consecutive calls of a trip) are sorted
by departure (ties by arrival). One scan in that order is exact: when a connection departing at ``d``
is scanned, every connection that could put a query at its departure stop by ``d`` arrived by ``d``,
so departed by ``d`` and was scanned before (arrival >= departure, walks and change times >= 0; the
one case the order does not settle is zero-duration connections chaining at one instant, which a feed
should not have). A connection is usable by ``q`` when ``T[trip, q]`` or ``R[dep_stop, q] <= d``; then
``T[trip, q]`` is set, ``S``/``V`` at its arrival stop take ``arr_t``, ``R`` takes ``arr_t + change``,
and, only when ``V`` improved, the footpaths of the arrival stop are relaxed (``S`` and ``R`` of their
ends take ``arr_t + walk``): a later or equal vehicle arrival at that stop cannot give a better walk.

Why it is fast enough for the country (BENCHMARKS.md, ``transit``), and why numba: the earlier numpy
scan paid ~12 us of Python per connection per batch (a few vector operations over the batch's
queries), which at national size (~1.5 M connections in the window, 10^4 candidates x 91 departures,
batches limited by memory) came to ~3.5 h. Compiled, a connection costs nanoseconds, and most cost
O(1). Four things keep the per-query work to what the queries can actually use:

* skip tests: per stop the minimum over the batch's queries of ``R`` and per trip whether any query
  is on it; the same per *group* of queries (``group``: the departures of one candidate), so a usable
  connection costs per-query work only in the groups that can use it. The caller batches
  geographically close candidates (:func:`plekzoeker.scoring.transit.hilbert_order`);
* monotone groups (:func:`_prepare`): one origin's departures in time order dominate each other, so
  the queries of a group that can board a connection are a leading run and the loop stops at the
  first that cannot;
* target pruning (:class:`Targets`): a query's arrivals only matter up to the nearest destination of
  every category and the count threshold; once those are settled it stops (exact for what
  :mod:`plekzoeker.scoring.transit` reads, argued in :class:`Targets`);
* no pass over all labels per batch beyond filling ``S``: the set-up reads only the access rows,
  and ``V``/``T`` are scratch cleared piecewise when first used (:func:`_scan`).

Alternatives considered: RAPTOR (rounds over routes) has the same per-query cost structure and needs
route patterns the GTFS trips do not give for free; a profile CSA (one reverse scan per target)
needs a pass per POI, and there are more POIs than candidates; a pure-numpy scan cannot skip per
connection without paying Python for it; numba's ``prange`` over groups would use the second core,
but the nightly box is shared and the single-thread figure already fits (left as an option).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

INF = np.iinfo(np.int32).max // 2   # "not reached" (room to add a walk or a change time without overflow)
LABELS_WITH_CHANGE = 3              # S, R, V per (stop, query) when some stop has a change time; else 2 (R is S)


@dataclass(frozen=True)
class Timetable:
    """Connections sorted by (departure, arrival), footpaths between stops as CSR, change time per stop."""

    n_stops: int
    n_trips: int
    dep_stop: np.ndarray     # int32, per connection
    arr_stop: np.ndarray
    dep_t: np.ndarray        # int32 seconds
    arr_t: np.ndarray
    trip: np.ndarray         # int32 trip index
    fp_ptr: np.ndarray       # int64 (n_stops + 1,): footpaths of stop s are fp_to/fp_w[fp_ptr[s]:fp_ptr[s+1]]
    fp_to: np.ndarray        # int32
    fp_w: np.ndarray         # int32 seconds
    change_s: np.ndarray = field(default=None)   # int32 (n_stops,): minimum change time at the stop (0: none)

    @property
    def n_connections(self) -> int:
        return len(self.dep_t)

    @property
    def has_change_times(self) -> bool:
        return self.change_s is not None and bool((self.change_s > 0).any())

    def trips_between(self, t0: int, t1: int) -> int:
        """How many trips have a connection departing in ``[t0, t1]`` (the size of ``T`` for that scan)."""
        lo, hi = np.searchsorted(self.dep_t, t0, "left"), np.searchsorted(self.dep_t, t1, "right")
        return len(np.unique(self.trip[lo:hi]))


def connections_from_calls(trip: np.ndarray, seq: np.ndarray, stop: np.ndarray, arr: np.ndarray, dep: np.ndarray
                           ) -> tuple[np.ndarray, ...]:
    """Consecutive calls of each trip -> connections ``(dep_stop, arr_stop, dep_t, arr_t, trip)``.

    ``trip``/``stop`` are indices, ``seq`` the stop_sequence, ``arr``/``dep`` seconds (already shifted
    for the service day and with no missing value). A leg whose arrival is before its departure (a
    broken feed) is dropped."""
    o = np.lexsort((seq, trip))
    trip, stop, arr, dep = trip[o], stop[o], arr[o], dep[o]
    same = trip[1:] == trip[:-1]
    a, b = np.flatnonzero(same), np.flatnonzero(same) + 1
    ok = arr[b] >= dep[a]
    a, b = a[ok], b[ok]
    return stop[a], stop[b], dep[a], arr[b], trip[a]


def build_timetable(n_stops: int, n_trips: int, conns: tuple[np.ndarray, ...],
                    footpaths: tuple[np.ndarray, np.ndarray, np.ndarray], change_s: np.ndarray | None = None) -> Timetable:
    """Sort the connections and pack the footpaths ``(from, to, seconds)`` (self-loops dropped,
    the shortest of parallel ones kept); ``change_s``: minimum change time per stop (None: 0 everywhere)."""
    ds, as_, dt, at, tr = (np.asarray(x) for x in conns)
    o = np.lexsort((at, dt))
    f, t, w = (np.asarray(x, dtype=np.int64) for x in footpaths)
    keep = f != t
    f, t, w = f[keep], t[keep], w[keep]
    o2 = np.lexsort((w, t, f))
    f, t, w = f[o2], t[o2], w[o2]
    first = np.ones(len(f), dtype=bool)
    first[1:] = (f[1:] != f[:-1]) | (t[1:] != t[:-1])
    f, t, w = f[first], t[first], w[first]
    ptr = np.zeros(n_stops + 1, dtype=np.int64)
    np.add.at(ptr, f + 1, 1)
    ch = np.zeros(n_stops, dtype=np.int32) if change_s is None else np.asarray(change_s, dtype=np.int32).copy()
    if ch.shape != (n_stops,) or (ch < 0).any():
        raise ValueError("change_s: one non-negative number of seconds per stop")
    return Timetable(n_stops=n_stops, n_trips=n_trips, dep_stop=ds[o].astype(np.int32), arr_stop=as_[o].astype(np.int32),
                     dep_t=dt[o].astype(np.int32), arr_t=at[o].astype(np.int32), trip=tr[o].astype(np.int32),
                     fp_ptr=np.cumsum(ptr), fp_to=t.astype(np.int32), fp_w=w.astype(np.int32), change_s=ch)


def bytes_per_query(n_stops: int, n_trips: int, change_times: bool = True) -> int:
    """Label memory of one query in a scan: int32 labels per stop (S, V and R unless R is S) + 1 byte per trip."""
    return 4 * n_stops * (LABELS_WITH_CHANGE if change_times else LABELS_WITH_CHANGE - 1) + n_trips


def batch_size(n_stops: int, n_trips: int, max_queries: int, budget_bytes: int, change_times: bool = True) -> int:
    """Queries per scan so that the labels stay within ``budget_bytes`` (at least 1)."""
    return max(1, min(max_queries, budget_bytes // max(1, bytes_per_query(n_stops, n_trips, change_times))))


@njit(cache=True)
def _local_trips(trip: np.ndarray, lo: int, hi: int, n_trips: int) -> tuple[np.ndarray, int]:
    """Trips of the connections ``lo:hi`` renumbered 0.. in order of first appearance (so ``T`` holds only them)."""
    seen = np.full(n_trips, -1, dtype=np.int32)
    out = np.empty(hi - lo, dtype=np.int32)
    n = 0
    for i in range(lo, hi):
        k = trip[i]
        if seen[k] < 0:
            seen[k] = n
            n += 1
        out[i - lo] = seen[k]
    return out, n


@dataclass
class Targets:
    """What the caller will read from the arrivals, so a query can stop early (target pruning).

    Per stop the shortest walk to a destination of each category (CSR ``ptr``/``cat``/``walk``);
    ``best`` (n_cats, n_queries) the arrival at the nearest destination of each category known before
    the scan (a walk all the way; 0 for a category the caller does not need); ``floor`` and ``end``
    per query (absolute seconds). Query q then uses connections departing by
    ``min(end[q], max(floor[q], max_k best[k, q]))`` as ``best`` improves during the scan. Every
    arrival at a stop up to that final bound is exact (a journey arriving by then uses only connections
    departing by then), and so is ``best`` where it is at most that bound; later arrivals are those of
    some journey (not necessarily the earliest). Why it stops nothing it should not: a connection
    departing after the bound arrives after it, so it cannot bring any category nearer than the
    ``best`` already known, nor make a destination count (that needs an arrival by ``floor``).
    :mod:`plekzoeker.scoring.transit` sets ``end`` = departure + max travel time and ``floor`` =
    departure + the count threshold (twice it for an even number of departures, where a median
    averages two values), which keeps every figure it reports exact."""

    ptr: np.ndarray          # int64 (n_stops + 1,)
    cat: np.ndarray          # int32
    walk: np.ndarray         # int32 seconds
    best: np.ndarray         # int32 (n_cats, n_queries), updated in place
    floor: np.ndarray        # int32 (n_queries,)
    end: np.ndarray          # int32 (n_queries,)
    reached: np.ndarray | None = None   # set by earliest_arrival: bool (n_stops,), some query is there


@njit(cache=True, inline="always")
def _arrive(st, q, t, tg_ptr, tg_cat, tg_w, best, floor, end):
    """Query q is at stop st at t: the destinations walkable from there may be nearer, the query may end earlier."""
    changed = False
    for j in range(tg_ptr[st], tg_ptr[st + 1]):
        v = t + tg_w[j]
        k = tg_cat[j]
        if v < best[k, q]:
            best[k, q] = v
            changed = True
    if changed:
        m = floor[q]
        for k in range(best.shape[0]):
            if best[k, q] > m:
                m = best[k, q]
        if m < end[q]:
            end[q] = m


@njit(cache=True)
def _prepare(S, R, rows, group, tg_ptr, tg_cat, tg_w, best, floor, end, start, g_ready, b_ready, mono):
    """One pass over the initial labels: each query's start, the per-group and per-batch minimum of
    ``R`` per stop, which groups are monotone, and the destinations walkable from the access stops.

    ``rows``: the stops where some initial label is finite (the others are all INF and not read).
    A group is monotone when its columns' initial labels never decrease from one column to the next
    (one origin's departures in time order): then among its unfinished queries those that can use a
    connection come first (each dominates the next: a later departure's journey is open to an earlier
    one that has seen the same connections), so the scan stops at the first that cannot board."""
    n_stops, nq = S.shape
    ng = g_ready.shape[1]
    for q in range(nq):
        start[q] = INF
    for g in range(ng):
        mono[g] = True
    for s in range(n_stops):
        b_ready[s] = INF
        for g in range(ng):
            g_ready[s, g] = INF
    for s in rows:                        # the stops with some finite initial label (the others are all INF)
        b = INF
        for g in range(ng):
            q0, q1 = g * group, min(nq, (g + 1) * group)
            m = INF
            prev = -1
            for q in range(q0, q1):
                r = R[s, q]
                if r < m:
                    m = r
                if r < prev:
                    mono[g] = False
                prev = r
                v = S[s, q]
                if v < INF:
                    if v < start[q]:
                        start[q] = v
                    _arrive(s, q, v, tg_ptr, tg_cat, tg_w, best, floor, end)
            g_ready[s, g] = m
            if m < b:
                b = m
        b_ready[s] = b


@njit(cache=True)
def _scan(dep_stop, arr_stop, dep_t, arr_t, local_trip, lo, hi, n_local, fp_ptr, fp_to, fp_w, change,
          S, R, V, T, end, group, tg_ptr, tg_cat, tg_w, best, floor, g_ready, b_ready, mono):
    """The scan over connections ``lo:hi`` for all queries (columns of S/R/V) at once; see the module docstring.

    ``end[q]``: the last departure query q may use (lowered during the scan by the targets, if any).
    Queries are in groups of ``group`` consecutive columns; ``g_ready[s, g]`` (min over the group's
    queries of R) and ``g_on[trip, g]`` (some query of the group is on the trip) let a group that
    cannot use a connection be skipped in O(1), and their minimum/any over the groups (``b_ready``,
    left as "INF where no query got") let the whole batch skip it. A query past its end stays past it
    (departures grow, ends shrink), so each group keeps a pointer past its leading finished queries.
    ``V`` and ``T`` are scratch that is never cleared as a whole: a group's part of the row of ``T``
    for a trip is cleared when the group first boards the trip (``g_on``), that of ``V`` for a stop
    when the group first arrives there by vehicle (``v_ok``); so a scan touches only what it uses."""
    n_stops, nq = S.shape
    ng = g_ready.shape[1]
    g_on = np.zeros((n_local, ng), dtype=np.bool_)
    b_on = np.zeros(n_local, dtype=np.bool_)
    v_ok = np.zeros((n_stops, ng), dtype=np.bool_)
    g_end = np.full(ng, -1, dtype=np.int32)      # an upper bound of the group's ends (-1: all finished)
    g_lo = np.empty(ng, dtype=np.int64)
    for g in range(ng):
        g_lo[g] = g * group
        for q in range(g * group, min(nq, (g + 1) * group)):
            if end[q] > g_end[g]:
                g_end[g] = end[q]
    for i in range(lo, hi):
        k = local_trip[i - lo]
        s = dep_stop[i]
        d = dep_t[i]
        if not b_on[k] and b_ready[s] > d:
            continue                      # no query is on this trip or at its stop in time
        a = arr_stop[i]
        t = arr_t[i]
        ta = t + change[a]
        f0, f1 = fp_ptr[a], fp_ptr[a + 1]
        for g in range(ng):
            on_trip = g_on[k, g]
            if d > g_end[g] or (not on_trip and g_ready[s, g] > d):
                continue
            q0, q_hi = g * group, min(nq, (g + 1) * group)
            while g_lo[g] < q_hi and end[g_lo[g]] < d:
                g_lo[g] += 1
            if g_lo[g] == q_hi:
                g_end[g] = -1
                continue
            used = False
            walked = False
            for q in range(g_lo[g], q_hi):
                if d > end[q]:
                    continue
                if not ((on_trip and T[k, q]) or R[s, q] <= d):
                    if mono[g]:
                        break             # the later departures cannot board either
                    continue
                if not used:
                    used = True
                    if not on_trip:
                        for x in range(q0, q_hi):
                            T[k, x] = False
                    if not v_ok[a, g]:
                        v_ok[a, g] = True
                        for x in range(q0, q_hi):
                            V[a, x] = INF
                T[k, q] = True
                if t < S[a, q]:           # S before R: R may be S itself (then the R test is false)
                    S[a, q] = t
                    _arrive(a, q, t, tg_ptr, tg_cat, tg_w, best, floor, end)
                if ta < R[a, q]:
                    R[a, q] = ta
                if t < V[a, q]:
                    V[a, q] = t
                    walked = True
                    for j in range(f0, f1):
                        b = fp_to[j]
                        w = t + fp_w[j]
                        if w < S[b, q]:
                            S[b, q] = w
                            _arrive(b, q, w, tg_ptr, tg_cat, tg_w, best, floor, end)
                        if w < R[b, q]:
                            R[b, q] = w
            if used:
                g_on[k, g] = True
                b_on[k] = True
                if ta < g_ready[a, g]:
                    g_ready[a, g] = ta
                if ta < b_ready[a]:
                    b_ready[a] = ta
                if walked:
                    for j in range(f0, f1):
                        b = fp_to[j]
                        w = t + fp_w[j]
                        if w < g_ready[b, g]:
                            g_ready[b, g] = w
                        if w < b_ready[b]:
                            b_ready[b] = w


class Scratch:
    """Label buffers kept between scans of one run (fresh memory for every batch costs page faults)."""

    def __init__(self) -> None:
        self._buf: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, int], dtype) -> np.ndarray:
        n = shape[0] * shape[1]
        buf = self._buf.get(name)
        if buf is None or buf.dtype != np.dtype(dtype) or buf.size < n:
            buf = self._buf[name] = np.empty(n, dtype=dtype)
        return buf[:n].reshape(shape)


def earliest_arrival(tt: Timetable, initial: np.ndarray, horizon_s: int, group: int | None = None,
                     targets: Targets | None = None, *, in_place: bool = False, scratch: Scratch | None = None,
                     rows: np.ndarray | None = None) -> np.ndarray:
    """Earliest arrival at every stop for every query.

    ``initial``: (n_stops, n_queries) int32, each query's arrival at each stop by its access walk
    (``t0 + walk``; :data:`INF` where it cannot walk there). ``horizon_s``: query q uses connections
    departing by its earliest access arrival + horizon (module docstring). ``group``: queries per
    skip group (consecutive columns, e.g. the departures of one origin; default: all of them).
    ``targets``: stop each query early (:class:`Targets`; then ``targets.end`` replaces the horizon,
    and ``targets.reached`` is set: the stops some query reached). Returns ``S`` (n_stops, n_queries),
    INF where not reached; ``initial`` is not changed unless ``in_place`` (then it is ``S``, and must
    be a C-contiguous int32 array). ``scratch``: buffers to reuse between calls. ``rows``: the stops
    where some initial label is finite, if the caller knows (a superset will do; default: looked up)."""
    if in_place:
        if initial.dtype != np.int32 or not initial.flags.c_contiguous:
            raise ValueError("earliest_arrival(in_place=True): initial must be C-contiguous int32")
        S = initial
    else:
        S = np.array(initial, dtype=np.int32, copy=True, order="C")
    nq = S.shape[1]
    if nq == 0 or tt.n_connections == 0:
        if targets is not None:
            targets.reached = (S < INF).any(axis=1)
        return S
    group = max(1, min(nq, int(group or nq)))
    ng = -(-nq // group)
    change = tt.change_s if tt.change_s is not None else np.zeros(tt.n_stops, dtype=np.int32)
    scratch = scratch or Scratch()
    if tt.has_change_times:       # ready to board: the same array as S when no stop has a change time
        R = scratch.get("R", S.shape, np.int32)
        np.copyto(R, S)
    else:
        R = S
    if targets is None:
        z = np.zeros(0, dtype=np.int32)
        end = np.zeros(nq, dtype=np.int32)
        tg = (np.zeros(tt.n_stops + 1, dtype=np.int64), z, z, np.zeros((0, nq), dtype=np.int32), np.zeros(nq, dtype=np.int32))
    else:
        if targets.best.dtype != np.int32 or targets.best.shape[1] != nq:
            raise ValueError("targets.best: int32 (n_cats, n_queries)")
        end = np.asarray(targets.end, dtype=np.int32).copy()
        tg = (targets.ptr.astype(np.int64), targets.cat.astype(np.int32), targets.walk.astype(np.int32), targets.best,
              np.asarray(targets.floor, dtype=np.int32))
    start = np.empty(nq, dtype=np.int32)
    g_ready = np.empty((tt.n_stops, ng), dtype=np.int32)
    b_ready = np.empty(tt.n_stops, dtype=np.int32)
    mono = np.empty(ng, dtype=np.bool_)
    rows = np.flatnonzero((S < INF).any(axis=1)) if rows is None else np.unique(np.asarray(rows, dtype=np.int64))
    _prepare(S, R, rows, group, *tg, end, start, g_ready, b_ready, mono)
    live = start < INF
    if targets is not None:
        targets.reached = b_ready < INF       # updated below if the scan runs
    if not live.any():
        return S
    if targets is None:
        end = (start.astype(np.int64) + horizon_s).clip(None, INF).astype(np.int32)
    end[~live] = -1
    lo = int(np.searchsorted(tt.dep_t, int(start[live].min()), "left"))
    hi = int(np.searchsorted(tt.dep_t, int(end.max()), "right"))
    if hi <= lo:
        return S
    local, n_local = _local_trips(tt.trip, lo, hi, tt.n_trips)
    V = scratch.get("V", S.shape, np.int32)
    T = scratch.get("T", (n_local, nq), np.bool_)
    _scan(tt.dep_stop, tt.arr_stop, tt.dep_t, tt.arr_t, local, lo, hi, n_local, tt.fp_ptr, tt.fp_to, tt.fp_w,
          change, S, R, V, T, end, group, *tg, g_ready, b_ready, mono)
    if targets is not None:
        targets.reached = b_ready < INF
    return S
