"""How many people and homes a candidate could hold: a range from rules of thumb (config ``capacity``).

Buildings: the vacant floor area ``A`` (BAG ``oppervlakte`` of the vacant units) is the basis. When the
number of floors is known (``result.fact.floors``, from 3DBAG) it is cross-checked with floors ×
footprint: a BAG area more than ``floors_tolerance`` above that is impossible for the building, so the
area is capped at floors × footprint (and the basis says so). Then

    people = A / m2_per_person (high bound of m² gives the low count), homes = A / m2_per_home.

Plots: usable area in hectares ``H`` (after exclusions), ``homes = H × homes_per_ha`` and
``people = homes × people_per_home`` (low × low, high × high).

All counts are rounded down (a place holds whole people), so the low bound is never above the high
bound: each bound is monotone in its parameter and the config is validated to have low ≤ high. An
unknown area gives unknown capacity (None), never 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from plekzoeker.errors import ConfigError
from plekzoeker.numbers import finite_or_none


def _pair(section: dict, key: str) -> tuple[float, float]:
    v = section.get(key)
    if (not isinstance(v, (list, tuple)) or len(v) != 2
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0 for x in v) or v[0] > v[1]):
        raise ConfigError(f"config capacity.{key}: {v!r} must be [low, high], two positive numbers with low <= high")
    return float(v[0]), float(v[1])


@dataclass(frozen=True)
class CapacityConfig:
    m2_per_person: tuple[float, float]
    m2_per_home: tuple[float, float]
    homes_per_ha: tuple[float, float]
    people_per_home: tuple[float, float]
    floors_tolerance: float

    @classmethod
    def from_config(cls, cfg: dict) -> CapacityConfig:
        """The ``capacity`` section, validated (ConfigError naming the key)."""
        c = cfg.get("capacity")
        if not isinstance(c, dict):
            raise ConfigError(f"config capacity: {c!r} must be a mapping (see config/default.yaml)")
        tol = c.get("floors_tolerance")
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or tol < 0:
            raise ConfigError(f"config capacity.floors_tolerance: {tol!r} must be a number >= 0")
        return cls(_pair(c, "m2_per_person"), _pair(c, "m2_per_home"), _pair(c, "homes_per_ha"),
                   _pair(c, "people_per_home"), float(tol))


@dataclass(frozen=True)
class Capacity:
    people_low: int | None
    people_high: int | None
    homes_low: int | None
    homes_high: int | None
    basis: str | None


def _num(v) -> float | None:
    """A quantity (area, floors): a number of at least 0, else None (see plekzoeker.numbers)."""
    return finite_or_none(v, minimum=0.0)


def _down(x: float) -> int:
    return int(math.floor(x + 1e-9))


def building_capacity(floor_area_m2, floors, footprint_m2, c: CapacityConfig) -> Capacity:
    """People and homes of a vacant building from its vacant floor area (cross-checked, see module doc)."""
    area, n, foot = _num(floor_area_m2), _num(floors), _num(footprint_m2)
    if area is None:
        return Capacity(None, None, None, None, None)
    basis = f"{area:.0f} m² vacant floor area (BAG)"
    if n and foot:
        gross = n * foot
        if area > gross * (1 + c.floors_tolerance):
            basis = (f"{gross:.0f} m² = {n:.0f} floors × {foot:.0f} m² footprint (BAG says {area:.0f} m², "
                     "more than the building holds)")
            area = gross
        else:
            basis += f", consistent with {n:.0f} floors × {foot:.0f} m² footprint"
    (pl, ph), (hl, hh) = c.m2_per_person, c.m2_per_home
    basis += f"; {pl:g}–{ph:g} m² per person, {hl:g}–{hh:g} m² per home"
    return Capacity(_down(area / ph), _down(area / pl), _down(area / hh), _down(area / hl), basis)


def plot_capacity(usable_area_m2, c: CapacityConfig) -> Capacity:
    """Homes and people of an undeveloped plot from its usable area (see module doc)."""
    area = _num(usable_area_m2)
    if area is None:
        return Capacity(None, None, None, None, None)
    ha = area / 10_000.0
    (dl, dh), (ql, qh) = c.homes_per_ha, c.people_per_home
    homes_low, homes_high = _down(ha * dl), _down(ha * dh)
    basis = (f"{area:.0f} m² usable; {dl:g}–{dh:g} flex homes per hectare, {ql:g}–{qh:g} people per home")
    return Capacity(_down(homes_low * ql), _down(homes_high * qh), homes_low, homes_high, basis)


def capacity(kind: str, area_m2, c: CapacityConfig, floors=None, footprint_m2=None) -> Capacity:
    """The capacity of one candidate of either kind."""
    if kind == "undeveloped_plot":
        return plot_capacity(area_m2, c)
    return building_capacity(area_m2, floors, footprint_m2, c)
