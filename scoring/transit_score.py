"""Transit criteria and sub-scores for the composite score (pure; called from scoring/score.py).

``transit_<category>_min`` (median door-to-door minutes, see :mod:`plekzoeker.scoring.transit`) gets the
sub-score ``transit_<category>``: 1 at or below the category's ``threshold_min``, linear to 0 at
``cap_min``, 0 when there is no connection (as an unreachable POI scores 0 for walking). The best time
and the count within ``count_within_min`` are kept in the criteria without a sub-score. Without a GTFS
input the context has no transit columns and no transit criterion applies (the weights are unused).
"""
from __future__ import annotations

import pandas as pd

from .transit_config import TransitConfig


def transit_criteria(ctx: pd.DataFrame, index: pd.Index, cfg: dict, crit: dict, sub: dict) -> None:
    """Add the transit criteria and sub-scores present in ``ctx`` to ``crit`` / ``sub`` (in place)."""
    if not any(c.startswith("transit_") for c in ctx.columns):
        return
    from .score import distance_subscore

    for cat, c in TransitConfig.from_config(cfg).categories.items():
        col = f"transit_{cat}_min"
        if col not in ctx.columns:
            continue
        for name in (col, f"transit_{cat}_best_min", f"transit_{cat}_within"):
            if name in ctx.columns:
                crit[name] = pd.to_numeric(ctx[name].reindex(index), errors="coerce").to_numpy(dtype=float)
        sub[f"transit_{cat}"] = distance_subscore(crit[col], c.threshold_min, c.cap_min)
