"""Data coverage of the access criteria: which POI categories have data where the candidates are.

A category has *no data* when no POI of it lies within ``cap_m`` (straight line) of any candidate:
the extract (or OSM itself) does not cover it there. Straight-line distance never exceeds network
distance, so such a category would give every candidate sub-score 0 — a statement about the data,
not about the candidates. The score leaves it out of the weighted mean instead (unknown shown as
unknown). A category with a POI within the cap of at least one candidate *has* data: a candidate
whose nearest POI is farther than the cap keeps its 0 (it is far away). The test is over all
candidates of the run, so a scaled-out run (per area) decides exactly as a single run does.

The per-mode counts (edges, POIs snapped, POIs dropped for snapping farther than ``max_snap_m``)
come from :func:`plekzoeker.scoring.access.access_table`; :func:`coverage_lines` renders both for
logs, the run summary and the lists' "about" sheet.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree


def poi_coverage(cand_xy: np.ndarray, pois: pd.DataFrame, categories: dict[str, dict]) -> dict[str, dict]:
    """Per category: ``pois`` (in the data read), ``pois_within_cap`` (within ``cap_m`` of some
    candidate, straight line) and ``no_data`` (no such POI). ``pois``: category, x, y."""
    xy = np.asarray(cand_xy, dtype=float).reshape(-1, 2)
    xy = xy[np.isfinite(xy).all(axis=1)]
    tree = cKDTree(xy) if len(xy) else None
    cat = pois["category"].to_numpy(dtype=object) if len(pois) else np.empty(0, dtype=object)
    pxy = pois[["x", "y"]].to_numpy(dtype=float) if len(pois) else np.empty((0, 2))
    out = {}
    for name, spec in categories.items():
        p = pxy[cat == name]
        p = p[np.isfinite(p).all(axis=1)]
        near = 0
        if tree is not None and len(p):
            d, _ = tree.query(p, k=1, distance_upper_bound=float(spec["cap_m"]))
            near = int(np.isfinite(d).sum())
        out[name] = {"pois": int(len(p)), "pois_within_cap": near, "no_data": near == 0}
    return out


def no_data_categories(coverage: dict[str, dict]) -> list[str]:
    """The categories without data (sorted)."""
    return sorted(k for k, v in coverage.items() if v.get("no_data"))


def coverage_lines(coverage: dict) -> list[str]:
    """Human-readable lines: the no-data categories, then per mode and category the counts."""
    cats = coverage.get("categories") or {}
    lines = []
    nd = no_data_categories(cats)
    if nd:
        lines.append("No data (no POI within the cap of any candidate; left out of the score): " + ", ".join(
            f"{k} ({cats[k]['pois']} POI(s) in the data)" for k in nd))
    if cats:
        lines.append("POIs per category (within the cap of a candidate / in the data): " + ", ".join(
            f"{k} {v['pois_within_cap']}/{v['pois']}" for k, v in cats.items()))
    for mode, m in (coverage.get("modes") or {}).items():
        per = m.get("categories") or {}
        lines.append(f"{mode}: {m.get('edges', 0)} edges in the graph ({m.get('mode_edges', 0)} of the mode read), "
                     + "; ".join(f"{k}: {v['pois']} POI(s), {v['snapped']} snapped, {v['too_far']} farther than "
                                 f"{m.get('max_snap_m', 0):g} m" for k, v in per.items()))
    return lines
