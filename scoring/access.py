"""Network access: distance along the street graph from each candidate to the nearest POI of a category.

Pure functions (no database, no Prefect). The work per POI category is **one** shortest-path run
over the whole graph, not one routing query per candidate:

* :func:`build_graph` turns the OSM reader's node/edge tables into a CSR graph for one mode
  (``walk``: undirected, every segment both ways; ``bike``: directed, a ``oneway_bike`` segment only
  ``u -> v``), keeps the minimum length of parallel edges, keeps only the largest strongly connected
  component (so every kept node can reach every other one and back: a candidate or POI never snaps
  onto an island or a one-way dead end it cannot leave) and builds a KD-tree of the nodes.
* :func:`snap` puts points on their nearest graph node (straight line, at most ``max_snap_m``).
* :func:`nearest_distances` computes, for every candidate,
  ``candidate snap + network distance(candidate node -> POI node) + POI snap`` minimised over the
  category's POIs. It adds a *virtual super-source* node with one edge to every snapped POI node
  weighted by that POI's snap distance (the minimum when several POIs share a node) and runs one
  single-source :func:`scipy.sparse.csgraph.dijkstra` from it with ``limit=cap_m``. This adds each
  POI's own snap distance exactly, which ``dijkstra(indices=pois, min_only=True)`` cannot.
  Travel goes candidate -> POI; on the directed bike graph that is the POI -> candidate search on the
  **transposed** graph (``direction="to_poi"``, the default). ``direction="from_poi"`` gives POI ->
  candidate on the graph as is. On the walk graph both are the same.
* :func:`access_table` does that for every category and returns the long table written to
  ``result.access``.

Unreachable is never 0: the distance is NaN and ``reason`` says why, the first that applies of
``no_poi`` (the category has no POI at all), ``no_snap`` (the candidate is more than ``max_snap_m``
from the graph), ``no_poi_snap`` (the category has POIs but none within ``max_snap_m`` of the graph)
and ``beyond_cap`` (the nearest POI is farther than ``cap_m``; since everything sits in one strongly
connected component this is also the only way a snapped POI can be "unreachable").

``count_within`` (how many POIs of the category lie within ``count_within_m`` network distance,
snap distances included) cannot come out of a min-only run. It is exact either way, by the cheaper
of two methods (a cost estimate picks; :data:`COUNT_METHOD` forces one):

* ``classes``: an edge is never shorter than ``len_ratio`` times the straight line between its end
  nodes (``len_ratio`` is measured when the graph is built; 1 for OSM geometry lengths), so a node
  within network distance L of a POI lies within L / len_ratio of it. The POI nodes are coloured
  greedily so that two of one colour lie more than twice that apart; then one ``min_only``
  Dijkstra per colour (``limit`` L) reaches every node from at most one POI of the colour and names
  it (scipy's ``sources``), which gives every (candidate, POI) pair within the radius exactly once.
  A handful of colours on a street grid (about 6-10 for national stop densities). The same runs give
  the exact POI distance of every node within L, so the nearest-distance search then starts from
  the edge of that region and does not search it again (when it covers enough of the graph).
* ``local``: for each node on the smaller side (after dropping those with no counterpart in reach)
  one Dijkstra on the subgraph induced by the disc it can reach. Used when the graph has an edge
  shorter than the straight line to zero (no bound) or when there would be very many colours.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

log = logging.getLogger(__name__)

MODES = ("walk", "bike")
DIRECTIONS = ("to_poi", "from_poi")

NO_POI = "no_poi"
NO_POI_SNAP = "no_poi_snap"
NO_SNAP = "no_snap"
BEYOND_CAP = "beyond_cap"

ACCESS_COLUMNS = ("candidate_key", "mode", "category", "dist_m", "count_within", "reason")


@dataclass
class Graph:
    """CSR street graph for one mode, reduced to its largest strongly connected component."""

    mode: str
    node_ids: np.ndarray          # int64 OSM node ids; position = graph index
    xy: np.ndarray                # (n, 2) float64, RD New metres
    csr: sp.csr_array             # directed weights in metres (undirected modes hold both directions)
    kdtree: cKDTree
    csr_t: sp.csr_array | None = None   # transpose of csr (the same object for an undirected mode)
    directed: bool = False
    len_ratio: float = 1.0        # min over edges of length / straight line between its end nodes (<= 1)
    stats: dict = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    def reverse(self) -> sp.csr_array:
        """The transposed graph (edge v -> u for each u -> v); cached."""
        if self.csr_t is None:
            self.csr_t = self.csr if not self.directed else sp.csr_array(self.csr.T)
        return self.csr_t


@dataclass
class AccessResult:
    """Per candidate: distance (NaN when none), why it is missing, and the POI count within a radius."""

    dist_m: np.ndarray            # float64, NaN when there is no distance
    reason: np.ndarray            # object: None, or one of no_poi / no_poi_snap / no_snap / beyond_cap
    count_within: np.ndarray | None  # int64, -1 where unknown (candidate not snapped); None if not asked


# --------------------------------------------------------------------------------------------------
# graph


def _csr_from_sorted(rows: np.ndarray, cols: np.ndarray, w: np.ndarray, n: int) -> sp.csr_array:
    """CSR from edges already sorted by row (no duplicate (row, col) pairs)."""
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    idx_dtype = np.int32 if max(n, len(cols)) < np.iinfo(np.int32).max else np.int64
    return sp.csr_array((w.astype(np.float64, copy=False), cols.astype(idx_dtype), indptr.astype(idx_dtype)),
                        shape=(n, n))


def _empty_graph(mode: str, stats: dict) -> Graph:
    xy = np.empty((0, 2))
    csr = sp.csr_array((0, 0), dtype=np.float64)
    return Graph(mode=mode, node_ids=np.empty(0, dtype=np.int64), xy=xy, csr=csr, kdtree=cKDTree(xy), csr_t=csr,
                 directed=mode == "bike", len_ratio=1.0, stats=stats)


def build_graph(nodes: pd.DataFrame, edges: pd.DataFrame, mode: str = "walk") -> Graph:
    """Build the CSR graph of one mode from the reader's tables.

    ``nodes``: node_id int64, x, y (RD New). ``edges``: u, v, length_m, walk, bike, oneway_bike.
    Edges of the mode only; walk edges go both ways, bike edges both ways unless ``oneway_bike``
    (then ``u -> v`` only). Self-loops, edges with a missing/negative length and edges whose end
    node is not in ``nodes`` are dropped; parallel edges keep the minimum length. Only the largest
    strongly connected component is kept.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")
    stats: dict = {"input_nodes": len(nodes), "input_edges": len(edges)}
    sel = edges[mode].to_numpy(dtype=bool)
    u = edges["u"].to_numpy(dtype=np.int64)[sel]
    v = edges["v"].to_numpy(dtype=np.int64)[sel]
    length = edges["length_m"].to_numpy(dtype=np.float64)[sel]
    oneway = (edges["oneway_bike"].to_numpy(dtype=bool)[sel] if mode == "bike"
              else np.zeros(len(u), dtype=bool))
    stats["mode_edges"] = int(sel.sum())

    ids = nodes["node_id"].to_numpy(dtype=np.int64)
    index = pd.Index(ids)
    first = None
    if not index.is_unique:                                    # duplicates: the first row wins
        first = np.flatnonzero(~index.duplicated(keep="first"))
        ids, index = ids[first], pd.Index(ids[first])
    nx_ = nodes["x"].to_numpy(dtype=np.float64)
    ny_ = nodes["y"].to_numpy(dtype=np.float64)
    if first is not None:
        nx_, ny_ = nx_[first], ny_[first]
    placed = np.isfinite(nx_) & np.isfinite(ny_)
    n = len(ids)

    ui, vi = index.get_indexer(u), index.get_indexer(v)        # hash lookup, -1 when unknown
    ok = (ui >= 0) & (vi >= 0) & (ui != vi) & np.isfinite(length) & (length >= 0)
    ok[ok] &= placed[ui[ok]] & placed[vi[ok]]
    stats["dropped_edges"] = int((~ok).sum())
    if stats["dropped_edges"]:
        log.info("%s graph: %d edge(s) dropped (self-loop, bad length or unknown node)", mode,
                 stats["dropped_edges"])
    ui, vi, length, oneway = ui[ok], vi[ok], length[ok], oneway[ok]
    two = ~oneway
    rows = np.concatenate([ui, vi[two]]).astype(np.int64)
    cols = np.concatenate([vi, ui[two]]).astype(np.int64)
    w = np.concatenate([length, length[two]])
    if len(rows) == 0:
        log.warning("%s graph: no edges", mode)
        return _empty_graph(mode, stats)

    # parallel edges: keep the minimum length per directed (row, col); rows end up sorted
    key = rows * n + cols
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    w = np.minimum.reduceat(w[order], starts) if len(starts) < len(key) else w[order]
    key = key[starts]
    rows, cols = key // n, key % n
    csr = _csr_from_sorted(rows, cols, w, n)

    has_edge = np.zeros(n, dtype=bool)
    has_edge[rows] = True
    has_edge[cols] = True
    n_edge_nodes = int(has_edge.sum())
    # largest strongly connected component (nodes without edges are singletons and go too)
    ncomp, labels = connected_components(csr, directed=True, connection="strong")
    big = np.bincount(labels).argmax()
    in_big = labels == big
    new = np.cumsum(in_big) - 1
    m = in_big[rows] & in_big[cols]
    rows, cols, w = new[rows[m]], new[cols[m]], w[m]     # monotone relabel: still sorted by row
    nodes_kept = np.flatnonzero(in_big)
    k = len(nodes_kept)
    csr = _csr_from_sorted(rows, cols, w, k)
    xy = np.column_stack([nx_[nodes_kept], ny_[nodes_kept]])
    stats.update(components=int(ncomp) - (n - n_edge_nodes), nodes=int(k), edges=int(csr.nnz), dropped_nodes=n_edge_nodes - k)
    if n_edge_nodes - k:
        log.info("%s graph: kept the largest strongly connected component, %d of %d nodes with streets",
                 mode, k, n_edge_nodes)

    chord = np.hypot(*(xy[rows] - xy[cols]).T)
    pos = chord > 0
    ratio = float(min(1.0, np.min(w[pos] / chord[pos]))) if pos.any() else 1.0
    if ratio < 0.9:
        log.warning("%s graph: an edge is %.3g times the straight line between its nodes; count_within "
                    "searches get wider", mode, ratio)
    directed = mode == "bike"
    g = Graph(mode=mode, node_ids=ids[nodes_kept], xy=xy, csr=csr, kdtree=cKDTree(xy),
              csr_t=None if directed else csr, directed=directed, len_ratio=ratio, stats=stats)
    if directed:
        g.reverse()
    return g


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


