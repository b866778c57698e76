"""The ``transit`` config section, read and validated in one place (defaults live in config/default.yaml)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from plekzoeker.errors import ConfigError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HHMM = re.compile(r"^([0-9]{1,2}):([0-5][0-9])$")


def _minutes(key: str, v) -> int:
    m = _HHMM.match(str(v))
    if not m:
        raise ConfigError(f"transit.{key}: {v!r} is not HH:MM (quote it in YAML: \"07:30\")")
    return int(m.group(1)) * 60 + int(m.group(2))


def _positive(key: str, v, allow_zero: bool = False) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise ConfigError(f"transit.{key}: {v!r} is not a number") from None
    if x < 0 or (x == 0 and not allow_zero):
        raise ConfigError(f"transit.{key}: {v!r} must be {'>= 0' if allow_zero else '> 0'}")
    return x


@dataclass(frozen=True)
class CategoryTimes:
    threshold_min: float
    cap_min: float


@dataclass(frozen=True)
class TransitConfig:
    """Validated ``transit`` section; times in seconds where the router needs them."""

    area_buffer_m: float
    date: dt.date | None
    weekday: int                      # 0 = Monday
    window_start_s: int
    window_end_s: int
    every_s: int
    max_travel_s: int
    walk_speed_m_s: float
    max_walk_m: float
    transfer_max_m: float
    count_within_s: int
    min_change_s: int                 # minimum change time at a stop without its own transfers.txt rule
    categories: dict[str, CategoryTimes]

    @property
    def departures(self) -> list[int]:
        """Departure times (seconds of the day) of the window, both ends included."""
        return list(range(self.window_start_s, self.window_end_s + 1, self.every_s))

    @classmethod
    def from_config(cls, cfg: dict) -> TransitConfig:
        t = cfg.get("transit")
        if not isinstance(t, dict):
            raise ConfigError("transit: the section is missing or not a mapping")
        date = t.get("date")
        if date is not None and not isinstance(date, dt.date):
            try:
                date = dt.date.fromisoformat(str(date))
            except ValueError:
                raise ConfigError(f"transit.date: {date!r} is not YYYY-MM-DD (or null)") from None
        wd = str(t.get("weekday")).lower()
        if wd not in WEEKDAYS:
            raise ConfigError(f"transit.weekday: {t.get('weekday')!r} must be one of {', '.join(WEEKDAYS)}")
        start, end = _minutes("window_start", t.get("window_start")), _minutes("window_end", t.get("window_end"))
        if end < start:
            raise ConfigError(f"transit.window_end: {t.get('window_end')} is before window_start {t.get('window_start')}")
        cats = {}
        for name, c in (t.get("categories") or {}).items():
            if not isinstance(c, dict):
                raise ConfigError(f"transit.categories.{name}: must be {{threshold_min: .., cap_min: ..}}")
            thr = _positive(f"categories.{name}.threshold_min", c.get("threshold_min"), allow_zero=True)
            cap = _positive(f"categories.{name}.cap_min", c.get("cap_min"))
            if cap <= thr:
                raise ConfigError(f"transit.categories.{name}: cap_min {cap:g} must exceed threshold_min {thr:g}")
            cats[str(name)] = CategoryTimes(thr, cap)
        unknown = set(cats) - set((cfg.get("access") or {}).get("categories") or {})
        if unknown:
            raise ConfigError(f"transit.categories: {', '.join(sorted(unknown))} not in access.categories")
        return cls(area_buffer_m=_positive("area_buffer_m", t.get("area_buffer_m"), allow_zero=True), date=date,
                   weekday=WEEKDAYS.index(wd), window_start_s=start * 60, window_end_s=end * 60,
                   every_s=int(_positive("every_min", t.get("every_min")) * 60),
                   max_travel_s=int(_positive("max_travel_min", t.get("max_travel_min")) * 60),
                   walk_speed_m_s=_positive("walk_speed_m_s", t.get("walk_speed_m_s")),
                   max_walk_m=_positive("max_walk_m", t.get("max_walk_m"), allow_zero=True),
                   transfer_max_m=_positive("transfer_max_m", t.get("transfer_max_m"), allow_zero=True),
                   count_within_s=int(_positive("count_within_min", t.get("count_within_min")) * 60),
                   categories=cats, min_change_s=int(_positive("min_change_s", t.get("min_change_s"), allow_zero=True)))
