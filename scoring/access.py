"""Network access: distance along the street graph from each candidate to the nearest POI of a category.

Pure functions (no database, no Prefect). The work per POI category is **one** shortest-path run
over the whole graph, not one routing query per candidate; the parts live in one module each:

* :mod:`plekzoeker.scoring.graph`: :func:`build_graph`, the CSR graph of one mode (largest strongly
  connected component, parallel edges at their minimum, the physical edges kept for snapping);
* :mod:`plekzoeker.scoring.snap`: :func:`snap_points`, candidates and POIs onto the nearest edge,
  the graph split at the feet (or onto the nearest node, ``snap_to="node"``);
* :mod:`plekzoeker.scoring.nearest`: :func:`nearest_distances`, one multi-source Dijkstra from
  virtual source nodes that carry each POI's snap distance; the reasons a distance is missing.

:func:`access_table` snaps once for all categories, runs the nearest search per category and returns
the long table written to ``result.access``. Unreachable is never 0: the distance is NaN and
``reason`` says why (``no_poi``, ``no_snap``, ``no_poi_snap``, ``beyond_cap``; see
:mod:`plekzoeker.scoring.nearest`).

There is no count of POIs within a radius any more: ``result.access.count_within`` was filled on
every run but read by no criterion, output, map or list, so it went (with its ~360 lines of search
machinery) in issue 20. The transit criterion ``transit_<category>_within`` is computed separately
(:mod:`plekzoeker.scoring.transit`).
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from plekzoeker.scoring.graph import MODES, EdgeSet, Graph, build_graph
from plekzoeker.scoring.nearest import (
    BEYOND_CAP,
    DIRECTIONS,
    NO_POI,
    NO_POI_SNAP,
    NO_SNAP,
    AccessResult,
    _access_snapped,
    _Workspace,
    nearest_distances,
)
from plekzoeker.scoring.snap import SNAP_TO, snap, snap_points, snap_to_edges, split_at

__all__ = ["ACCESS_COLUMNS", "BEYOND_CAP", "DIRECTIONS", "MODES", "NO_POI", "NO_POI_SNAP", "NO_SNAP", "SNAP_TO",
           "AccessResult", "EdgeSet", "Graph", "access_table", "build_graph", "nearest_distances", "snap",
           "snap_points", "snap_to_edges", "split_at"]

log = logging.getLogger(__name__)

ACCESS_COLUMNS = ("candidate_key", "mode", "category", "dist_m", "reason")


def access_table(graph: Graph, candidates: pd.DataFrame, pois: pd.DataFrame, categories: dict[str, dict],
                 max_snap_m: float, direction: str = "to_poi", coverage: dict | None = None,
                 snap_to: str = "edge") -> pd.DataFrame:
    """Distances for every candidate and category: one multi-source Dijkstra per category.

    ``candidates``: candidate_key, x, y. ``pois``: category, x, y.
    ``categories``: ``{name: {"cap_m": float, ...}}`` (other keys, e.g. ``threshold_m``, are the score's).
    Returns candidate_key, mode, category, dist_m (float, NaN when missing), reason (None or the
    reason the distance is missing).
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
        res = _access_snapped(graph, c_node, c_snap, p_node[m], p_snap[m], n_poi, float(spec["cap_m"]), direction, ws)
        frames.append(pd.DataFrame({
            "candidate_key": keys,
            "mode": graph.mode,
            "category": cat,
            "dist_m": res.dist_m,
            "reason": pd.Series(res.reason, dtype=object),
        }))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ACCESS_COLUMNS})
    out = pd.concat(frames, ignore_index=True)
    out["reason"] = out["reason"].astype(object)
    return out
