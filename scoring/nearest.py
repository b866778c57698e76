"""The nearest POI of a category from every candidate: one multi-source Dijkstra, not one per candidate.

Pure functions (no database, no Prefect). :func:`nearest_distances` computes, for every candidate,
``candidate snap + network distance(candidate node -> POI node) + POI snap`` minimised over the
category's POIs. It adds one *virtual source* node per snapped POI node with an edge to it weighted
by that POI's snap distance (the minimum when several POIs share a node) and runs one multi-source
``min_only`` :func:`scipy.sparse.csgraph.dijkstra` from them with ``limit=cap_m``. This adds each
POI's own snap distance exactly, which ``dijkstra(indices=pois, min_only=True)`` cannot. The graph's
arrays are copied once per :func:`plekzoeker.scoring.access.access_table` call into buffers with room
for the virtual rows (:class:`_Aug`, kept per graph in a :class:`_Workspace`), so a run does not copy
the graph.

Travel goes candidate -> POI; on the directed bike graph that is the POI -> candidate search on the
**transposed** graph (``direction="to_poi"``, the default). ``direction="from_poi"`` gives POI ->
candidate on the graph as is. On the walk graph both are the same.

Unreachable is never 0: the distance is NaN and ``reason`` says why, the first that applies of
``no_poi`` (the category has no POI at all), ``no_snap`` (the candidate is more than ``max_snap_m``
from the graph), ``no_poi_snap`` (the category has POIs but none within ``max_snap_m`` of the graph)
and ``beyond_cap`` (the nearest POI is farther than ``cap_m``; since everything sits in one strongly
connected component this is also the only way a snapped POI can be "unreachable").
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from plekzoeker.scoring.graph import Graph
from plekzoeker.scoring.snap import snap_points

DIRECTIONS = ("to_poi", "from_poi")

NO_POI = "no_poi"
NO_POI_SNAP = "no_poi_snap"
NO_SNAP = "no_snap"
BEYOND_CAP = "beyond_cap"


@dataclass
class AccessResult:
    """Per candidate: distance (NaN when none) and why it is missing."""

    dist_m: np.ndarray            # float64, NaN when there is no distance
    reason: np.ndarray            # object: None, or one of no_poi / no_poi_snap / no_snap / beyond_cap


class _Aug:
    """A CSR graph with virtual rows appended, in buffers reused across runs.

    :meth:`graph` gives the graph plus ``V`` virtual nodes ``n .. n+V-1`` (edges only out of them, so
    one is reached only when it is a source) without copying the graph's edges for every run: the
    graph's arrays are copied once into buffers with room for the virtual rows.
    """

    def __init__(self, csr: sp.csr_array):
        self.base = csr
        self.n = csr.shape[0]
        self.nnz = int(csr.indptr[-1])
        self.idx_dtype = np.result_type(csr.indices.dtype, csr.indptr.dtype)
        self.data = self.indices = self.indptr = None
        self._cap_e = self._cap_r = -1

    def _ensure(self, n_edges: int, n_rows: int) -> None:
        if n_edges <= self._cap_e and n_rows <= self._cap_r:
            return
        if max(self.nnz + n_edges, self.n + n_rows) >= np.iinfo(np.int32).max:
            self.idx_dtype = np.int64
        cap_e, cap_r = max(n_edges, 2 * self._cap_e, 1024), max(n_rows, 2 * self._cap_r, 1024)
        nnz, n = self.nnz, self.n
        data = np.empty(nnz + cap_e)
        data[:nnz] = self.base.data[:nnz]
        indices = np.empty(nnz + cap_e, dtype=self.idx_dtype)
        indices[:nnz] = self.base.indices[:nnz]
        indptr = np.empty(n + 1 + cap_r, dtype=self.idx_dtype)
        indptr[:n + 1] = self.base.indptr
        self.data, self.indices, self.indptr = data, indices, indptr
        self._cap_e, self._cap_r = cap_e, cap_r

    def graph(self, rows: np.ndarray, cols: np.ndarray, w: np.ndarray, n_virtual: int) -> sp.csr_array:
        """The graph plus ``n_virtual`` virtual nodes; virtual node ``n + rows[i]`` has an edge to
        ``cols[i]`` of weight ``w[i]`` (``rows`` sorted ascending, in ``0 .. n_virtual-1``)."""
        t, n, nnz = len(cols), self.n, self.nnz
        self._ensure(t, n_virtual)
        self.data[nnz:nnz + t] = w
        self.indices[nnz:nnz + t] = cols
        self.indptr[n + 1:n + 1 + n_virtual] = nnz + np.cumsum(np.bincount(rows, minlength=n_virtual))
        return sp.csr_array((self.data[:nnz + t], self.indices[:nnz + t], self.indptr[:n + 1 + n_virtual]),
                            shape=(n + n_virtual, n + n_virtual))


def _nearest_run(aug: _Aug, src: np.ndarray, off: np.ndarray, limit: float) -> np.ndarray:
    """``min_i off[i] + d(src[i], v)`` for every node ``v`` (inf beyond ``limit``): one Dijkstra from a
    virtual node per source, joined to ``src[i]`` by an edge of weight ``off[i]`` (``src`` distinct).
    This adds each POI's own snap distance exactly, which ``dijkstra(indices=src, min_only=True)``
    cannot."""
    n, v = aug.n, len(src)
    g = aug.graph(np.arange(v), src, off, v)
    return dijkstra(g, directed=True, indices=n + np.arange(v), min_only=True, limit=limit)[:n]


class _Workspace:
    """Per access_table call: the search buffers of each direction's graph (see :class:`_Aug`)."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self._aug: dict[int, _Aug] = {}

    def aug(self, csr: sp.csr_array) -> _Aug:
        a = self._aug.get(id(csr))
        if a is None or a.base is not csr:
            a = self._aug[id(csr)] = _Aug(csr)
        return a


