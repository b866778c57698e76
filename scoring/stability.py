"""Rank stability: how far a candidate's rank moves when every weight varies by ±``spread``.

For each of ``draws`` seeded draws every criterion gets one factor ``m ~ U(1 − spread, 1 + spread)``
(the same factor for all candidates of the draw: a coordinator who values the bus stop a quarter more
values it so everywhere). Each candidate's score is recomputed exactly as the composite score is —
``Σ m·w·s / Σ m·w`` over the criteria that apply to it, with its own (profile) weights — and the
candidates are ranked again with the same sort keys as the real ranking (``groups`` first, e.g.
offered and owner tier; then the score; ties by position). The rank range is the best and worst rank
over the draws, and always contains the real rank (the unvaried weights are draw 0).

Ranks are within the group of candidates given (the caller passes one municipality at a time).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plekzoeker.errors import ConfigError


@dataclass(frozen=True)
class StabilityConfig:
    draws: int
    spread: float
    seed: int

    @classmethod
    def from_config(cls, cfg: dict) -> StabilityConfig:
        """``score.stability``, validated."""
        s = (cfg.get("score") or {}).get("stability")
        if not isinstance(s, dict):
            raise ConfigError(f"config score.stability: {s!r} must be a mapping {{draws, spread, seed}}")
        draws, spread, seed = s.get("draws"), s.get("spread"), s.get("seed")
        if isinstance(draws, bool) or not isinstance(draws, int) or not 0 <= draws <= 100_000:
            raise ConfigError(f"config score.stability.draws: {draws!r} must be a whole number 0..100000")
        if isinstance(spread, bool) or not isinstance(spread, (int, float)) or not 0 <= spread < 1:
            raise ConfigError(f"config score.stability.spread: {spread!r} must be a share in [0, 1)")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigError(f"config score.stability.seed: {seed!r} must be a whole number")
        return cls(draws, float(spread), seed)


def rank_ranges(S: np.ndarray, W: np.ndarray, groups: np.ndarray | None, c: StabilityConfig) -> tuple[np.ndarray, np.ndarray]:
    """Best and worst rank (1 = best) per candidate over the weight draws.

    ``S``: candidates × criteria sub-scores, NaN where a criterion does not apply; ``W``: the same shape,
    each candidate's weights; ``groups``: an integer sort key per candidate ranked before the score
    (lower first), or None.
    """
    n, k = S.shape
    if n == 0:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    applies = ~np.isnan(S)
    Sz, Wz = np.where(applies, S, 0.0), np.where(applies, W, 0.0)
    rng = np.random.default_rng(c.seed)
    factors = np.vstack([np.ones((1, k)), rng.uniform(1 - c.spread, 1 + c.spread, size=(c.draws, k))])
    num = (Sz * Wz) @ factors.T                     # n × draws
    den = Wz @ factors.T
    scores = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    g = np.zeros(n) if groups is None else np.asarray(groups, dtype=float)
    pos = np.arange(n)
    lo = np.full(n, n, dtype=int)
    hi = np.ones(n, dtype=int)
    for d in range(scores.shape[1]):
        order = np.lexsort((pos, -np.round(scores[:, d], 4), g))   # same rounding as the stored score
        rank = np.empty(n, dtype=int)
        rank[order] = np.arange(1, n + 1)
        lo, hi = np.minimum(lo, rank), np.maximum(hi, rank)
    return lo, hi
