"""Network access: distance along the street graph from each candidate to the nearest POI of a category.

Pure functions (no database, no Prefect). The work per POI category is **one** shortest-path run
over the whole graph, not one routing query per candidate:

* :func:`build_graph` turns the OSM reader's node/edge tables into a CSR graph for one mode
  (``walk``: undirected, every segment both ways; ``bike``: directed, a ``oneway_bike`` segment only
  ``u -> v``), keeps the minimum length of parallel edges, keeps only the largest strongly connected
  component (so every kept node can reach every other one and back: a candidate or POI never snaps
  onto an island or a one-way dead end it cannot leave) and builds a KD-tree of the nodes.
* :func:`snap_points` puts candidates and POIs on the nearest point of the nearest edge (the foot of
  the perpendicular, at most ``max_snap_m`` away; :func:`snap_to_edges`, an STRtree over the edge
  polylines kept with the graph in :class:`EdgeSet`) and splits those edges there
  (:func:`split_at`): a new node at each foot with pieces to the edge's end nodes (along-edge
  distance to either end; one way only on a one-way bike edge) added next to the edge, which stays
  (the pieces add up to it, so no distance changes). The snap offset is the perpendicular distance.
  That is the virtual split of a routing engine made real, so everything below (nearest search,
  counts, both directions) stays exact without a special case, and points on the same edge reach
  each other along it. ``snap_to="node"``: :func:`snap`, the nearest graph node (what plekzoeker did
  before; it adds 0-40 m at each end on a city grid).
* :func:`nearest_distances` computes, for every candidate,
  ``candidate snap + network distance(candidate node -> POI node) + POI snap`` minimised over the
  category's POIs. It adds one *virtual source* node per snapped POI node with an edge to it
  weighted by that POI's snap distance (the minimum when several POIs share a node) and runs one
  multi-source ``min_only`` :func:`scipy.sparse.csgraph.dijkstra` from them with ``limit=cap_m``.
  This adds each POI's own snap distance exactly, which ``dijkstra(indices=pois, min_only=True)``
  cannot. The graph's arrays are copied once per :func:`access_table` call into buffers with room
  for the virtual rows, so a run does not copy the graph.
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
snap distances included) cannot come out of a min-only run alone. It is exact either way:

* ``classes`` (the default when the graph has a straight-line bound): the nearest search also
  returns which POI node each node's distance comes from (scipy's ``sources``), which splits the
  nodes into *cells*; a candidate's pair with its own cell's POI node is then known for free, and
  that is most pairs (a POI's disc lies mostly in its own cell). The other pairs: an edge is never
  shorter than ``len_ratio`` times the straight line between its end nodes (``len_ratio`` is
  measured when the graph is built; 1 for OSM geometry lengths), so straight-line distances bound
  which (POI, candidate) pairs can count at all; only POI nodes with such a pair outside the
  candidate's own cell take part. They are coloured greedily so that two of one colour lie more
  than the sum of their straight-line reaches apart; then one ``min_only`` Dijkstra per colour,
  starting at the edges leaving the colour's cells (at the nearest search's distance there, only
  those that may lead to one of their candidates) with the edges into those cells blocked, reaches
  every node outside its own cell from at most one POI of the colour (the one the candidate is paired
  with by the straight-line bound, so no ``sources`` are needed), which gives every
  other pair exactly once and searches only the parts of the POI discs outside their own cells
  (see :func:`_count_cells`). When the discs are few and small (or for the colours with few POIs)
  one search over disjoint copies of the discs (:func:`_disc_distances`) replaces those runs.
* ``local``: for each node on the smaller side (after dropping those with no counterpart in reach)
  one Dijkstra on the subgraph induced by the disc it can reach. Used when the graph has an edge
  shorter than the straight line to zero (no bound) or when it would be cheaper by a cost estimate.
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
    edges: EdgeSet | None = None  # the physical edges with their geometry, for snapping onto edges

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    def reverse(self) -> sp.csr_array:
        """The transposed graph (edge v -> u for each u -> v); cached."""
        if self.csr_t is None:
            self.csr_t = self.csr if not self.directed else sp.csr_array(self.csr.T)
        return self.csr_t


@dataclass
class EdgeSet:
    """The graph's physical edges (parallel edges kept): end nodes ``ab`` (graph indices, ``a -> b``
    the allowed direction of a one-way edge), ``length`` (metres, the routing weight), ``oneway`` and
    the polyline of each (``coords[offsets[i]:offsets[i+1]]``, from ``a`` to ``b``). The shapely
    lines and their STRtree are built on first use."""

    ab: np.ndarray                # (m, 2) int64
    length: np.ndarray            # (m,) float64
    oneway: np.ndarray            # (m,) bool
    coords: np.ndarray            # (K, 2) float64
    offsets: np.ndarray           # (m + 1,) int64
    _lines: np.ndarray | None = None
    _tree: object = None

    def lines(self) -> np.ndarray:
        if self._lines is None:
            import shapely
            idx = np.repeat(np.arange(len(self.ab)), np.diff(self.offsets))
            self._lines = shapely.linestrings(self.coords, indices=idx) if len(self.ab) else np.empty(0, dtype=object)
        return self._lines

    def tree(self):
        if self._tree is None:
            import shapely
            self._tree = shapely.STRtree(self.lines())
        return self._tree


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
    geoms = _edge_geometries(edges, sel)
    if geoms is not None:
        geoms = geoms[ok]
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
    keep_e = in_big[ui] & in_big[vi]
    eset = _edge_set(new[ui[keep_e]], new[vi[keep_e]], length[keep_e], oneway[keep_e],
                     None if geoms is None else geoms[keep_e], xy)
    g = Graph(mode=mode, node_ids=ids[nodes_kept], xy=xy, csr=csr, kdtree=cKDTree(xy),
              csr_t=None if directed else csr, directed=directed, len_ratio=ratio, stats=stats, edges=eset)
    if directed:
        g.reverse()
    return g


def _edge_geometries(edges: pd.DataFrame, sel: np.ndarray) -> np.ndarray | None:
    """The selected edges' LineStrings (``geometry`` column, or WKB in ``geom_wkb``), None when absent."""
    import shapely
    if "geometry" in edges.columns:
        g = np.asarray(edges["geometry"].to_numpy(), dtype=object)[sel]
    elif "geom_wkb" in edges.columns:
        raw = edges["geom_wkb"].to_numpy()[sel]
        g = shapely.from_wkb([bytes(b) if b is not None else None for b in raw])
    else:
        return None
    return np.asarray(g, dtype=object)


