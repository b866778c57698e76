"""Composite score: per-criterion sub-scores in [0, 1], weighted, explained, ranked.

Decays (documented in the README):
- distance criteria: 1 at or below ``threshold_m``, linear to 0 at ``cap_m``, 0 beyond or unreachable;
- ``area``: area / ``area_full_m2`` capped at 1;
- ``vacancy_confidence``: the confidence itself (vacant buildings only);
- ``land_cover`` (plots): ``1 - land_cover_penalty`` of the plot (penalised land cover such as mown
  grass or BGT groenvoorziening, see :mod:`plekzoeker.scoring.plots`); not applicable to buildings;
- ``noise``: 1 at or below ``noise_good_db``, linear to 0 at ``noise_bad_db`` (mean Lden; only when a
  noise raster is registered);
- ``residential``: straight-line distance to the nearest residential area, 1 within
  ``residential_good_m`` (default 500 m), linear to 0 at ``residential_bad_m`` (default 2,000 m); only
  when residential areas are loaded. Weight 0 unless configured, but always in the breakdown.

Context that is stored raw (``criteria``) without a sub-score: ``noise_lden_max_db``,
``flood_depth_max_m`` (when a flood_depth raster is registered) and ``candidates_nearby``.

score = sum(w_c * s_c) / sum(w_c) over the criteria that apply to the candidate, so a plot is not
punished for having no vacancy confidence, and no candidate for a POI category the data does not
cover (``no_data``: no POI of it within its cap of any candidate; see :mod:`plekzoeker.scoring.coverage`). Hard constraints (mean Lden above
``hard_exclude.noise_lden_above_db``, max flood depth above ``hard_exclude.flood_depth_above_m``)
exclude the candidate with the reasons kept: score and rank stay empty. Ranks are dense by score
(ties broken by candidate key, so a rerun gives the same order), overall and per municipality.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .criteria_config import AccessConfig, ScoreConfig
from .transit_score import transit_criteria


def distance_subscore(d: np.ndarray, threshold: float, cap: float) -> np.ndarray:
    """1 up to ``threshold``, linear to 0 at ``cap``; NaN (unreachable) scores 0."""
    d = np.asarray(d, dtype=float)
    s = np.clip((cap - d) / max(cap - threshold, 1e-9), 0.0, 1.0)
    s[d <= threshold] = 1.0
    s[np.isnan(d)] = 0.0
    return s


def linear_between(x: np.ndarray, good: float, bad: float) -> np.ndarray:
    """1 at or better than ``good``, 0 at or worse than ``bad``, linear between (either direction)."""
    x = np.asarray(x, dtype=float)
    s = np.clip((x - bad) / (good - bad), 0.0, 1.0)
    return np.where(np.isnan(x), np.nan, s)


def compute_scores(cands: pd.DataFrame, dist: pd.DataFrame, noise: pd.Series | None, cfg: dict,
                   context: pd.DataFrame | None = None, no_data: Iterable[str] = (),
                   extra: pd.DataFrame | None = None) -> pd.DataFrame:
    """Score candidates.

    ``cands``: candidate_key, kind, municipality, area_m2, confidence.
    ``dist``: index candidate_key, one column per access category (metres, NaN when unreachable).
    ``noise``: mean Lden per candidate_key or None when no noise raster is registered.
    ``context``: optional, index candidate_key; any of the columns ``noise_lden_db`` (mean Lden, used
    when ``noise`` is None), ``noise_lden_max_db``, ``flood_depth_max_m``, ``dist_residential_m``,
    ``candidates_nearby`` (see :func:`plekzoeker.scoring.run.context_frame`).
    ``no_data``: access categories without data where the candidates are
    (:func:`plekzoeker.scoring.coverage.poi_coverage`): their sub-score is not applicable (left out of
    the weighted mean) instead of 0.
    ``extra``: optional, index candidate_key; sub-scores in [0, 1] computed elsewhere (quick_scan, owner,
    long_vacancy: :mod:`plekzoeker.scoring.ranking`), NaN where the criterion does not apply.
    Returns candidate_key, criteria, subscores, weights (dicts), score, rank, rank_municipality, excluded_reason.
    """
    sc, cats = ScoreConfig.from_config(cfg), AccessConfig.from_config(cfg).categories
    weights_cfg = {k: float(v) for k, v in cfg["score"]["weights"].items()}  # this profile's (scoring/ranking.py)
    df = cands.set_index("candidate_key")
    n = len(df)
    crit: dict[str, np.ndarray] = {}
    sub: dict[str, np.ndarray] = {}
    for cat, c in cats.items():
        d = dist[cat].reindex(df.index).to_numpy(dtype=float) if cat in dist.columns else np.full(n, np.nan)
        crit[f"dist_{cat}_m"] = d
        sub[cat] = (np.full(n, np.nan) if cat in no_data
                    else distance_subscore(d, c.threshold_m, c.cap_m))
    crit["area_m2"] = df["area_m2"].to_numpy(dtype=float)
    sub["area"] = np.clip(crit["area_m2"] / sc.area_full_m2, 0.0, 1.0)
    conf = pd.to_numeric(df["confidence"], errors="coerce").to_numpy(dtype=float)
    crit["vacancy_confidence"] = conf
    sub["vacancy_confidence"] = conf  # NaN for plots: criterion does not apply
    if "land_cover_penalty" in df.columns:
        pen = pd.to_numeric(df["land_cover_penalty"], errors="coerce").to_numpy(dtype=float)
        plot = (df["kind"] == "undeveloped_plot").to_numpy() if "kind" in df.columns else np.isfinite(pen)
        pen = np.where(plot & np.isnan(pen), 0.0, pen)      # a plot detected before penalties existed: none
        crit["land_cover_penalty"] = pen
        sub["land_cover"] = np.where(plot, np.clip(1.0 - pen, 0.0, 1.0), np.nan)  # NaN: buildings
    ctx = context if context is not None else pd.DataFrame(index=df.index)
    if noise is None and "noise_lden_db" in ctx.columns:
        noise = ctx["noise_lden_db"]
    if noise is not None:
        nz = pd.to_numeric(noise.reindex(df.index), errors="coerce").to_numpy(dtype=float)
        crit["noise_lden_db"] = nz
        sub["noise"] = linear_between(nz, sc.noise_good_db, sc.noise_bad_db)
    for col in CONTEXT_CRITERIA:
        if col in ctx.columns:
            crit[col] = pd.to_numeric(ctx[col].reindex(df.index), errors="coerce").to_numpy(dtype=float)
    transit_criteria(ctx, df.index, cfg, crit, sub)  # transit_<category>_min etc. (scoring/transit_score.py)
    if "dist_residential_m" in crit:
        sub["residential"] = linear_between(crit["dist_residential_m"], sc.residential_good_m,
                                            sc.residential_bad_m)
    for col in (extra.columns if extra is not None else ()):
        sub[col] = pd.to_numeric(extra[col].reindex(df.index), errors="coerce").to_numpy(dtype=float)
    names = [k for k in sub if weights_cfg.get(k, 0.0) > 0]
    S = np.column_stack([sub[k] for k in names]) if names else np.zeros((n, 0))
    W = np.array([weights_cfg[k] for k in names])
    applies = ~np.isnan(S)
    wsum = (applies * W).sum(axis=1)
    score = np.where(wsum > 0, np.nansum(np.where(applies, S * W, 0.0), axis=1) / np.where(wsum > 0, wsum, 1), np.nan)
    excluded = _exclusions(crit, sc.hard_exclude, n)
    score = np.where(pd.isna(excluded), score, np.nan)
    out = pd.DataFrame({"candidate_key": df.index, "score": np.round(score, 4), "excluded_reason": excluded,
                        "municipality": df["municipality"].to_numpy()})
    out["criteria"] = [{k: _clean(v[i], DIGITS.get(k, 1)) for k, v in crit.items()} for i in range(n)]
    out["subscores"] = [{k: _clean(sub[k][i], 4) for k in sub} for i in range(n)]
    out["weights"] = [{k: weights_cfg.get(k, 0.0) for k in sub if not math.isnan(sub[k][i])} for i in range(n)]
    out["rank"] = _rank(out, None)
    out["rank_municipality"] = _rank(out, "municipality")
    return out.drop(columns=["municipality"])


DIGITS = {"flood_depth_max_m": 2, "land_cover_penalty": 4}       # decimals kept in criteria (default 1)
CONTEXT_CRITERIA = ("noise_lden_max_db", "flood_depth_max_m", "dist_residential_m", "candidates_nearby")
# hard_exclude key -> (criterion, reason); a candidate is excluded when the criterion is above the limit
HARD_EXCLUDE = {"noise_lden_above_db": ("noise_lden_db", "mean noise Lden above {} dB"),
                "flood_depth_above_m": ("flood_depth_max_m", "max flood depth above {} m")}


def _exclusions(crit: dict[str, np.ndarray], hard: dict, n: int) -> np.ndarray:
    """The hard-constraint reasons per candidate ('; '-joined), None where none applies."""
    reasons: list[list[str]] = [[] for _ in range(n)]
    for key, (name, text) in HARD_EXCLUDE.items():
        limit = hard.get(key)
        if limit is None or name not in crit:
            continue
        with np.errstate(invalid="ignore"):
            for i in np.flatnonzero(crit[name] > float(limit)):
                reasons[i].append(text.format(f"{float(limit):g}"))
    return np.array(["; ".join(r) if r else None for r in reasons], dtype=object)


def _rank(out: pd.DataFrame, by: str | None) -> pd.Series:
    ok = out[out["score"].notna()].sort_values(["score", "candidate_key"], ascending=[False, True])
    if by is None:
        r = pd.Series(np.arange(1, len(ok) + 1), index=ok.index)
    else:
        r = ok.groupby(ok[by].fillna(""), sort=False).cumcount() + 1
    return r.reindex(out.index).astype("Int64")


def _clean(v, nd: int = 1):
    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) else round(v, nd)
