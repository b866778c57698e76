"""Synthetic street graphs in the OSM reader's format, for tests and benchmarks.

:func:`grid_graph` builds a perturbed square grid: node positions jittered by up to a quarter of
the spacing, a share of the street segments removed (dead ends, blocks, small islands), curvy
lengths (never shorter than the straight line, as real geometry lengths), some footpaths (walk
only), some cycle paths (bike only), some bike one-way streets in a random direction and a few
parallel duplicates. Fully vectorised: a million nodes take a second or two.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd


def grid_graph(n_nodes: int, spacing_m: float = 80.0, seed: int = 0, origin: tuple[float, float] = (150000.0, 450000.0),
               p_remove: float = 0.08, p_oneway: float = 0.10, p_walk_only: float = 0.04, p_bike_only: float = 0.03,
               p_parallel: float = 0.01) -> tuple[pd.DataFrame, pd.DataFrame]:
    """About ``n_nodes`` nodes on a jittered grid; returns ``(nodes, edges)``.

    ``nodes``: node_id int64 (unique, shuffled, not 0..n-1), x, y float64 (RD New around ``origin``).
    ``edges``: u, v int64, length_m float64, walk, bike, oneway_bike bool — one row per segment; for
    a ``oneway_bike`` row ``u -> v`` is the allowed direction.
    """
    rng = np.random.default_rng(seed)
    nrow = max(2, int(round(math.sqrt(n_nodes))))
    ncol = max(2, int(math.ceil(n_nodes / nrow)))
    n = nrow * ncol
    k = np.arange(n, dtype=np.int64)
    row, col = np.divmod(k, ncol)
    jitter = rng.uniform(-0.25, 0.25, size=(n, 2)) * spacing_m
    x = origin[0] + col * spacing_m + jitter[:, 0]
    y = origin[1] + row * spacing_m + jitter[:, 1]
    node_id = 10_000_000_000 + rng.permutation(n).astype(np.int64) * 3 + 7

    h = k[col < ncol - 1]
    vtc = k[row < nrow - 1]
    u = np.concatenate([h, vtc])
    v = np.concatenate([h + 1, vtc + ncol])
    keep = rng.random(len(u)) >= p_remove
    u, v = u[keep], v[keep]
    m = len(u)
    chord = np.hypot(x[u] - x[v], y[u] - y[v])
    length = chord * (1.0 + rng.exponential(0.04, size=m))
    r = rng.random(m)
    walk = r >= p_walk_only                       # footpath: walk only
    bike = ~((r >= p_walk_only) & (r < p_walk_only + p_bike_only))  # cycle path: bike only
    oneway = bike & walk & (rng.random(m) < p_oneway)
    flip = rng.random(m) < 0.5                    # one-way direction and stored order are random
    u, v = np.where(flip, v, u), np.where(flip, u, v)
    # a few parallel duplicates (longer, sometimes reversed) to exercise the minimum rule
    dup = np.flatnonzero(rng.random(m) < p_parallel)
    rev = rng.random(len(dup)) < 0.5
    du = np.where(rev & ~oneway[dup], v[dup], u[dup])
    dv = np.where(rev & ~oneway[dup], u[dup], v[dup])
    u = np.concatenate([u, du])
    v = np.concatenate([v, dv])
    length = np.concatenate([length, length[dup] * rng.uniform(1.0, 1.5, size=len(dup))])
    walk = np.concatenate([walk, walk[dup]])
    bike = np.concatenate([bike, bike[dup]])
    oneway = np.concatenate([oneway, oneway[dup]])
    nodes = pd.DataFrame({"node_id": node_id, "x": x, "y": y})
    edges = pd.DataFrame({"u": node_id[u], "v": node_id[v], "length_m": length, "walk": walk, "bike": bike,
                          "oneway_bike": oneway})
    return nodes, edges