def _edge_set(a: np.ndarray, b: np.ndarray, length: np.ndarray, oneway: np.ndarray, geoms: np.ndarray | None,
              xy: np.ndarray) -> EdgeSet:
    """The physical edges with polylines running ``a -> b``. A missing (or unusable) geometry is the
    straight line between the end nodes; a geometry drawn ``b -> a`` is reversed."""
    import shapely
    m = len(a)
    straight = np.column_stack([xy[a], xy[b]]).reshape(m, 2, 2)
    if geoms is None or m == 0:
        coords, counts = straight.reshape(-1, 2), np.full(m, 2)
    else:
        good = ~shapely.is_missing(geoms) & (shapely.get_type_id(geoms) == 1)
        good[good] &= ~shapely.is_empty(geoms[good])
        lines = np.where(good, geoms, None)
        counts = np.where(good, shapely.get_num_coordinates(lines), 2).astype(np.int64)
        coords = np.empty((int(counts.sum()), 2))
        off = np.concatenate([[0], np.cumsum(counts)])
        if good.any():
            gc = shapely.get_coordinates(lines[good])
            gi = np.flatnonzero(good)
            pos = np.repeat(off[gi], counts[gi]) + (np.arange(len(gc)) - np.repeat(np.cumsum(counts[gi]) - counts[gi], counts[gi]))
            coords[pos] = gc
            # a line drawn from b to a: reverse it (its first point is nearer b than a)
            first, last = coords[off[gi]], coords[off[gi + 1] - 1]
            rev = gi[np.hypot(*(first - xy[b[gi]]).T) + np.hypot(*(last - xy[a[gi]]).T)
                     < np.hypot(*(first - xy[a[gi]]).T) + np.hypot(*(last - xy[b[gi]]).T)]
            for i in rev:
                coords[off[i]:off[i + 1]] = coords[off[i]:off[i + 1]][::-1].copy()
        bad = np.flatnonzero(~good)
        if len(bad):
            pos = np.repeat(off[bad], 2) + np.tile([0, 1], len(bad))
            coords[pos] = straight[bad].reshape(-1, 2)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return EdgeSet(ab=np.column_stack([a, b]).astype(np.int64), length=length.astype(np.float64),
                   oneway=oneway.astype(bool), coords=coords.astype(np.float64), offsets=offsets)


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
    chord = np.hypot(*(xy[pa] - xy[pb]).T)
    pos = chord > 0
    ratio = float(min(graph.len_ratio, np.min(pw[pos] / chord[pos]))) if pos.any() else graph.len_ratio
    g = Graph(mode=graph.mode, node_ids=np.concatenate([graph.node_ids, -1 - np.arange(len(ue), dtype=np.int64)]),
              xy=xy, csr=csr, kdtree=_JoinedTree(graph.kdtree, new_xy), csr_t=None if graph.directed else csr,
              directed=graph.directed, len_ratio=ratio, stats={**graph.stats, "split_nodes": int(len(ue))}, edges=None)
    if graph.directed:
        g.csr_t = _csr_append(graph.reverse(), cols, rows, ww, k)
    return g, node


