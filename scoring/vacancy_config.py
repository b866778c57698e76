"""The ``vacancy`` section as a frozen type: which units count, the evidence weights, the special objects.

Read once from the config (``settings.load_config`` builds it, so a bad value is one line at start) and
handed to the pure functions of :mod:`plekzoeker.scoring.vacancy`. Every key is required: the defaults
and their reasons live in config/default.yaml only.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from plekzoeker.errors import ConfigError
from plekzoeker.scoring.special_objects import SpecialObjects

GEBRUIKSDOELEN = frozenset({"woonfunctie", "bijeenkomstfunctie", "celfunctie", "gezondheidszorgfunctie",
                            "industriefunctie", "kantoorfunctie", "logiesfunctie", "onderwijsfunctie", "sportfunctie",
                            "winkelfunctie", "overige gebruiksfunctie"})
SIGNALS = ("bag_status_buiten_gebruik", "bag_pand_buiten_gebruik", "bag_long_renovation", "vacancy_register",
           "no_establishment", "low_energy", "listed_long")
COUNTER_SIGNALS = ("active_establishment", "normal_energy")
NUMBERS = ("min_building_area_m2", "min_confidence", "long_renovation_days", "low_energy_kwh_per_m2", "listed_long_days")


def _weights(key: str, raw, names: tuple[str, ...]) -> Mapping[str, float]:
    if not isinstance(raw, dict) or set(raw) != set(names):
        got = sorted(raw) if isinstance(raw, dict) else raw
        raise ConfigError(f"config vacancy.{key}: {got!r} must give a weight for each of {', '.join(names)}")
    out = {}
    for k, v in raw.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
            raise ConfigError(f"config vacancy.{key}.{k}: {v!r} must be a weight in [0, 1]")
        out[k] = float(v)
    return MappingProxyType(out)


@dataclass(frozen=True)
class VacancyConfig:
    """The ``vacancy`` section (documented in config/default.yaml)."""

    gebruiksdoelen: tuple[str, ...]
    min_building_area_m2: float
    min_confidence: float
    long_renovation_days: float
    low_energy_kwh_per_m2: float
    listed_long_days: float
    weights: Mapping[str, float]
    counter_weights: Mapping[str, float]
    special: SpecialObjects

    @classmethod
    def from_config(cls, cfg: dict) -> VacancyConfig:
        """Read and check ``cfg["vacancy"]`` (one ConfigError line naming a bad key)."""
        v = cfg.get("vacancy")
        if not isinstance(v, dict):
            raise ConfigError(f"config vacancy: {v!r} must be a mapping (see config/default.yaml)")
        doelen = v.get("gebruiksdoelen")
        if not isinstance(doelen, list) or not doelen:
            raise ConfigError(f"config vacancy.gebruiksdoelen: {doelen!r} must be a list of BAG gebruiksdoelen")
        for d in doelen:
            if d not in GEBRUIKSDOELEN:
                raise ConfigError(f"config vacancy.gebruiksdoelen: {d!r} is not a BAG gebruiksdoel "
                                  f"({', '.join(sorted(GEBRUIKSDOELEN))})")
        nums = {}
        for k in NUMBERS:
            x = v.get(k)
            if isinstance(x, bool) or not isinstance(x, (int, float)) or x < 0 or (k == "min_confidence" and x > 1):
                raise ConfigError(f"config vacancy.{k}: {x!r} must be a number >= 0" + (" and <= 1" if k == "min_confidence"
                                                                                        else ""))
            nums[k] = float(x)
        return cls(gebruiksdoelen=tuple(doelen), weights=_weights("weights", v.get("weights"), SIGNALS),
                   counter_weights=_weights("counter_weights", v.get("counter_weights"), COUNTER_SIGNALS),
                   special=SpecialObjects.from_config(cfg), **nums)
