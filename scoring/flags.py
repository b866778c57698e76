"""Quick scan: hard vetoes (not ranked, reason kept) apart from graded flags (ranked, one line each).

A veto is a fact that rules housing out whatever else is true: the zoning plan blocks it, the place
lies in a Natura 2000 area, the building has a demolition permit (noise and flood vetoes are
``score.hard_exclude``, applied in :mod:`plekzoeker.scoring.score`). A flag is work or risk a
coordinator should know before the first call: a monument (extra permits), built before 1994
(asbestos survey), an office without energy label C, a deep floor plan, small units. Each flag has a
penalty; the ``quick_scan`` sub-score is ``1 − Σ penalties`` clipped to [0, 1], so flags grade a
candidate without removing it.

Unknown stays unknown: a fact that is NULL (no source covered the candidate) raises neither a veto nor
a flag, so the absence of a line never claims the opposite. The building age comes from
``result.fact.bouwjaar`` and falls back to BAG ``bouwjaar`` (both name their source in the line).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from plekzoeker.errors import ConfigError

VETOES = ("zoning_blocked", "natura2000", "demolition_permit")
FLAGS = ("monument", "asbestos", "no_label_c", "deep_plan", "small_units")
DEMOLITION_STATUS = "Sloopvergunning verleend"


def _number(section: str, key: str, v, lo: float = 0.0, hi: float = math.inf) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
        raise ConfigError(f"config {section}.{key}: {v!r} must be a number between {lo:g} and {hi:g}")
    return float(v)


@dataclass(frozen=True)
class QuickScanConfig:
    vetoes: frozenset[str]              # the vetoes that apply
    penalties: dict[str, float]         # flag -> penalty in [0, 1]
    asbestos_before_year: int
    deep_plan_m: float
    small_unit_m2: float

    @classmethod
    def from_config(cls, cfg: dict) -> QuickScanConfig:
        """The ``quick_scan`` section, validated (ConfigError naming the key)."""
        q = cfg.get("quick_scan")
        if not isinstance(q, dict):
            raise ConfigError(f"config quick_scan: {q!r} must be a mapping (see config/default.yaml)")
        vetoes, flags = q.get("vetoes") or {}, q.get("flags") or {}
        for name, known, sec in ((vetoes, VETOES, "vetoes"), (flags, FLAGS, "flags")):
            for k in name:
                if k not in known:
                    raise ConfigError(f"config quick_scan.{sec}: {k!r} is not one of {', '.join(known)}")
        for k, v in vetoes.items():
            if not isinstance(v, bool):
                raise ConfigError(f"config quick_scan.vetoes.{k}: {v!r} must be true or false")
        year = q.get("asbestos_before_year")
        if isinstance(year, bool) or not isinstance(year, int) or not 1800 <= year <= 2100:
            raise ConfigError(f"config quick_scan.asbestos_before_year: {year!r} must be a year")
        return cls(frozenset(k for k, v in vetoes.items() if v),
                   {k: _number("quick_scan.flags", k, v, 0.0, 1.0) for k, v in flags.items()},
                   year, _number("quick_scan", "deep_plan_m", q.get("deep_plan_m"), 1e-9),
                   _number("quick_scan", "small_unit_m2", q.get("small_unit_m2"), 1e-9))


@dataclass(frozen=True)
class Facts:
    """What the quick scan looks at for one candidate; None = unknown."""
    kind: str
    zoning_verdict: str | None = None
    zoning: str | None = None
    zoning_rule: str | None = None
    natura2000: str | None = None       # name/source of the Natura 2000 area, when in one
    pand_status: str | None = None
    monument: str | None = None         # rijks | gemeentelijk | none
    bouwjaar: int | None = None
    bouwjaar_source: str | None = None  # '3DBAG/facts' or 'BAG'
    label_rule: bool | None = None
    energy_label: str | None = None
    depth_m: float | None = None
    units_vacant: int | None = None
    vacant_area_m2: float | None = None


def _known(v) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def vetoes(f: Facts, c: QuickScanConfig) -> list[str]:
    """The hard vetoes of one candidate, in words ([] when none or unknown)."""
    out = []
    if "zoning_blocked" in c.vetoes and f.zoning_verdict == "blocked":
        out.append("zoning blocks housing" + (f" ({f.zoning})" if f.zoning else "")
                   + (f": {f.zoning_rule}" if f.zoning_rule else ""))
    if "natura2000" in c.vetoes and _known(f.natura2000) and f.natura2000:
        out.append(f"in a Natura 2000 area ({f.natura2000})" if f.natura2000 is not True else "in a Natura 2000 area")
    if "demolition_permit" in c.vetoes and f.pand_status == DEMOLITION_STATUS:
        out.append("demolition permit granted (BAG)")
    return out


def flags(f: Facts, c: QuickScanConfig) -> list[tuple[str, str]]:
    """The quick-scan flags of one candidate: (flag, line in words); only flags configured in ``flags``."""
    out: list[tuple[str, str]] = []
    if f.monument in ("rijks", "gemeentelijk"):
        out.append(("monument", f"{'rijksmonument' if f.monument == 'rijks' else 'municipal monument'}: "
                                "extra permits for any conversion"))
    if f.kind == "vacant_building":
        if _known(f.bouwjaar) and int(f.bouwjaar) < c.asbestos_before_year:
            out.append(("asbestos", f"built {int(f.bouwjaar)} ({f.bouwjaar_source or 'BAG'}), before "
                                    f"{c.asbestos_before_year}: asbestos survey likely needed"))
        if f.label_rule is True:
            label = f"label {f.energy_label}" if f.energy_label else "no registered label"
            out.append(("no_label_c", f"office without energy label C ({label}): may no longer be used as an "
                                      "office, a reason for the owner to talk"))
        if _known(f.depth_m) and float(f.depth_m) > c.deep_plan_m:
            out.append(("deep_plan", f"deep floor plan ({float(f.depth_m):.0f} m deep): little daylight in the middle"))
        if _known(f.units_vacant) and int(f.units_vacant) > 0 and _known(f.vacant_area_m2):
            mean = float(f.vacant_area_m2) / int(f.units_vacant)
            if mean < c.small_unit_m2:
                out.append(("small_units", f"small units ({mean:.0f} m² on average): little room per home"))
    return [(k, line) for k, line in out if k in c.penalties]


def quick_scan_subscore(found: list[tuple[str, str]], c: QuickScanConfig) -> float:
    """1 − the sum of the penalties of the flags found, clipped to [0, 1]."""
    return max(0.0, 1.0 - sum(c.penalties.get(k, 0.0) for k, _ in found))
