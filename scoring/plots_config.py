"""The ``plots`` section as a frozen type: size, coverage and width rules, land-cover exclusions and penalties.

Built when the config is read (``settings.load_config``); the OSM/BGT class names are checked there too
(``settings.validate_config``: they become SQL parameters and must be classes the readers load). Every key
is required: the defaults and their reasons live in config/default.yaml only.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from plekzoeker.errors import ConfigError

NUMBERS = ("max_building_coverage", "min_area_m2", "min_width_m")
CLASS_LISTS = ("exclude_osm", "exclude_bgt")
PENALTIES = ("penalise_osm", "penalise_bgt")


@dataclass(frozen=True)
class PlotsConfig:
    """The ``plots`` section (documented in config/default.yaml)."""

    max_building_coverage: float
    min_area_m2: float
    min_width_m: float
    exclude_osm: tuple[str, ...]
    exclude_bgt: tuple[str, ...]
    penalise_osm: Mapping[str, float]
    penalise_bgt: Mapping[str, float]
    exclude_raster: Mapping[str, float]

    @property
    def penalties(self) -> dict[str, float]:
        """Penalised class -> penalty, OSM and BGT together (the keys never collide: ``k=v`` vs ``laag:klasse``)."""
        return {**self.penalise_osm, **self.penalise_bgt}

    @classmethod
    def from_config(cls, cfg: dict) -> PlotsConfig:
        """Read and check ``cfg["plots"]`` (one ConfigError line naming a bad key)."""
        p = cfg.get("plots")
        if not isinstance(p, dict):
            raise ConfigError(f"config plots: {p!r} must be a mapping (see config/default.yaml)")
        missing = [k for k in (*NUMBERS, *CLASS_LISTS, *PENALTIES, "exclude_raster") if k not in p]
        if missing:
            raise ConfigError(f"config plots: {', '.join(missing)} missing (see config/default.yaml)")
        nums = {}
        for k in NUMBERS:
            v = p[k]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise ConfigError(f"config plots.{k}: {v!r} must be a number >= 0")
            nums[k] = float(v)
        lists = {}
        for k in CLASS_LISTS:
            if not isinstance(p[k], list):
                raise ConfigError(f"config plots.{k}: {p[k]!r} must be a list of classes")
            lists[k] = tuple(str(x) for x in p[k])
        maps = {}
        for k in PENALTIES:
            m = p[k] or {}
            if not isinstance(m, dict):
                raise ConfigError(f"config plots.{k}: {m!r} must be a mapping of class -> penalty")
            for c, f in m.items():
                if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f <= 1:
                    raise ConfigError(f"config plots.{k}.{c}: {f!r} must be a penalty in (0, 1]")
                if c in lists["exclude_osm"] or c in lists["exclude_bgt"]:
                    raise ConfigError(f"config plots.{k}: {c!r} is also a hard exclusion (exclude_osm / exclude_bgt): "
                                      "choose one")
            maps[k] = MappingProxyType({str(c): float(f) for c, f in m.items()})
        raster = p["exclude_raster"] or {}
        if not isinstance(raster, dict) or any(isinstance(v, bool) or not isinstance(v, (int, float))
                                               for v in raster.values()):
            raise ConfigError(f"config plots.exclude_raster: {raster!r} must be a mapping of raster -> threshold")
        return cls(**nums, **lists, **maps, exclude_raster=MappingProxyType({str(k): float(v) for k, v in raster.items()}))