def _csr_append(csr: sp.csr_array, rows: np.ndarray, cols: np.ndarray, w: np.ndarray, k: int) -> sp.csr_array:
    """``csr`` grown to ``k`` nodes with the edges ``rows -> cols`` added after each row's own (no
    (row, col) pair may exist already: every added edge touches a new node). One pass over the
    graph's arrays, no sort of them."""
    n, nnz = csr.shape[0], int(csr.indptr[-1])
    order = np.argsort(rows, kind="stable")
    rows, cols, w = rows[order], cols[order], w[order]
    deg_old = np.zeros(k, dtype=np.int64)
    deg_old[:n] = np.diff(csr.indptr)
    add = np.bincount(rows, minlength=k).astype(np.int64)
    indptr = np.concatenate([[0], np.cumsum(deg_old + add)])
    before = np.concatenate([[0], np.cumsum(add)[:-1]])          # added entries in the rows before
    idx_dtype = np.int32 if max(k, nnz + len(rows)) < np.iinfo(np.int32).max else np.int64
    data = np.empty(nnz + len(rows))
    indices = np.empty(nnz + len(rows), dtype=idx_dtype)
    pos_old = np.arange(nnz) + np.repeat(before[:n], deg_old[:n])
    data[pos_old] = csr.data[:nnz]
    indices[pos_old] = csr.indices[:nnz]
    rank = np.arange(len(rows)) - np.repeat(np.concatenate([[0], np.cumsum(add)[:-1]]), add)
    pos_new = indptr[rows] + deg_old[rows] + rank
    data[pos_new] = w
    indices[pos_new] = cols
    return sp.csr_array((data, indices, indptr.astype(idx_dtype)), shape=(k, k))


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


# --------------------------------------------------------------------------------------------------
# nearest distance: one multi-source Dijkstra from virtual source nodes


class _Aug:
    """A CSR graph with virtual rows appended, in buffers reused across runs.

    :meth:`graph` gives the graph plus ``V`` virtual nodes ``n .. n+V-1`` (edges only out of them, so
    one is reached only when it is a source) without copying the graph's edges for every run: the
    graph's arrays are copied once into buffers with room for the virtual rows. :meth:`block` sets
    edges to ``inf`` until :meth:`unblock` (with a finite ``limit`` the search never takes them).
    """

    def __init__(self, csr: sp.csr_array):
        self.base = csr
        self.n = csr.shape[0]
        self.nnz = int(csr.indptr[-1])
        self.idx_dtype = np.result_type(csr.indices.dtype, csr.indptr.dtype)
        self.data = self.indices = self.indptr = None
        self._cap_e = self._cap_r = -1
        self._deg = None

    def _ensure(self, n_edges: int, n_rows: int) -> None:
        if n_edges <= self._cap_e and n_rows <= self._cap_r:
            return
        if max(self.nnz + n_edges, self.n + n_rows) >= np.iinfo(np.int32).max:
            self.idx_dtype = np.int64
        cap_e, cap_r = max(n_edges, 2 * self._cap_e, 1024), max(n_rows, 2 * self._cap_r, 1024)
        nnz, n = self.nnz, self.n
        data = np.empty(nnz + cap_e)
        data[:nnz] = self.base.data[:nnz] if self.data is None else self.data[:nnz]
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

    def degrees(self) -> np.ndarray:
        """Out-degree of every graph node; cached."""
        if self._deg is None:
            self._deg = np.diff(self.base.indptr)
        return self._deg

    def block(self, pos: np.ndarray) -> None:
        self._ensure(0, 0)
        self.data[pos] = np.inf

    def unblock(self, pos: np.ndarray) -> None:
        self.data[pos] = self.base.data[pos]


