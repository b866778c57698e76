"""The street graph of one mode: a CSR array over the largest strongly connected component.

Pure functions (no database, no Prefect). :func:`build_graph` turns the OSM reader's node/edge
tables into a CSR graph for one mode (``walk``: undirected, every segment both ways; ``bike``:
directed, a ``oneway_bike`` segment only ``u -> v``), keeps the minimum length of parallel edges,
keeps only the largest strongly connected component (so every kept node can reach every other one
and back: a candidate or POI never snaps onto an island or a one-way dead end it cannot leave) and
builds a KD-tree of the nodes. The physical edges (parallel ones kept) with their polylines go with
the graph in :class:`EdgeSet`, for snapping onto edges (:mod:`plekzoeker.scoring.snap`).

The CSR helpers build the arrays directly (``indptr`` from a bincount of rows already sorted, or
rows appended after each row's own), so neither building nor splitting the graph re-sorts a
million-edge array through scipy's COO path.

:mod:`plekzoeker.scoring.graph_cache` hashes the source of :func:`build_graph`,
:func:`_csr_from_sorted`, :func:`_edge_set` and :func:`_edge_geometries`: changing them invalidates
the cached graphs.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

log = logging.getLogger(__name__)

MODES = ("walk", "bike")


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
                 directed=mode == "bike", stats=stats)


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

    directed = mode == "bike"
    keep_e = in_big[ui] & in_big[vi]
    eset = _edge_set(new[ui[keep_e]], new[vi[keep_e]], length[keep_e], oneway[keep_e],
                     None if geoms is None else geoms[keep_e], xy)
    g = Graph(mode=mode, node_ids=ids[nodes_kept], xy=xy, csr=csr, kdtree=cKDTree(xy),
              csr_t=None if directed else csr, directed=directed, stats=stats, edges=eset)
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
