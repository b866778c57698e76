"""Putting candidates and POIs on the street graph.

Pure functions (no database, no Prefect). :func:`snap_points` puts candidates and POIs on the
nearest point of the nearest edge (the foot of the perpendicular, at most ``max_snap_m`` away;
:func:`snap_to_edges`, an STRtree over the edge polylines kept with the graph in
:class:`~plekzoeker.scoring.graph.EdgeSet`) and splits those edges there (:func:`split_at`): a new
node at each foot with pieces to the edge's end nodes (along-edge distance to either end; one way
only on a one-way bike edge) added next to the edge, which stays (the pieces add up to it, so no
distance changes). The snap offset is the perpendicular distance. That is the virtual split of a
routing engine made real, so the searches after it (:mod:`plekzoeker.scoring.nearest`, the transit
walk legs, both directions) stay exact without a special case, and points on the same edge reach
each other along it. ``snap_to="node"``: :func:`snap`, the nearest graph node (what plekzoeker did
before; it adds 0-40 m at each end on a city grid).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from plekzoeker.scoring.graph import Graph, _csr_append


def snap_to_edges(graph: Graph, xy: np.ndarray, max_snap_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest point on the nearest edge per point: ``(edge index, along, dist)``.

    ``along`` is the distance along the edge from its ``a`` end to the foot of the perpendicular, in
    routing metres (the polyline position scaled by ``length / polyline length``); ``dist`` the
    straight-line distance to it. Edge -1, along and dist NaN where no edge lies within ``max_snap_m``
    (or the point has no finite coordinates, or the graph has no edges)."""
    import shapely
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    e = np.full(len(xy), -1, dtype=np.int64)
    along = np.full(len(xy), np.nan)
    dist = np.full(len(xy), np.nan)
    es = graph.edges
    fin = np.flatnonzero(np.isfinite(xy).all(axis=1))
    if es is None or len(es.ab) == 0 or len(fin) == 0:
        return e, along, dist
    pts = shapely.points(xy[fin])
    (qi, ti), d = es.tree().query_nearest(pts, max_distance=max_snap_m, return_distance=True, all_matches=False)
    ok = d <= max_snap_m
    qi, ti, d = qi[ok], ti[ok], d[ok]
    lines = es.lines()[ti]
    glen = shapely.length(lines)
    pos = shapely.line_locate_point(lines, pts[qi])
    scale = np.where(glen > 0, es.length[ti] / np.where(glen > 0, glen, 1.0), 0.0)
    e[fin[qi]] = ti
    along[fin[qi]] = np.clip(pos * scale, 0.0, es.length[ti])
    dist[fin[qi]] = d
    return e, along, dist


SPLIT_EPS_M = 1e-6   # a foot closer than this to an end node snaps onto the node (no zero-length piece)


def split_at(graph: Graph, e: np.ndarray, along: np.ndarray) -> tuple[Graph, np.ndarray]:
    """The graph with every edge ``e[i]`` split at ``along[i]`` (a new node there) and each point's
    node in it (-1 where ``e`` is -1).

    An edge ``a -> b`` of length ``L`` split at ``t_1 < ... < t_k`` gets the pieces ``a -> p_1 -> ... -> p_k
    -> b`` with lengths ``t_1, t_2 - t_1, ..., L - t_k`` (both ways unless one-way) next to itself (the
    pieces add up to ``L``, so keeping the edge changes no distance, and the graph's arrays are only
    copied, never re-sorted): the virtual split of a routing engine, made real so the distance
    searches need no special case — a path from the foot
    of a point goes along its edge to either end (or to another foot on the same edge) exactly. A foot
    within :data:`SPLIT_EPS_M` of an end uses that node. Points at the same spot share a node. Every
    new node lies on an edge of the largest strongly connected component, so the new graph is again
    strongly connected."""
    es = graph.edges
    n = graph.n_nodes
    node = np.full(len(e), -1, dtype=np.int64)
    hit = np.flatnonzero(e >= 0)
    if es is None or len(hit) == 0:
        return graph, node
    he, ht = e[hit], along[hit]
    L = es.length[he]
    at_a, at_b = ht <= SPLIT_EPS_M, ht >= L - SPLIT_EPS_M
    node[hit[at_a]] = es.ab[he[at_a], 0]
    node[hit[at_b & ~at_a]] = es.ab[he[at_b & ~at_a], 1]
    mid = hit[~at_a & ~at_b]
    if len(mid) == 0:
        return graph, node
    # one new node per distinct (edge, position)
    key = pd.DataFrame({"e": e[mid], "t": along[mid]})
    uniq, inv = np.unique(key.to_numpy(), axis=0, return_inverse=True)
    inv = np.asarray(inv).reshape(-1)
    ue, ut = uniq[:, 0].astype(np.int64), uniq[:, 1]
    new_ids = n + np.arange(len(ue))
    node[mid] = new_ids[inv]
    # new node positions: on the polyline at the scaled position
    import shapely
    lines = es.lines()[ue]
    glen = shapely.length(lines)
    frac = np.where(es.length[ue] > 0, ut / np.where(es.length[ue] > 0, es.length[ue], 1.0), 0.0)
    pts = shapely.line_interpolate_point(lines, frac * glen)
    new_xy = shapely.get_coordinates(pts)
    # pieces per split edge (uniq is sorted by edge, then position)
    first = np.r_[True, ue[1:] != ue[:-1]]
    last = np.r_[ue[1:] != ue[:-1], True]
    prev_node = np.where(first, es.ab[ue, 0], np.r_[-1, new_ids[:-1]])
    prev_t = np.where(first, 0.0, np.r_[0.0, ut[:-1]])
    pa = np.concatenate([prev_node, new_ids[last]])
    pb = np.concatenate([new_ids, es.ab[ue[last], 1]])
    pw = np.concatenate([ut - prev_t, es.length[ue[last]] - ut[last]])
    pone = np.concatenate([es.oneway[ue], es.oneway[ue[last]]])
    # pieces out of both ends and between the feet (the edge itself stays: the pieces add up to it)
    two = ~pone
    rows = np.concatenate([pa, pb[two]])
    cols = np.concatenate([pb, pa[two]])
    ww = np.concatenate([pw, pw[two]])
    k = n + len(ue)
    csr = _csr_append(graph.csr, rows, cols, ww, k)
    xy = np.vstack([graph.xy, new_xy])
    g = Graph(mode=graph.mode, node_ids=np.concatenate([graph.node_ids, -1 - np.arange(len(ue), dtype=np.int64)]),
              xy=xy, csr=csr, kdtree=_JoinedTree(graph.kdtree, new_xy), csr_t=None if graph.directed else csr,
              directed=graph.directed, stats={**graph.stats, "split_nodes": int(len(ue))}, edges=None)
    if graph.directed:
        g.csr_t = _csr_append(graph.reverse(), cols, rows, ww, k)
    return g, node