def _nearest_run(aug: _Aug, src: np.ndarray, off: np.ndarray, limit: float, owners: bool
                 ) -> tuple[np.ndarray, np.ndarray | None]:
    """``min_i off[i] + d(src[i], v)`` for every node ``v`` (inf beyond ``limit``) and, when ``owners``,
    which ``i`` attains it (negative where none): one Dijkstra from a virtual node per source, joined to
    ``src[i]`` by an edge of weight ``off[i]`` (``src`` distinct). This adds each POI's own snap
    distance exactly, which ``dijkstra(indices=src, min_only=True)`` cannot."""
    n, v = aug.n, len(src)
    g = aug.graph(np.arange(v), src, off, v)
    if not owners:
        return dijkstra(g, directed=True, indices=n + np.arange(v), min_only=True, limit=limit)[:n], None
    d, _, s = dijkstra(g, directed=True, indices=n + np.arange(v), min_only=True, limit=limit,
                       return_predecessors=True)
    return d[:n], s[:n] - n                                  # negative where unreached


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
                    n_poi: int, cap_m: float, count_within_m: float | None, direction: str,
                    ws: _Workspace | None = None) -> AccessResult:
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
    ws = ws or _Workspace(graph)
    pn, ps = p_node[p_ok], p_snap[p_ok]
    cn, cs = c_node[c_ok], c_snap[c_ok]
    src, p_src = np.unique(pn, return_inverse=True)
    snap_at = np.full(len(src), np.inf)                  # smallest POI snap per POI node
    np.minimum.at(snap_at, p_src, ps)
    # candidate -> POI is POI -> candidate on the transposed graph
    aug = ws.aug(graph.reverse() if direction == "to_poi" else graph.csr)
    cells = count is not None and _count_method(graph) == "classes"
    lam = float(count_within_m) - float(cs.min()) if count is not None else -np.inf
    d_node, owner = _nearest_run(aug, src, snap_at, max(cap_m, lam) if cells else cap_m, owners=cells)
    if count is not None:
        count[c_ok] = _count_within(graph, aug, cn, cs, pn, ps, p_src, src, snap_at, float(count_within_m),
                                    direction, d_node if cells else None, owner)
    total = cs + d_node[cn]
    within = np.isfinite(total) & (total <= cap_m)
    ci = np.flatnonzero(c_ok)
    dist[ci[within]] = total[within]
    reason[ci[~within]] = BEYOND_CAP
    return AccessResult(dist, reason, count)


def nearest_distances(graph: Graph, pois_xy: np.ndarray, cands_xy: np.ndarray, cap_m: float, max_snap_m: float,
                      count_within_m: float | None = None, direction: str = "to_poi",
                      snap_to: str = "edge") -> AccessResult:
    """Network distance from every candidate to the nearest POI (one Dijkstra for all of them).

    ``dist = candidate snap + network distance + that POI's snap``, NaN beyond ``cap_m`` (reason
    ``beyond_cap``), when the candidate does not snap (``no_snap``), when there are no POIs
    (``no_poi``) or none of them snaps (``no_poi_snap``). ``count_within``: POIs within
    ``count_within_m`` (same distance definition); -1 for a candidate that does not snap.
    ``direction``: ``to_poi`` (candidate -> POI, default) or ``from_poi``; matters on directed graphs.
    """
    pois_xy = np.asarray(pois_xy, dtype=np.float64).reshape(-1, 2)
    graph, ((c_node, c_snap), (p_node, p_snap)) = snap_points(graph, [cands_xy, pois_xy], max_snap_m, snap_to)
    return _access_snapped(graph, c_node, c_snap, p_node, p_snap, len(pois_xy), cap_m, count_within_m, direction)


# --------------------------------------------------------------------------------------------------
# count within a radius: the nearest search's cells plus classes of far-apart POIs, or local searches

COUNT_METHOD: str | None = None     # force "classes", "discs", "mixed" (odd classes by discs) or "local"
                                    # (tests); None picks the cheapest


def _count_method(graph: Graph) -> str | None:
    """``local`` when forced or when there is no straight-line bound, else ``classes`` (which may still
    fall back to ``local`` by the cost estimate, see :func:`_count_within`)."""
    if graph.len_ratio <= 0 or COUNT_METHOD == "local":
        return "local"
    return "classes"