# --------------------------------------------------------------------------------------------------
# nearest distance: one single-source Dijkstra from a virtual super-source


def _super_source_dijkstra(csr: sp.csr_array, src_nodes: np.ndarray, src_off: np.ndarray,
                           limit: float, into: np.ndarray | None = None) -> np.ndarray:
    """Distance from the nearest source to every node, a source ``i`` starting at ``src_off[i]``.

    Adds node ``n`` with an edge to each source node (weight = the smallest offset at that node) and
    runs one Dijkstra from it. ``into``: optional bool mask; only edges into those nodes are kept (the
    search never enters the others). Returns float64 (n,), inf beyond ``limit``.
    """
    n = csr.shape[0]
    order = np.lexsort((src_off, src_nodes))
    s_nodes, s_off = src_nodes[order], src_off[order]
    first = np.ones(len(s_nodes), dtype=bool)
    first[1:] = s_nodes[1:] != s_nodes[:-1]
    s_nodes, s_off = s_nodes[first], s_off[first]
    data, indices, indptr = csr.data, csr.indices, csr.indptr
    if into is not None:
        keep = into[indices]
        data, indices = data[keep], indices[keep]
        indptr = np.concatenate([[0], np.cumsum(keep)])[indptr]
    indptr = np.append(indptr, indptr[-1] + len(s_nodes)).astype(csr.indptr.dtype, copy=False)
    aug = sp.csr_array((np.concatenate([data, s_off]), np.concatenate([indices, s_nodes.astype(indices.dtype)]), indptr),
                       shape=(n + 1, n + 1))
    d = dijkstra(aug, directed=True, indices=n, limit=limit)
    return d[:n]


