"""Special objects: BAG units that are no place to live (garage boxes, utility huts, tiny units).

CBS leaves special objects out of its vacancy figures, and warns that an over-broad filter once took
about 6,000 Rotterdam offices out of the national count (/work/shared/DOMAIN.md). So every rule here
is narrow, names what it saw, and leaves an ordinary office alone however small its units are:

1. **utility hut** — the unit's building (BAG pand) has a footprint below ``hut_max_footprint_m2``:
   a transformer or gas-pressure kiosk, a pump house, a kiosk. No home has so small a footprint (the
   narrowest canal houses stand on 25 m² and more), whatever the unit's use says.
2. **garage complex** — a unit of at most ``garage_box_max_m2`` in a building where at least
   ``garage_complex_min_units`` units *and* at least ``garage_complex_min_share`` of all its units are
   garage boxes (rule 3). Catches the odd box of a complex registered with another use (a box used as
   a workshop: industriefunctie); it cannot catch an office building, whose small units are offices,
   not boxes, so they never make up the share.
3. **garage box** — a unit whose only gebruiksdoel is *overige gebruiksfunctie* with a floor area of at
   most ``garage_box_max_m2``: BAG registers an addressed garage box or storage unit this way. Only a
   scan that adds *overige gebruiksfunctie* to ``vacancy.gebruiksdoelen`` reads such units at all.
4. **tiny unit** — any unit below ``vacancy.min_unit_area_m2``: less than a single room. A unit with an
   unknown area is no special object (absence of data is no evidence).

The first rule that matches gives the reason. :func:`classify_units` is pure; the per-building
counts it needs come from ``sql/vacancy_units.sql`` (``pand_footprint_m2``, ``pand_units``,
``pand_box_units``, counted over every current unit of the building, not only the scanned uses).
:func:`plekzoeker.scoring.vacancy.aggregate_buildings` leaves special units out of a building's vacant
floor area and writes a ``result.exclusion`` row with the reason when that is what keeps the building
from being a candidate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from plekzoeker.errors import ConfigError

OTHER_USE = "overige gebruiksfunctie"
KEYS = ("hut_max_footprint_m2", "garage_box_max_m2", "garage_complex_min_units", "garage_complex_min_share")


def _number(key: str, v, whole: bool = False, share: bool = False) -> float:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 and not (whole and v != int(v))
    if share:
        ok = ok and 0 < v <= 1
    if not ok:
        what = "a share in (0, 1]" if share else ("a whole number >= 0" if whole else "a number of m2 >= 0")
        raise ConfigError(f"config {key}: {v!r} must be {what}")
    return float(v)


@dataclass(frozen=True)
class SpecialObjects:
    """``vacancy.min_unit_area_m2`` and ``vacancy.special_objects`` (config/default.yaml), validated.
    A threshold of 0 switches its rule off."""

    min_unit_area_m2: float
    hut_max_footprint_m2: float
    garage_box_max_m2: float
    garage_complex_min_units: int
    garage_complex_min_share: float

    @classmethod
    def from_config(cls, cfg: dict) -> SpecialObjects:
        """From the whole config or its ``vacancy`` section (ConfigError naming the key)."""
        v = cfg.get("vacancy", cfg)
        so = v.get("special_objects")
        if not isinstance(so, dict):
            raise ConfigError(f"config vacancy.special_objects: {so!r} must be a mapping of {', '.join(KEYS)}")
        unknown = set(so) - set(KEYS)
        if unknown:
            raise ConfigError(f"config vacancy.special_objects: {sorted(unknown)} unknown; known: {', '.join(KEYS)}")
        missing = [k for k in KEYS if k not in so]
        if missing:
            raise ConfigError(f"config vacancy.special_objects: {', '.join(missing)} missing")
        p = "vacancy.special_objects."
        return cls(_number("vacancy.min_unit_area_m2", v.get("min_unit_area_m2")),
                   _number(p + "hut_max_footprint_m2", so["hut_max_footprint_m2"]),
                   _number(p + "garage_box_max_m2", so["garage_box_max_m2"]),
                   int(_number(p + "garage_complex_min_units", so["garage_complex_min_units"], whole=True)),
                   _number(p + "garage_complex_min_share", so["garage_complex_min_share"], share=True))


def _num(v) -> float | None:
    if v is None or v is pd.NA:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def is_garage_box(uses, area, sc: SpecialObjects) -> bool:
    """Only *overige gebruiksfunctie* and at most ``garage_box_max_m2`` (rule 3; the SQL counts the same)."""
    a = _num(area)
    return sc.garage_box_max_m2 > 0 and a is not None and a <= sc.garage_box_max_m2 and list(uses or []) == [OTHER_USE]


def special_reason(r, sc: SpecialObjects) -> str | None:
    """The reason a unit (a row of ``sql/vacancy_units.sql``) is a special object, or None (module doc)."""
    area = _num(getattr(r, "oppervlakte", None))
    foot = _num(getattr(r, "pand_footprint_m2", None))
    if foot is not None and foot < sc.hut_max_footprint_m2:
        return f"utility hut or kiosk: building footprint {foot:.0f} m2 (below {sc.hut_max_footprint_m2:g} m2)"
    units, boxes = _num(getattr(r, "pand_units", None)), _num(getattr(r, "pand_box_units", None))
    if (units and boxes is not None and area is not None and area <= sc.garage_box_max_m2
            and sc.garage_complex_min_units > 0 and boxes >= sc.garage_complex_min_units
            and boxes / units >= sc.garage_complex_min_share):
        return (f"garage complex: {boxes:.0f} of the building's {units:.0f} units are garage boxes "
                f"({OTHER_USE}, at most {sc.garage_box_max_m2:g} m2)")
    if is_garage_box(getattr(r, "gebruiksdoelen", None), area, sc):
        return f"garage box or storage: {OTHER_USE}, {area:.0f} m2 (at most {sc.garage_box_max_m2:g} m2)"
    if area is not None and area < sc.min_unit_area_m2:
        return f"tiny unit: {area:.0f} m2 (below {sc.min_unit_area_m2:g} m2)"
    return None


def classify_units(units: pd.DataFrame, sc: SpecialObjects) -> pd.Series:
    """Per unit the special-object reason or None, index as ``units``."""
    return pd.Series([special_reason(r, sc) for r in units.itertuples(index=False)], index=units.index, dtype=object)


def exclusion_reason(reasons: pd.Series, areas: pd.Series) -> str:
    """'special object (not a place to live): <the commonest reason>; 40 unit(s), 520 m2' for a building
    whose vacant units are special objects (``reasons``/``areas`` of those units)."""
    common = reasons.value_counts().sort_index().idxmax()
    others = len(reasons) - int((reasons == common).sum())
    tail = f"; {len(reasons)} vacant unit(s), {float(areas.sum()):.0f} m2"
    if others:
        tail += f" ({others} for another special-object reason)"
    return f"special object (not a place to live): {common}{tail}"