def _access_snapped(graph: Graph, c_node: np.ndarray, c_snap: np.ndarray, p_node: np.ndarray, p_snap: np.ndarray,
                    n_poi: int, cap_m: float, direction: str, ws: _Workspace | None = None) -> AccessResult:
    """Like :func:`nearest_distances` for already snapped candidates and POIs (index -1 = not snapped)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}; expected one of {DIRECTIONS}")
    nc = len(c_node)
    dist = np.full(nc, np.nan)
    reason = np.full(nc, None, dtype=object)
    c_ok = c_node >= 0
    p_ok = p_node >= 0
    if n_poi == 0:                     # nothing to reach, whatever the candidate
        reason[:] = NO_POI
        return AccessResult(dist, reason)
    reason[~c_ok] = NO_SNAP
    if not p_ok.any():
        reason[c_ok] = NO_POI_SNAP
        return AccessResult(dist, reason)
    if not c_ok.any():
        return AccessResult(dist, reason)
    ws = ws or _Workspace(graph)
    pn, ps = p_node[p_ok], p_snap[p_ok]
    cn, cs = c_node[c_ok], c_snap[c_ok]
    src, p_src = np.unique(pn, return_inverse=True)
    snap_at = np.full(len(src), np.inf)                  # smallest POI snap per POI node
    np.minimum.at(snap_at, p_src, ps)
    # candidate -> POI is POI -> candidate on the transposed graph
    aug = ws.aug(graph.reverse() if direction == "to_poi" else graph.csr)
    d_node = _nearest_run(aug, src, snap_at, cap_m)
    total = cs + d_node[cn]
    within = np.isfinite(total) & (total <= cap_m)
    ci = np.flatnonzero(c_ok)
    dist[ci[within]] = total[within]
    reason[ci[~within]] = BEYOND_CAP
    return AccessResult(dist, reason)


def nearest_distances(graph: Graph, pois_xy: np.ndarray, cands_xy: np.ndarray, cap_m: float, max_snap_m: float,
                      direction: str = "to_poi", snap_to: str = "edge") -> AccessResult:
    """Network distance from every candidate to the nearest POI (one Dijkstra for all of them).

    ``dist = candidate snap + network distance + that POI's snap``, NaN beyond ``cap_m`` (reason
    ``beyond_cap``), when the candidate does not snap (``no_snap``), when there are no POIs
    (``no_poi``) or none of them snaps (``no_poi_snap``).
    ``direction``: ``to_poi`` (candidate -> POI, default) or ``from_poi``; matters on directed graphs.
    """
    pois_xy = np.asarray(pois_xy, dtype=np.float64).reshape(-1, 2)
    graph, ((c_node, c_snap), (p_node, p_snap)) = snap_points(graph, [cands_xy, pois_xy], max_snap_m, snap_to)
    return _access_snapped(graph, c_node, c_snap, p_node, p_snap, len(pois_xy), cap_m, direction)