def _nearest(csr: sp.csr_array, p_node: np.ndarray, p_snap: np.ndarray, cap: float, known: _Known | None) -> np.ndarray:
    """POI snap + network distance from the nearest POI to every node (inf beyond ``cap``).

    ``known``: exact distances up to ``known.limit`` already found by the count searches; then the
    search starts from the edge of that region (its nodes with an edge out of it, at their known
    distance, plus any POI outside it) and never re-enters it, so the nodes near POIs are not searched
    twice. Exact: the shortest path to a node outside the region leaves it for good at such an edge,
    or starts at a POI outside it.
    """
    if known is None:
        return _super_source_dijkstra(csr, p_node, p_snap, limit=cap)
    if known.limit >= cap:
        return np.where(known.dist <= cap, known.dist, np.inf)
    inside = known.dist <= known.limit
    if inside.mean() < SEED_MIN_SHARE:     # too little to skip to pay for the set-up: search it all
        return _super_source_dijkstra(csr, p_node, p_snap, limit=cap)
    leaves = np.concatenate([[0], np.cumsum(~inside[csr.indices])])          # edges leaving, per row
    edge = inside & (leaves[csr.indptr[1:]] > leaves[csr.indptr[:-1]])
    seeds = np.flatnonzero(edge)
    out = ~inside[p_node]                # a POI whose own snap exceeds the limit starts outside
    far = _super_source_dijkstra(csr, np.concatenate([seeds, p_node[out]]),
                                 np.concatenate([known.dist[seeds], p_snap[out]]), limit=cap, into=~inside)
    return np.where(inside, known.dist, far)