def _count_within(graph: Graph, aug: _Aug, c_node: np.ndarray, c_snap: np.ndarray, p_node: np.ndarray,
                  p_snap: np.ndarray, p_src: np.ndarray, src: np.ndarray, snap_at: np.ndarray, radius: float,
                  direction: str, d1: np.ndarray | None, owner: np.ndarray | None) -> np.ndarray:
    """Per candidate: #POIs with ``c_snap + d(candidate -> POI) + p_snap <= radius`` (all snapped).

    ``src``: the distinct POI nodes, ``p_src`` each POI's index into it, ``snap_at`` the smallest
    snap per POI node. ``d1``/``owner``: the nearest search (POI snap included, exact up to
    ``radius - min(c_snap)``) and the POI node each node's distance comes from; given for the
    ``classes`` method (:func:`_count_cells`), None for ``local``.
    """
    counts = np.zeros(len(c_node), dtype=np.int64)
    lam = radius - float(c_snap.min())                  # POI snap + network distance that can still count
    if len(c_node) == 0 or len(p_node) == 0 or lam - float(snap_at.min()) < 0:
        return counts
    ratio = graph.len_ratio

    def reach(budget):   # straight-line bound for a network budget (+ rounding slack)
        return budget / ratio * (1 + 1e-9) + 1e-6 if ratio > 0 else np.where(budget >= 0, np.inf, -1.0)

    to_poi = direction == "to_poi"
    if d1 is not None:
        # the (POI node, candidate) pairs the class searches must find: not the candidate's own cell,
        # within the straight-line bound, and a candidate whose nearest POI is within the radius
        # (any other POI within it is at least that far)
        rel = np.flatnonzero(d1[c_node] + c_snap <= radius)
        if len(rel) == 0:
            return counts
        pairs = cKDTree(graph.xy[src]).sparse_distance_matrix(
            cKDTree(graph.xy[c_node[rel]]), float(reach(lam - float(snap_at.min()))), output_type="ndarray")
        pi, cj = pairs["i"].astype(np.int64), rel[pairs["j"]]
        ok = (pairs["v"] <= reach(radius - c_snap[cj] - snap_at[pi])) & (owner[c_node[cj]] != pi)
        a = np.unique(pi[ok])                                # the POI nodes that need a class search
        cls = np.full(len(src), -1, dtype=np.int64)
        if len(a):
            cls[a] = _color(graph.xy[src[a]], reach(lam - snap_at[a]))
        method = COUNT_METHOD
        if method is None and len(a):
            method = _cheaper(graph, src[a], cls[a], min(len(rel), len(src)), float(reach(lam - float(snap_at.min()))))
        if method != "local":
            discs = None
            if len(a):
                # few, small discs: one search over disjoint copies of them beats the class searches
                r_a = reach(lam - snap_at[a])
                cheaper, disc = _discs_cheaper(graph, src[a], r_a, int(cls.max()) + 1)
                if method == "discs" or COUNT_METHOD is None and cheaper:
                    discs = (a, r_a, True)
                elif COUNT_METHOD in (None, "mixed"):      # still: the classes with few POI nodes
                    small = np.bincount(cls[a]) * disc * 0.6e-6 < graph.n_nodes * 3e-9
                    if COUNT_METHOD == "mixed":
                        small = np.arange(len(small)) % 2 == 1
                    if small.any():
                        discs = (a, r_a, small)
            _count_cells(graph, aug, src, snap_at, cls, d1, owner, p_src, p_snap, c_node, c_snap, radius, lam,
                         (pi[ok], cj[ok]), discs, reach, counts)
            return counts
    # local: drop points with no counterpart within reach; search from the side with fewer nodes left
    c_min, p_min = float(c_snap.min()), float(p_snap.min())
    p_csr = graph.reverse() if to_poi else graph.csr      # POI -> candidate
    c_tree, p_tree = cKDTree(graph.xy[c_node]), cKDTree(graph.xy[p_node])
    c_act = _ball_counts(p_tree, graph.xy[c_node], reach(radius - c_snap - p_min)) > 0
    p_act = _ball_counts(c_tree, graph.xy[p_node], reach(radius - p_snap - c_min)) > 0
    if not c_act.any() or not p_act.any():
        return counts
    if len(np.unique(c_node[c_act])) <= len(np.unique(p_node[p_act])):   # candidate -> POI
        _count_local(graph, graph.csr if to_poi else graph.reverse(), c_node, c_snap, np.flatnonzero(c_act),
                     p_node, p_snap, p_tree, radius, reach, counts, a_is_cand=True)
    else:                                                                 # POI -> candidate
        _count_local(graph, p_csr, p_node, p_snap, np.flatnonzero(p_act), c_node, c_snap, c_tree, radius, reach,
                     counts, a_is_cand=False)
    return counts


