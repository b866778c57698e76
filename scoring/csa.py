"""Earliest arrival by public transport: the Connection Scan Algorithm on numpy arrays, many queries at once.

Model (what "travel time" means here, and what the networkx oracle in tests/test_transit_oracle.py
rebuilds independently as a time-expanded graph):

* a journey leaves its origin at ``t0``, walks to a stop (an *access* leg, seconds given per
  (origin, stop)), and there boards any vehicle departing at or after its arrival;
* it may stay on a trip, or alight at any later stop of it; from a vehicle arrival it may board
  another vehicle at the same stop (no minimum change time) or take **one** *footpath* (a walking
  transfer to another stop, seconds given per (stop, stop)) and board there; footpaths are not chained
  (two walks in a row are one longer walk, which the footpath list holds if it is short enough);
* its arrival at a stop is the earliest time it can be there; the door-to-door time to a destination
  adds an egress walk from a stop (done by the caller, :mod:`plekzoeker.scoring.transit`).

Algorithm. Connections (one vehicle leg between two consecutive calls of a trip) are sorted by
departure time (ties by arrival time). One scan over them in that order, keeping per query the
earliest arrival ``S[stop]`` and whether the query is on trip ``T[trip]``, is exact for earliest
arrival: when a connection is scanned, every connection that could bring a query to its departure
stop in time departs no later and was scanned before (arrival >= departure for every connection and
every footpath takes >= 0 s). A connection is usable when the query is already on its trip or can be
at its departure stop by its departure time; then its arrival improves ``S`` at its arrival stop and,
through the footpaths of that stop, at their ends. (Zero-duration connections that chain at one
instant are the one case the order does not settle: a feed with them should have distinct times.)

Many queries at once: ``S`` is a (stops x queries) int32 array and ``T`` (trips x queries) bool;
each connection is a few vector operations over the queries (an origin at each departure minute of
the window is one query). This is what makes plain numpy fast enough: the per-connection Python
cost is paid once for all queries of a batch, and a connection no query can use is skipped after one
comparison. Only connections departing in ``[min t0, max t0 + horizon]`` are scanned, and ``T`` holds
only the trips of those connections. Memory per query: 4 bytes per stop plus 1 per trip in the window
(:func:`batch_size` keeps a batch within a budget).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INF = np.iinfo(np.int32).max // 2   # "not reached" (room to add a walk without overflow)


@dataclass(frozen=True)
class Timetable:
    """Connections sorted by (departure, arrival), and footpaths between stops as CSR."""

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

    @property
    def n_connections(self) -> int:
        return len(self.dep_t)

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
                    footpaths: tuple[np.ndarray, np.ndarray, np.ndarray]) -> Timetable:
    """Sort the connections and pack the footpaths ``(from, to, seconds)`` (self-loops dropped,
    the shortest of parallel ones kept)."""
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
    return Timetable(n_stops=n_stops, n_trips=n_trips, dep_stop=ds[o].astype(np.int32), arr_stop=as_[o].astype(np.int32),
                     dep_t=dt[o].astype(np.int32), arr_t=at[o].astype(np.int32), trip=tr[o].astype(np.int32),
                     fp_ptr=np.cumsum(ptr), fp_to=t.astype(np.int32), fp_w=w.astype(np.int32))


def batch_size(n_stops: int, n_trips: int, max_queries: int, budget_bytes: int) -> int:
    """Queries per scan so that ``S`` and ``T`` stay within ``budget_bytes`` (at least 1)."""
    return max(1, min(max_queries, budget_bytes // max(1, 4 * n_stops + n_trips)))


def earliest_arrival(tt: Timetable, initial: np.ndarray, horizon_s: int) -> np.ndarray:
    """Earliest arrival at every stop for every query.

    ``initial``: (n_stops, n_queries) int32, each query's arrival at each stop by its access walk
    (``t0 + walk``; :data:`INF` where it cannot walk there). ``horizon_s``: connections departing
    later than the latest start + horizon are not scanned. Returns ``S`` (n_stops, n_queries), INF
    where not reached; ``initial`` is not changed."""
    S = np.array(initial, dtype=np.int32, copy=True)
    nq = S.shape[1]
    if nq == 0 or tt.n_connections == 0:
        return S
    reached = S < INF
    if not reached.any():
        return S
    t_first = int(S[reached].min())
    t_last = int(S[reached].max()) + horizon_s
    lo, hi = np.searchsorted(tt.dep_t, t_first, "left"), np.searchsorted(tt.dep_t, t_last, "right")
    ds, as_, dt, at = tt.dep_stop[lo:hi], tt.arr_stop[lo:hi], tt.dep_t[lo:hi], tt.arr_t[lo:hi]
    trips, tr = np.unique(tt.trip[lo:hi], return_inverse=True)   # only the trips of the scanned window
    T = np.zeros((len(trips), nq), dtype=bool)
    on_any = np.zeros(len(trips), dtype=bool)
    ptr, fto, fw = tt.fp_ptr, tt.fp_to, tt.fp_w
    earliest = S.min(axis=1)      # per stop: the earliest any query is there (skip test)
    cand = np.empty(nq, dtype=np.int32)
    for i in range(hi - lo):
        s, d, trip = ds[i], dt[i], tr[i]
        if not on_any[trip] and earliest[s] > d:
            continue              # nobody is on this trip nor at its stop in time
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
            walk = cand[None, :] + fw[f0:f1, None]
            S[to] = np.minimum(S[to], walk)
            earliest[to] = np.minimum(earliest[to], t + fw[f0:f1])
    return S