SEED_MIN_SHARE = 0.3     # reuse the count searches when they settled at least this share of the nodes


@dataclass
class _Known:
    """Exact POI distance (snap included) of every node whose distance is at most ``limit`` (else > limit)."""

    dist: np.ndarray
    limit: float


def _access_snapped(graph: Graph, c_node: np.ndarray, c_snap: np.ndarray, p_node: np.ndarray, p_snap: np.ndarray,
                    n_poi: int, cap_m: float, count_within_m: float | None, direction: str) -> AccessResult:
    """Like :func:`nearest_distances` for already snapped candidates and POIs (index -1 = not snapped)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}; expected one of {DIRECTIONS}")
    nc = len(c_node)
    dist = np.full(nc, np.nan)
    reason = np.full(nc, None, dtype=object)
    count = np.full(nc, -1, dtype=np.int64) if count_within_m is not None else None
    c_ok = c_node >= 0
    p_ok = p_node >= 0
    if n_poi == 0:                     # nothing to reach, whatever the candidate
        reason[:] = NO_POI
        if count is not None:
            count[:] = 0
        return AccessResult(dist, reason, count)
    reason[~c_ok] = NO_SNAP
    if not p_ok.any():
        reason[c_ok] = NO_POI_SNAP
        if count is not None:
            count[c_ok] = 0
        return AccessResult(dist, reason, count)
    if not c_ok.any():
        return AccessResult(dist, reason, count)
    pn, ps = p_node[p_ok], p_snap[p_ok]
    known = None
    if count is not None:
        count[c_ok], known = _count_within(graph, c_node[c_ok], c_snap[c_ok], pn, ps, float(count_within_m), direction)
    # candidate -> POI is POI -> candidate on the transposed graph
    csr = graph.reverse() if direction == "to_poi" else graph.csr
    d_node = _nearest(csr, pn, ps, cap_m, known)
    total = c_snap[c_ok] + d_node[c_node[c_ok]]
    within = np.isfinite(total) & (total <= cap_m)
    ci = np.flatnonzero(c_ok)
    dist[ci[within]] = total[within]
    reason[ci[~within]] = BEYOND_CAP
    return AccessResult(dist, reason, count)


def nearest_distances(graph: Graph, pois_xy: np.ndarray, cands_xy: np.ndarray, cap_m: float, max_snap_m: float,
                      count_within_m: float | None = None, direction: str = "to_poi") -> AccessResult:
    """Network distance from every candidate to the nearest POI (one Dijkstra for all of them).

    ``dist = candidate snap + network distance + that POI's snap``, NaN beyond ``cap_m`` (reason
    ``beyond_cap``), when the candidate does not snap (``no_snap``), when there are no POIs
    (``no_poi``) or none of them snaps (``no_poi_snap``). ``count_within``: POIs within
    ``count_within_m`` (same distance definition); -1 for a candidate that does not snap.
    ``direction``: ``to_poi`` (candidate -> POI, default) or ``from_poi``; matters on directed graphs.
    """
    pois_xy = np.asarray(pois_xy, dtype=np.float64).reshape(-1, 2)
    c_node, c_snap = snap(graph, cands_xy, max_snap_m)
    p_node, p_snap = snap(graph, pois_xy, max_snap_m)
    return _access_snapped(graph, c_node, c_snap, p_node, p_snap, len(pois_xy), cap_m, count_within_m, direction)


# --------------------------------------------------------------------------------------------------
# count within a radius: classes of far-apart POIs, or bounded local searches

COUNT_METHOD: str | None = None     # force "classes" or "local" (tests); None picks the cheaper


def _count_within(graph: Graph, c_node: np.ndarray, c_snap: np.ndarray, p_node: np.ndarray, p_snap: np.ndarray,
                  radius: float, direction: str, method: str | None = None) -> tuple[np.ndarray, _Known | None]:
    """Per candidate: #POIs with ``c_snap + d(candidate -> POI) + p_snap <= radius`` (all snapped).

    ``method`` (default :data:`COUNT_METHOD`, else the cheaper by a cost estimate; both exact):
    ``classes`` — a few whole-graph runs, one per class of POIs lying far enough apart that a node
    is within reach of at most one POI of the class (see :func:`_count_classes`); it also returns the
    exact POI distance of every node within reach (``_Known``), which :func:`_nearest` reuses.
    ``local`` — one small search per node of the smaller side, on the subgraph of the disc it can reach.
    """
    counts = np.zeros(len(c_node), dtype=np.int64)
    limit = radius - float(c_snap.min()) - float(p_snap.min())     # the longest network path that can count
    if len(c_node) == 0 or len(p_node) == 0 or limit < 0:
        return counts, None
    ratio = graph.len_ratio

    def reach(budget):   # straight-line bound for a network budget (+ rounding slack)
        return budget / ratio * (1 + 1e-9) + 1e-6 if ratio > 0 else np.where(budget >= 0, np.inf, -1.0)

    to_poi = direction == "to_poi"
    p_csr = graph.reverse() if to_poi else graph.csr      # POI -> candidate
    method = method or COUNT_METHOD
    if ratio <= 0:
        method = "local"           # no straight-line bound, so no classes
    src = classes = None
    if method != "local":
        src = np.unique(p_node)
        classes = _color(graph.xy[src], 2 * float(reach(limit)))
    if method is None:
        method = _cheaper(graph, src, classes, c_node, p_node, float(reach(limit)))
    if method == "classes":
        known = _count_classes(p_csr, src, classes, p_node, p_snap, c_node, c_snap, radius, limit, counts)
        return counts, known
    # local: drop points with no counterpart within reach; search from the side with fewer nodes left
    c_min, p_min = float(c_snap.min()), float(p_snap.min())
    c_tree, p_tree = cKDTree(graph.xy[c_node]), cKDTree(graph.xy[p_node])
    c_act = _ball_counts(p_tree, graph.xy[c_node], reach(radius - c_snap - p_min)) > 0
    p_act = _ball_counts(c_tree, graph.xy[p_node], reach(radius - p_snap - c_min)) > 0
    if not c_act.any() or not p_act.any():
        return counts, None
    if len(np.unique(c_node[c_act])) <= len(np.unique(p_node[p_act])):   # candidate -> POI
        _count_local(graph, graph.csr if to_poi else graph.reverse(), c_node, c_snap, np.flatnonzero(c_act),
                     p_node, p_snap, p_tree, radius, reach, counts, a_is_cand=True)
    else:                                                                 # POI -> candidate
        _count_local(graph, p_csr, p_node, p_snap, np.flatnonzero(p_act), c_node, c_snap, c_tree, radius, reach,
                     counts, a_is_cand=False)
    return counts, None


def _color(xy: np.ndarray, sep: float) -> np.ndarray:
    """Greedy colouring (most conflicts first): points of one colour are more than ``sep`` apart."""
    colors = np.zeros(len(xy), dtype=np.int64)
    pairs = cKDTree(xy).query_pairs(sep, output_type="ndarray")
    if len(pairs) == 0:
        return colors
    u = np.concatenate([pairs[:, 0], pairs[:, 1]])
    v = np.concatenate([pairs[:, 1], pairs[:, 0]])
    order = np.argsort(u, kind="stable")
    nbrs = v[order].tolist()
    indptr = np.searchsorted(u[order], np.arange(len(xy) + 1))
    deg = np.diff(indptr)
    colors[deg > 0] = -1                              # not coloured yet
    ptr = indptr.tolist()
    col = colors.tolist()
    for i in np.argsort(-deg, kind="stable")[: int((deg > 0).sum())].tolist():
        used = {col[j] for j in nbrs[ptr[i]:ptr[i + 1]]}
        c = 0
        while c in used:
            c += 1
        col[i] = c
    return np.asarray(col, dtype=np.int64)


def _cheaper(graph: Graph, src: np.ndarray, classes: np.ndarray, c_node: np.ndarray, p_node: np.ndarray,
             reach_m: float) -> str:
    """``classes`` or ``local`` by a rough cost model (seconds, measured on scipy's Dijkstra).

    classes: one O(nodes) start-up per class (the node searches it adds are paid back by the
    nearest-distance search it shortens); local: per source node a call overhead plus the disc.
    """
    k = int(classes.max()) + 1
    n_small = min(len(np.unique(c_node)), len(src))
    sample = src[:: max(1, len(src) // 200)]
    disc = float(np.mean(graph.kdtree.query_ball_point(graph.xy[sample], reach_m, return_length=True)))
    classes_cost = k * graph.n_nodes * 5e-9
    local_cost = n_small * (60e-6 + disc * 0.3e-6)
    return "classes" if classes_cost <= local_cost else "local"


def _count_classes(p_csr: sp.csr_array, src: np.ndarray, classes: np.ndarray, p_node: np.ndarray, p_snap: np.ndarray,
                   c_node: np.ndarray, c_snap: np.ndarray, radius: float, limit: float, counts: np.ndarray) -> _Known:
    """One multi-source Dijkstra (``limit``) per class of POI nodes lying more than twice the reach apart.

    Within ``limit`` a node is then reached from at most one POI node of the class, and scipy's
    ``min_only`` run names it (``sources``): each (candidate, POI) pair within the radius is found
    exactly once, and ``min(POI snap + distance)`` over the classes is the exact POI distance of
    every node where it is at most ``limit``.
    """
    n = p_csr.shape[0]
    order = np.argsort(p_node, kind="stable")
    p_sorted, p_nodes_sorted = order, p_node[order]
    snap_at = np.full(n, np.inf)                      # smallest POI snap per node
    np.minimum.at(snap_at, p_node, p_snap)
    best = np.full(n, np.inf)
    for k in range(int(classes.max()) + 1):
        d, _, reached_from = dijkstra(p_csr, directed=True, indices=src[classes == k], min_only=True, limit=limit,
                                      return_predecessors=True)
        hit_nodes = np.flatnonzero(d <= limit)
        best[hit_nodes] = np.minimum(best[hit_nodes], d[hit_nodes] + snap_at[reached_from[hit_nodes]])
        d_c = d[c_node]
        hit = np.flatnonzero(d_c <= limit)            # candidates with a POI node of this class in reach
        if len(hit) == 0:
            continue
        s_node = reached_from[c_node[hit]]
        lo = np.searchsorted(p_nodes_sorted, s_node, side="left")
        m = np.searchsorted(p_nodes_sorted, s_node, side="right") - lo      # POIs at that node
        c_idx = np.repeat(hit, m)
        p_idx = p_sorted[np.repeat(lo, m) + (np.arange(int(m.sum())) - np.repeat(np.cumsum(m) - m, m))]
        ok = c_snap[c_idx] + d_c[c_idx] + p_snap[p_idx] <= radius
        np.add.at(counts, c_idx[ok], 1)
    return _Known(best, limit)


def _count_local(graph: Graph, csr: sp.csr_array, a_node: np.ndarray, a_snap: np.ndarray, a_pts: np.ndarray,
                 b_node: np.ndarray, b_snap: np.ndarray, b_tree: cKDTree, radius: float, reach, counts: np.ndarray,
                 a_is_cand: bool) -> None:
    """One Dijkstra per node of side ``a`` (its active points ``a_pts``) on the subgraph induced by the
    disc it can reach; adds the pairs within ``radius`` to ``counts`` (per candidate)."""
    b_min = float(b_snap.min())
    pos = np.full(graph.n_nodes, -1, dtype=np.int64)    # global -> local index, reset after each search
    order = np.argsort(a_node[a_pts], kind="stable")
    a_sorted = a_pts[order]
    starts = np.flatnonzero(np.r_[True, a_node[a_sorted][1:] != a_node[a_sorted][:-1]])
    ends = np.r_[starts[1:], len(a_sorted)]
    for s, e in zip(starts, ends):
        grp = a_sorted[s:e]                  # points sharing one graph node
        node = int(a_node[grp[0]])
        budget = radius - float(a_snap[grp].min()) - b_min
        if budget < 0:
            continue
        r = float(reach(np.float64(budget)))
        b_pts = np.asarray(b_tree.query_ball_point(graph.xy[node], r) if np.isfinite(r)
                           else np.arange(len(b_node)), dtype=np.int64)
        if len(b_pts) == 0:
            continue
        if np.isfinite(r):
            ball = np.asarray(graph.kdtree.query_ball_point(graph.xy[node], r), dtype=np.int64)
            sub = _induced_subgraph(csr, ball, pos)
            d_loc = dijkstra(sub, directed=True, indices=int(pos[node]), limit=budget)
            loc = pos[b_node[b_pts]]
            d_b = np.where(loc >= 0, d_loc[np.maximum(loc, 0)], np.inf)
            pos[ball] = -1
        else:
            d_b = dijkstra(csr, directed=True, indices=node, limit=budget)[b_node[b_pts]]
        # pairs (a in grp, b in b_pts) within the radius
        ok = (a_snap[grp][:, None] + d_b[None, :] + b_snap[b_pts][None, :]) <= radius
        if a_is_cand:
            counts[grp] += ok.sum(axis=1)
        else:
            np.add.at(counts, b_pts, ok.sum(axis=0))


def _ball_counts(tree: cKDTree, xy: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Number of tree points within ``r[i]`` of ``xy[i]`` (0 where r < 0; inf allowed)."""
    out = np.zeros(len(xy), dtype=np.int64)
    fin = np.isfinite(r) & (r >= 0)
    if fin.any():
        out[fin] = tree.query_ball_point(xy[fin], r[fin], return_length=True)
    out[np.isinf(r) & (r > 0)] = tree.n
    return out


def _induced_subgraph(csr: sp.csr_array, ball: np.ndarray, pos: np.ndarray) -> sp.csr_array:
    """Subgraph on the nodes ``ball``; sets ``pos[ball]`` to their local index (caller resets it)."""
    k = len(ball)
    pos[ball] = np.arange(k)
    lo, hi = csr.indptr[ball], csr.indptr[ball + 1]
    deg = (hi - lo).astype(np.int64)
    flat = np.repeat(lo - np.concatenate([[0], np.cumsum(deg)[:-1]]), deg) + np.arange(int(deg.sum()))
    cols = pos[csr.indices[flat]]
    keep = cols >= 0
    rows = np.repeat(np.arange(k), deg)[keep]
    return _csr_from_sorted(rows, cols[keep], csr.data[flat][keep], k)


# --------------------------------------------------------------------------------------------------
# the long table


def access_table(graph: Graph, candidates: pd.DataFrame, pois: pd.DataFrame, categories: dict[str, dict],
                 max_snap_m: float, direction: str = "to_poi") -> pd.DataFrame:
    """Distances for every candidate and category: one super-source Dijkstra per category.

    ``candidates``: candidate_key, x, y. ``pois``: category, x, y.
    ``categories``: ``{name: {"threshold_m": float, "cap_m": float[, "count_within_m": float]}}``;
    ``count_within`` counts the POIs within ``count_within_m`` (default ``threshold_m``).
    Returns candidate_key, mode, category, dist_m (float, NaN when missing), count_within (Int64, <NA>
    when the candidate does not snap), reason (None or the reason the distance is missing).
    """
    keys = candidates["candidate_key"].to_numpy()
    c_node, c_snap = snap(graph, candidates[["x", "y"]].to_numpy(dtype=np.float64), max_snap_m)
    p_cat = pois["category"].to_numpy(dtype=object)
    p_node, p_snap = snap(graph, pois[["x", "y"]].to_numpy(dtype=np.float64), max_snap_m)
    n_nosnap = int((c_node < 0).sum())
    if n_nosnap:
        log.info("%s access: %d of %d candidate(s) farther than %g m from the graph", graph.mode, n_nosnap,
                 len(keys), max_snap_m)
    frames = []
    for cat, spec in categories.items():
        m = p_cat == cat
        n_poi = int(m.sum())
        if n_poi and (p_node[m] < 0).any():
            log.info("%s access: %s: %d of %d POI(s) farther than %g m from the graph", graph.mode, cat,
                     int((p_node[m] < 0).sum()), n_poi, max_snap_m)
        cw = spec.get("count_within_m", spec.get("threshold_m"))
        res = _access_snapped(graph, c_node, c_snap, p_node[m], p_snap[m], n_poi, float(spec["cap_m"]),
                              None if cw is None else float(cw), direction)
        if res.count_within is None:
            cnt = pd.array([pd.NA] * len(keys), dtype="Int64")
        else:
            cnt = pd.array(res.count_within, dtype="Int64")
            cnt[res.count_within < 0] = pd.NA
        frames.append(pd.DataFrame({
            "candidate_key": keys,
            "mode": graph.mode,
            "category": cat,
            "dist_m": res.dist_m,
            "count_within": cnt,
            "reason": pd.Series(res.reason, dtype=object),
        }))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ACCESS_COLUMNS})
    out = pd.concat(frames, ignore_index=True)
    out["reason"] = out["reason"].astype(object)
    return out