def _color(xy: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Greedy colouring (most conflicts first): points ``i``, ``j`` of one colour lie more than
    ``r[i] + r[j]`` apart."""
    r = np.broadcast_to(np.asarray(r, dtype=np.float64), (len(xy),))
    colors = np.zeros(len(xy), dtype=np.int64)
    pairs = cKDTree(xy).query_pairs(2 * float(r.max()), output_type="ndarray")
    if len(pairs):
        gap = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
        pairs = pairs[gap <= r[pairs[:, 0]] + r[pairs[:, 1]]]
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


def _cheaper(graph: Graph, src: np.ndarray, classes: np.ndarray, n_small: int, reach_m: float) -> str:
    """``classes`` or ``local`` by a rough cost model (seconds, measured on scipy's Dijkstra).

    classes: per class an O(nodes) start-up plus the searches, which only cover the parts of the
    POIs' discs outside their own cells; local: per source node of the smaller side a call
    overhead plus its disc (``n_small`` of them).
    """
    k = int(classes.max()) + 1
    classes_fixed = k * graph.n_nodes * 4e-9
    if classes_fixed <= n_small * 60e-6:             # cheaper whatever the discs: skip measuring them
        return "classes"
    sample = src[:: max(1, len(src) // 50)]
    disc = float(np.mean(graph.kdtree.query_ball_point(graph.xy[sample], reach_m, return_length=True)))
    classes_cost = classes_fixed + len(src) * disc * 0.1e-6
    local_cost = n_small * (60e-6 + disc * 0.3e-6)
    return "classes" if classes_cost <= local_cost else "local"


def _discs_cheaper(graph: Graph, nodes: np.ndarray, r: np.ndarray, k: int) -> tuple[bool, float]:
    """Whether one search over copies of the discs (about 0.6 us per disc node) beats ``k`` class
    searches (per class an O(nodes) start-up, plus one pass over the edges; their searches cover
    roughly a tenth of the discs); and the mean disc size."""
    pick = slice(None, None, max(1, len(nodes) // 40))      # a sample is enough for the estimate
    size = float(graph.kdtree.query_ball_point(graph.xy[nodes[pick]], r[pick], return_length=True).mean()) * len(nodes)
    return size * 0.6e-6 < graph.n_nodes * (22e-9 + 3.5e-9 * k) + size * 0.07e-6, size / len(nodes)


def _count_cells(graph: Graph, aug: _Aug, src: np.ndarray, snap_at: np.ndarray, cls: np.ndarray, d1: np.ndarray,
                 owner: np.ndarray, p_src: np.ndarray, p_snap: np.ndarray, c_node: np.ndarray, c_snap: np.ndarray,
                 radius: float, lam: float, pairs: tuple[np.ndarray, np.ndarray], discs: tuple | None, reach,
                 counts: np.ndarray) -> None:
    """Count pairs from the nearest search's cells plus one search per class of far-apart POI nodes.

    The nearest search (``d1``, ``owner``; POI snap included) splits the nodes into cells, one per
    POI node: a candidate's pair with its own cell's POI node is known already. Every other POI
    node ``p`` within ``lam`` of a node ``v`` in another cell: the shortest path from ``p`` to ``v``
    leaves ``p``'s cell for good over some edge ``u -> w`` (``d(p, u) = d1(u)`` as ``u`` is in it), or
    starts outside it when ``p`` does not own its own node. POI nodes in one class ``cls`` lie more
    than twice the straight-line reach of ``lam`` apart, so a node is within ``lam`` of at most one
    of them, and such a path never enters a cell of another POI node of the class (that node would
    be at least as near, so within ``lam`` of both). Hence one search per class from those exits
    (``d1(u) + len(u, w)`` at ``w``), with the edges into the class's cells blocked, gives exactly
    the pairs outside the own cell, each once, and settles only the parts of the POI discs outside
    their own cells (about a fifth of the discs on a street grid). ``cls`` -1: a POI node that
    counts no candidate (no class run; its cell is never blocked).

    ``pairs``: ``(POI node, candidate)`` index pairs, every pair outside the own cell that can count
    (straight-line bound); a class search only starts from the exits that may lead to one of them.
    ``discs``: ``(a, r, which)``: one search over disjoint copies of the POI nodes ``a``'s
    straight-line discs of radius ``r`` (:func:`_disc_distances`) gives the pairs' distances
    directly, instead of the class searches (``which`` True) or of those of the classes ``which``
    (bool per class).
    """
    n, v = aug.n, len(src)
    order = np.argsort(p_src, kind="stable")                 # POIs grouped by POI node
    lo_of = np.searchsorted(p_src[order], np.arange(v))
    m_of = np.diff(np.append(lo_of, len(p_src)))

    def add(c_idx, s, node_d):   # candidates c_idx with POI node s at network distance node_d (no snaps)
        m = m_of[s]
        tot = int(m.sum())
        if tot == 0:
            return
        start = np.cumsum(m) - m
        k = np.arange(tot) - np.repeat(start, m)
        p_idx = order[np.repeat(lo_of[s], m) + k]
        ci = np.repeat(c_idx, m)
        ok = c_snap[ci] + np.repeat(node_d, m) + p_snap[p_idx] <= radius
        np.add.at(counts, ci[ok], 1)

    def ow(nodes):   # the cell of nodes within lam of a POI, else -1
        return np.where(d1[nodes] <= lam, owner[nodes], -1)

    oc = ow(c_node)
    hit = np.flatnonzero(oc >= 0)
    add(hit, oc[hit], d1[c_node[hit]] - snap_at[oc[hit]])   # pairs with the own cell's POI node
    if cls.max() < 0:
        return
    pair_p, pair_c = pairs
    if discs is not None:
        a, r_a, which = discs
        if which is not True:                                # only the POI nodes of the classes ``which``
            sel = which[cls[a]]
            a, r_a = a[sel], r_a[sel]
            cls = np.where(np.isin(cls, np.flatnonzero(which)), -1, cls)   # (no class search for them)
        in_a = np.zeros(v, dtype=bool)
        in_a[a] = True
        sel = in_a[pair_p]
        pp, pcand = pair_p[sel], pair_c[sel]
        d = _disc_distances(graph, aug.base, src, a, r_a, lam - float(snap_at[a].min()), pp, c_node[pcand])
        ok = d <= lam - snap_at[pp]
        add(pcand[ok], pp[ok], d[ok])
        if which is True or cls.max() < 0:
            return
    # the class of each node's cell (-1: none within lam, or a POI node without a class); only edges
    # between cells of different classes matter (seeds out of a class's cells, edges into them)
    cdt = np.int8 if cls.max() < 127 else np.int32
    node_cls = np.take(cls.astype(cdt), owner, mode="clip")   # (an unreached node: masked next)
    node_cls[d1 > lam] = -1
    ind = aug.base.indices[:aug.nnz]
    a = np.repeat(node_cls, aug.degrees())                   # per edge: its tail's, its head's
    b = np.take(node_cls, ind)
    e = np.flatnonzero(a != b)
    ca, cb = a[e].astype(np.int64), b[e].astype(np.int64)
    eu = np.searchsorted(aug.base.indptr, e, side="right") - 1
    ea = ow(eu)
    ew = ind[e]
    off = d1[eu] + aug.base.data[e]
    notown = np.flatnonzero((owner[src] != np.arange(v)) & (snap_at <= lam) & (cls >= 0))
    # an exit can only matter when one of its POI node's candidates is within the straight-line bound
    # of what is left of the radius there; the others do not seed
    seed = np.flatnonzero((ca >= 0) & (off <= lam))
    po = np.argsort(pair_p, kind="stable")
    pc = pair_c[po]
    start = np.searchsorted(pair_p[po], np.arange(v))
    m = np.bincount(pair_p, minlength=v)[ea[seed]]
    tot = int(m.sum())
    c = pc[np.repeat(start[ea[seed]], m) + (np.arange(tot) - np.repeat(np.cumsum(m) - m, m))]
    sidx = np.repeat(np.arange(len(seed)), m)
    gap = np.hypot(*(graph.xy[ew[seed]][sidx] - graph.xy[c_node[c]]).T)
    useful = np.zeros(len(off), dtype=bool)
    useful[seed[sidx[gap <= reach(radius - c_snap[c] - off[seed][sidx])]]] = True
    off = np.where(useful, off, np.inf)
    pair_cls = cls[pair_p]
    for k in range(int(cls.max()) + 1):
        sm = (ca == k) & (cb != k) & (off <= lam)
        rows, cols, w = ea[sm], ew[sm], off[sm]
        nk = notown[cls[notown] == k]                        # POI nodes starting outside their cell
        if len(nk):
            o = ow(src[nk])
            ok = (o < 0) | (cls[np.maximum(o, 0)] != k)          # (never a cell of the class; see above)
            nk = nk[ok]
            rows, cols = np.concatenate([rows, nk]), np.concatenate([cols, src[nk]])
            w = np.concatenate([w, snap_at[nk]])
        if len(rows) == 0:
            continue
        srt = np.argsort(rows, kind="stable")
        rows, cols, w = rows[srt], cols[srt], w[srt]
        blk = e[(cb == k) & (ca != k)]                       # edges into the class's cells
        aug.block(blk)
        try:
            g = aug.graph(rows, cols, w, v)
            d = dijkstra(g, directed=True, indices=n + np.unique(rows), min_only=True, limit=lam)
        finally:
            aug.unblock(blk)
        # a candidate within lam of a POI node of the class is within its straight-line reach, so
        # the value there comes from the one POI node of the class it is paired with (if any)
        sel = pair_cls == k
        pp, pcand = pair_p[sel], pair_c[sel]
        dc = d[c_node[pcand]]
        hit = dc <= lam
        add(pcand[hit], pp[hit], dc[hit] - snap_at[pp[hit]])


def _disc_distances(graph: Graph, csr: sp.csr_array, src: np.ndarray, a: np.ndarray, r: np.ndarray, limit: float,
                    pair_p: np.ndarray, pair_node: np.ndarray) -> np.ndarray:
    """Network distance ``src[pair_p] -> pair_node`` (inf beyond ``limit``) for POI nodes ``a``
    (``pair_p`` among them), each searched on the subgraph induced by its straight-line disc of
    radius ``r`` (it holds every path of length at most ``limit`` from it): one min_only Dijkstra
    over disjoint copies of those subgraphs, so no call per POI node."""
    n = csr.shape[0]
    balls = graph.kdtree.query_ball_point(graph.xy[src[a]], r)
    lens = np.fromiter((len(b) for b in balls), dtype=np.int64, count=len(balls))
    key = np.repeat(np.arange(len(a), dtype=np.int64), lens) * n + np.concatenate(balls).astype(np.int64)
    key.sort()                                               # (copy, node); position = local index
    node = key % n
    lo, hi = csr.indptr[node].astype(np.int64), csr.indptr[node + 1].astype(np.int64)
    deg = hi - lo
    flat = np.repeat(lo - (np.cumsum(deg) - deg), deg) + np.arange(int(deg.sum()))
    wkey = key.repeat(deg) - node.repeat(deg) + csr.indices[flat]
    loc = np.minimum(np.searchsorted(key, wkey), len(key) - 1)
    keep = key[loc] == wkey
    rows = np.repeat(np.arange(len(key)), deg)[keep]
    sub = _csr_from_sorted(rows, loc[keep], csr.data[flat][keep], len(key))
    blk = np.searchsorted(a, pair_p)                         # pair_p's copy
    d = dijkstra(sub, directed=True, indices=np.searchsorted(key, np.arange(len(a)) * n + src[a]), min_only=True,
                 limit=limit)
    at = np.minimum(np.searchsorted(key, blk * n + pair_node), len(key) - 1)
    return np.where(key[at] == blk * n + pair_node, d[at], np.inf)


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
                 max_snap_m: float, direction: str = "to_poi", coverage: dict | None = None,
                 snap_to: str = "edge") -> pd.DataFrame:
    """Distances for every candidate and category: one multi-source Dijkstra per category (plus the
    count searches).

    ``candidates``: candidate_key, x, y. ``pois``: category, x, y.
    ``categories``: ``{name: {"threshold_m": float, "cap_m": float[, "count_within_m": float]}}``;
    ``count_within`` counts the POIs within ``count_within_m`` (default ``threshold_m``).
    Returns candidate_key, mode, category, dist_m (float, NaN when missing), count_within (Int64, <NA>
    when the candidate does not snap), reason (None or the reason the distance is missing).
    ``coverage``: when given, filled with this mode's counts: ``edges`` (directed, in the graph),
    ``mode_edges`` (of the mode, as read), ``max_snap_m``, ``candidates_not_snapped`` and per category
    ``{"pois", "snapped", "too_far"}``.
    """
    keys = candidates["candidate_key"].to_numpy()
    p_cat = pois["category"].to_numpy(dtype=object)
    base_edges = int(graph.csr.nnz)
    used = "node" if graph.edges is None else snap_to
    graph, ((c_node, c_snap), (p_node, p_snap)) = snap_points(
        graph, [candidates[["x", "y"]].to_numpy(dtype=np.float64), pois[["x", "y"]].to_numpy(dtype=np.float64)],
        max_snap_m, snap_to)
    n_nosnap = int((c_node < 0).sum())
    if n_nosnap:
        log.info("%s access: %d of %d candidate(s) farther than %g m from the graph", graph.mode, n_nosnap,
                 len(keys), max_snap_m)
    frames = []
    ws = _Workspace(graph)
    if coverage is not None:
        coverage.update({"edges": base_edges, "snap_to": used, "mode_edges": int(graph.stats.get("mode_edges", 0)),
                         "max_snap_m": float(max_snap_m), "candidates_not_snapped": n_nosnap, "categories": {}})
    for cat, spec in categories.items():
        m = p_cat == cat
        n_poi = int(m.sum())
        n_far = int((p_node[m] < 0).sum())
        if coverage is not None:
            coverage["categories"][cat] = {"pois": n_poi, "snapped": n_poi - n_far, "too_far": n_far}
        if n_far:
            log.info("%s access: %s: %d of %d POI(s) farther than %g m from the graph", graph.mode, cat,
                     n_far, n_poi, max_snap_m)
        cw = spec.get("count_within_m", spec.get("threshold_m"))
        res = _access_snapped(graph, c_node, c_snap, p_node[m], p_snap[m], n_poi, float(spec["cap_m"]),
                              None if cw is None else float(cw), direction, ws)
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
