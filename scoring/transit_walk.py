"""Walking legs of transit journeys over the OSM walk graph: door -> stop, stop -> stop, stop -> POI, door -> POI.

Pure (numpy/scipy). Candidates, stops and POIs snap onto the walk graph together
(:func:`plekzoeker.scoring.snap.snap_points`, the graph split at the feet, so points on one edge
reach each other along it), then bounded Dijkstra runs (``scipy.sparse.csgraph.dijkstra`` with
``limit``) from the stop nodes and from the POI nodes give every pair within reach. A walk is
``snap offset + network distance + snap offset`` metres, in whole seconds rounded up at
``walk_speed_m_s`` (so every time the router compares is an integer and the oracle can match it
exactly). Pairs farther than the limit are absent, never 0. The graph is undirected for walking, so
stop -> candidate distances are candidate -> stop distances.

Cost: one bounded search per distinct stop node and per distinct POI node (each touching only the
nodes within the limit), done in batches so the (batch x nodes) distance block stays small.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import dijkstra

from .graph import Graph
from .snap import snap_points

BATCH = 256


@dataclass(frozen=True)
class Pairs:
    """Sparse (from, to, seconds) walking pairs; indices are positions in the point sets given."""

    src: np.ndarray
    dst: np.ndarray
    seconds: np.ndarray

    @classmethod
    def empty(cls) -> Pairs:
        z = np.empty(0, dtype=np.int64)
        return cls(z, z, z)


@dataclass(frozen=True)
class WalkLegs:
    access: Pairs            # candidate -> stop (max_walk_m)
    transfers: Pairs         # stop -> stop, distinct stops (transfer_max_m)
    egress: Pairs            # stop -> POI (max_walk_m)
    direct: Pairs            # candidate -> POI (max_walk_m): a journey on foot only


def _bounded(graph: Graph, src_node: np.ndarray, src_off: np.ndarray, tgt_node: np.ndarray, tgt_off: np.ndarray,
             limit_m: float, speed: float, exclude_same: bool = False) -> Pairs:
    """All (source, target) pairs within ``limit_m`` walking, in seconds (rounded up)."""
    ok_s, ok_t = np.flatnonzero(src_node >= 0), np.flatnonzero(tgt_node >= 0)
    if not len(ok_s) or not len(ok_t):
        return Pairs.empty()
    uniq, inv = np.unique(src_node[ok_s], return_inverse=True)
    t_nodes = tgt_node[ok_t]
    out_s, out_t, out_w = [], [], []
    for lo in range(0, len(uniq), BATCH):
        block = dijkstra(graph.csr, directed=True, indices=uniq[lo:lo + BATCH], limit=limit_m)[:, t_nodes]
        rows = np.flatnonzero((inv >= lo) & (inv < lo + BATCH))
        d = block[inv[rows] - lo] + src_off[ok_s[rows], None] + tgt_off[None, ok_t]
        i, j = np.nonzero(d <= limit_m)
        s_idx, t_idx = ok_s[rows[i]], ok_t[j]
        keep = s_idx != t_idx if exclude_same else np.ones(len(i), dtype=bool)
        out_s.append(s_idx[keep])
        out_t.append(t_idx[keep])
        out_w.append(np.ceil(d[i, j][keep] / speed).astype(np.int64))
    return Pairs(np.concatenate(out_s), np.concatenate(out_t), np.concatenate(out_w))


def walk_legs(graph: Graph, cand_xy: np.ndarray, stop_xy: np.ndarray, poi_xy: np.ndarray, *, max_walk_m: float,
              transfer_max_m: float, speed_m_s: float, max_snap_m: float, snap_to: str = "edge") -> WalkLegs:
    """The four kinds of walking legs (see the module docstring)."""
    g, ((cn, co), (sn, so), (pn, po)) = snap_points(graph, [cand_xy, stop_xy, poi_xy], max_snap_m, snap_to)
    co, so, po = (np.nan_to_num(x, nan=np.inf) for x in (co, so, po))
    from_stops_c = _bounded(g, sn, so, cn, co, max_walk_m, speed_m_s)
    access = Pairs(from_stops_c.dst, from_stops_c.src, from_stops_c.seconds)
    transfers = _bounded(g, sn, so, sn, so, transfer_max_m, speed_m_s, exclude_same=True)
    egress = _bounded(g, sn, so, pn, po, max_walk_m, speed_m_s)
    from_pois_c = _bounded(g, pn, po, cn, co, max_walk_m, speed_m_s)
    direct = Pairs(from_pois_c.dst, from_pois_c.src, from_pois_c.seconds)
    return WalkLegs(access=access, transfers=transfers, egress=egress, direct=direct)
