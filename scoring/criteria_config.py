"""The ``access`` and ``score`` sections as frozen types: modes, snapping and POI categories; the thresholds
of the composite score's sub-scores and the hard exclusions.

Built when the config is read (``settings.load_config``); OSM tag syntax and category names are checked
there too (``settings.validate_config``: they become SQL parameters and column names). Every key is
required: the defaults and their reasons live in config/default.yaml only. The weights (``score.weights``
and ``score.profiles``) are :class:`plekzoeker.scoring.profiles.Profiles`; ``score.stability`` is
:class:`plekzoeker.scoring.stability.StabilityConfig`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from plekzoeker.errors import ConfigError

MODES = ("walk", "bike")
SCORE_NUMBERS = ("area_full_m2", "noise_good_db", "noise_bad_db", "residential_good_m", "residential_bad_m",
                 "context_radius_m")
HARD_EXCLUDE_KEYS = ("noise_lden_above_db", "flood_depth_above_m")


def _number(key: str, v, positive: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or (positive and v <= 0):
        raise ConfigError(f"config {key}: {v!r} must be a {'positive' if positive else 'non-negative'} number")
    return float(v)


@dataclass(frozen=True)
class Category:
    """One POI category: the OSM tags that make a POI of it, and its distance thresholds."""

    tags: tuple[str, ...]
    unless: tuple[str, ...]
    threshold_m: float
    cap_m: float


@dataclass(frozen=True)
class AccessConfig:
    """The ``access`` section (documented in config/default.yaml)."""

    modes: tuple[str, ...]
    max_snap_m: float
    snap_to: str
    categories: Mapping[str, Category]

    @property
    def main_mode(self) -> str:
        """The mode whose distances the score uses (the first listed)."""
        return self.modes[0]

    @classmethod
    def from_config(cls, cfg: dict) -> AccessConfig:
        """Read and check ``cfg["access"]`` (one ConfigError line naming a bad key)."""
        a = cfg.get("access")
        if not isinstance(a, dict) or not {"modes", "max_snap_m", "snap_to", "categories"} <= set(a):
            raise ConfigError("config access: modes, max_snap_m, snap_to and categories are required "
                              "(see config/default.yaml)")
        modes = a["modes"]
        if not isinstance(modes, list) or not modes or any(m not in MODES for m in modes):
            raise ConfigError(f"config access.modes: {modes!r} must be a non-empty list of {', '.join(MODES)}")
        if a["snap_to"] not in ("edge", "node"):
            raise ConfigError(f"config access.snap_to: {a['snap_to']!r} must be edge or node")
        if not isinstance(a["categories"], dict):
            raise ConfigError(f"config access.categories: {a['categories']!r} must be a mapping of categories")
        cats = {}
        for name, c in a["categories"].items():
            if not isinstance(c, dict) or "tags" not in c:
                raise ConfigError(f"config access.categories.{name}: must give tags, threshold_m and cap_m")
            t = _number(f"access.categories.{name}.threshold_m", c.get("threshold_m"), positive=True)
            cap = _number(f"access.categories.{name}.cap_m", c.get("cap_m"), positive=True)
            if cap < t:
                raise ConfigError(f"config access.categories.{name}.cap_m: {cap:g} must be at least threshold_m ({t:g})")
            cats[str(name)] = Category(tuple(c["tags"] or ()), tuple(c.get("unless") or ()), t, cap)
        return cls(tuple(modes), _number("access.max_snap_m", a["max_snap_m"]), a["snap_to"], MappingProxyType(cats))


@dataclass(frozen=True)
class ScoreConfig:
    """The thresholds of the ``score`` section (documented in config/default.yaml)."""

    area_full_m2: float
    noise_good_db: float
    noise_bad_db: float
    residential_good_m: float
    residential_bad_m: float
    context_radius_m: float
    hard_exclude: Mapping[str, float | None]

    @classmethod
    def from_config(cls, cfg: dict) -> ScoreConfig:
        """Read and check ``cfg["score"]`` (one ConfigError line naming a bad key)."""
        s = cfg.get("score")
        if not isinstance(s, dict):
            raise ConfigError(f"config score: {s!r} must be a mapping (see config/default.yaml)")
        missing = [k for k in (*SCORE_NUMBERS, "hard_exclude") if k not in s]
        if missing:
            raise ConfigError(f"config score: {', '.join(missing)} missing (see config/default.yaml)")
        nums = {k: _number(f"score.{k}", s[k], positive=k in ("area_full_m2", "context_radius_m")) for k in SCORE_NUMBERS}
        if nums["noise_bad_db"] <= nums["noise_good_db"] or nums["residential_bad_m"] <= nums["residential_good_m"]:
            raise ConfigError("config score: noise_bad_db must be above noise_good_db and residential_bad_m above "
                              "residential_good_m")
        hard = s["hard_exclude"] or {}
        if not isinstance(hard, dict) or set(hard) != set(HARD_EXCLUDE_KEYS):
            raise ConfigError(f"config score.hard_exclude: {hard!r} must give each of {', '.join(HARD_EXCLUDE_KEYS)} "
                              "(null: no such exclusion)")
        limits = {k: (None if hard.get(k) is None else _number(f"score.hard_exclude.{k}", hard[k]))
                  for k in HARD_EXCLUDE_KEYS}
        return cls(**nums, hard_exclude=MappingProxyType(limits))