class _JoinedTree:
    """A KD-tree of the graph's nodes plus one of the nodes added by :func:`split_at` (indices from
    ``base.n`` on), so the split graph does not rebuild the tree of every node."""

    def __init__(self, base: cKDTree, extra_xy: np.ndarray):
        self.base, self.extra, self.offset = base, cKDTree(extra_xy), base.n
        self.n = base.n + len(extra_xy)

    def query_ball_point(self, x, r, return_length: bool = False):
        a = self.base.query_ball_point(x, r, return_length=return_length)
        b = self.extra.query_ball_point(x, r, return_length=return_length)
        if return_length:
            return a + b
        if isinstance(a, list):
            return a + [i + self.offset for i in b]
        out = np.empty(len(a), dtype=object)
        for i, (p, q) in enumerate(zip(a, b)):
            out[i] = p + [j + self.offset for j in q]
        return out

    def query(self, x, k: int = 1, distance_upper_bound: float = np.inf):
        d1, i1 = self.base.query(x, k=1, distance_upper_bound=distance_upper_bound)
        d2, i2 = self.extra.query(x, k=1, distance_upper_bound=distance_upper_bound)
        take = d2 < d1
        return np.where(take, d2, d1), np.where(take, i2 + self.offset, i1)


def snap_points(graph: Graph, xy_sets: list[np.ndarray], max_snap_m: float, snap_to: str = "edge"
                ) -> tuple[Graph, list[tuple[np.ndarray, np.ndarray]]]:
    """Snap several point sets at once: ``(graph to search, [(node, dist) per set])``.

    ``snap_to="edge"`` (default): onto the nearest point of the nearest edge within ``max_snap_m``
    (:func:`snap_to_edges`), the graph split there (:func:`split_at`); ``dist`` is the perpendicular
    offset. ``"node"``: onto the nearest node (:func:`snap`), the graph as is. A graph without edge
    geometry data falls back to node snapping."""
    if snap_to not in SNAP_TO:
        raise ValueError(f"unknown snap_to {snap_to!r}; expected one of {SNAP_TO}")
    sets = [np.asarray(x, dtype=np.float64).reshape(-1, 2) for x in xy_sets]
    if snap_to == "node" or graph.edges is None:
        return graph, [snap(graph, x, max_snap_m) for x in sets]
    allxy = np.vstack(sets) if sets else np.empty((0, 2))
    e, along, dist = snap_to_edges(graph, allxy, max_snap_m)
    g, node = split_at(graph, e, along)
    out, lo = [], 0
    for x in sets:
        hi = lo + len(x)
        out.append((node[lo:hi], dist[lo:hi]))
        lo = hi
    return g, out


SNAP_TO = ("edge", "node")


def snap(graph: Graph, xy: np.ndarray, max_snap_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Nearest graph node per point and the straight-line distance to it.

    Returns ``(index int64, dist float64)``; index -1 and dist NaN where the nearest node is farther
    than ``max_snap_m`` (or the point has no finite coordinates, or the graph is empty).
    """
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    idx = np.full(len(xy), -1, dtype=np.int64)
    dist = np.full(len(xy), np.nan)
    fin = np.isfinite(xy).all(axis=1)
    if graph.n_nodes == 0 or not fin.any():
        return idx, dist
    d, i = graph.kdtree.query(xy[fin], k=1, distance_upper_bound=max_snap_m)
    hit = np.isfinite(d) & (d <= max_snap_m)
    fi = np.flatnonzero(fin)
    idx[fi[hit]] = i[hit]
    dist[fi[hit]] = d[hit]
    return idx, dist
