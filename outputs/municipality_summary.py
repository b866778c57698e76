"""Per municipality: supply (people capacity of its candidates) against demand, and the data coverage.

Goes into ``summary.json`` (``municipalities``), the lists' *about* sheet and ``coverage.md``:

- candidates per kind (ranked, and vetoed), the capacity totals (sum of the low and of the high bounds:
  a range of what all ranked places together could house), places offered by owners;
- the demand when given (``demand`` in the config and/or the CSV of ``inputs.demand``, merged by
  outputs/demand.py: the half-yearly status-holder target of the Huisvestingswet 2014, a homelessness
  estimate, their period and source) and the share of it the capacity covers, low–high;
- the coverage: which inputs were loaded and when, the share of units of the scanned uses that any
  signal speaks about, and what is missing that would change the list most, in words.

Totals add only known capacities; a candidate of unknown capacity is counted in ``capacity_unknown``.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from plekzoeker.outputs.demand import Demand, DemandConfig

from .report import coverage as input_coverage

_SQL = Path(__file__).parent / "sql"
COVERAGE_SQL = (_SQL / "municipality_coverage.sql").read_text()
VETOED_SQL = (_SQL / "municipality_vetoed.sql").read_text()
FACTS_SQL = "SELECT count(*) FROM result.fact"
# input kind -> what its absence means for the list (most consequential first)
MISSING = {
    "signal:vacancy": "no vacancy register: the strongest vacancy signal is unused",
    "signal:establishments": "no establishments export: the 'no business registered' signal is unused",
    "owners": "no owner export: owner priority, the owner criterion and the grouping by owner are unused",
    "facts": "no facts in result.fact (zoning, energy labels, monuments, floors): zoning and Natura 2000 vetoes, "
             "monument and label-C flags are unknown, capacity is not cross-checked with floors",
    "signal:energy": "no energy-use export: the 'low energy use' signal is unused",
    "raster:noise_lden": "no noise raster: noise is neither scored nor a veto",
    "signal:listings": "no listings export: 'for rent/sale a long time' is unused",
    "bgt": "no BGT: paved yards, roads and water on plots come from OSM alone",
}
def _int_sum(s: pd.Series) -> int:
    return int(pd.to_numeric(s, errors="coerce").dropna().sum())


def capacity_totals(ranked: pd.DataFrame) -> dict[str, dict]:
    """Per municipality: ranked candidates per kind, capacity totals, offered places."""
    out: dict[str, dict] = {}
    if ranked.empty:
        return out
    for gm, part in ranked.groupby(ranked["municipality"].fillna("unknown")):
        out[str(gm)] = {
            "candidates": {str(k): int(n) for k, n in part["kind"].value_counts().sort_index().items()},
            "people_low": _int_sum(part["people_low"]), "people_high": _int_sum(part["people_high"]),
            "homes_low": _int_sum(part["homes_low"]), "homes_high": _int_sum(part["homes_high"]),
            "capacity_unknown": int(pd.to_numeric(part["people_low"], errors="coerce").isna().sum()),
            "offered": int(part["offered"].fillna(False).astype(bool).sum()),
        }
    return out


def _demand_dict(d: Demand | None, low: int, high: int) -> dict | None:
    if d is None:
        return None
    out = {"status_holders": d.status_holders, "homeless": d.homeless, "people": d.people, "source": d.source,
           "period": d.period}
    if d.people:
        out["covered_share_low"], out["covered_share_high"] = round(low / d.people, 3), round(high / d.people, 3)
    return out


def municipality_report(conn: sa.Connection, ranked: pd.DataFrame, cfg: dict, profiles: dict | None = None) -> dict:
    """The per-municipality summary (see the module doc); ``profiles``: the weights stored with the run."""
    demand = DemandConfig.from_config(cfg)
    totals = capacity_totals(ranked)
    uses = list(cfg["vacancy"]["gebruiksdoelen"])
    cov = {r["municipality"]: r for r in conn.execute(sa.text(COVERAGE_SQL), {"uses": uses}).mappings()}
    vetoed: dict[str, dict] = {}
    for r in conn.execute(sa.text(VETOED_SQL)).mappings():
        vetoed.setdefault(r["municipality"] or "unknown", {})[r["kind"]] = int(r["n"])
    inputs = input_coverage(conn)
    loaded = {r["kind"] for r in inputs}
    if conn.execute(sa.text(FACTS_SQL)).scalar():
        loaded.add("facts")
    missing = [text for kind, text in MISSING.items() if kind not in loaded]
    gms = sorted(set(totals) | set(demand.by_municipality) | set(vetoed))
    out = {}
    for gm in gms:
        t = totals.get(gm, {"candidates": {}, "people_low": 0, "people_high": 0, "homes_low": 0, "homes_high": 0,
                            "capacity_unknown": 0, "offered": 0})
        c = cov.get(gm)
        used = sorted(set(ranked.loc[ranked["municipality"] == gm, "profile"].dropna())) if len(ranked) else []
        name = used[0] if used else (gm if profiles and gm in profiles else "default")
        out[gm] = {**t, "vetoed": vetoed.get(gm, {}), "profile": name,
                   "weights": (profiles or {}).get(name),
                   "demand": _demand_dict(demand.by_municipality.get(gm), t["people_low"], t["people_high"]),
                   "coverage": {
                       "inputs": {r["kind"]: _iso(r["loaded_at"]) for r in inputs},
                       "units_scanned": int(c["units"]) if c else 0,
                       "units_with_signal": int(c["units_with_signal"]) if c else 0,
                       "share_with_signal": round(int(c["units_with_signal"]) / int(c["units"]), 3) if c and c["units"] else None,
                       "missing": missing}}
    return out


def _iso(v) -> str | None:
    return v.isoformat(timespec="seconds") if isinstance(v, dt.datetime) else (str(v) if v is not None else None)


def supply_line(gm: str, m: dict) -> str:
    """'GM9999: 12 candidates could house 280–600 people (190–380 homes); demand 150 people (...): 187–400 %'."""
    n = sum(m["candidates"].values())
    line = (f"{gm}: {n} ranked candidate(s) could house {m['people_low']}–{m['people_high']} people "
            f"({m['homes_low']}–{m['homes_high']} homes)")
    if m["capacity_unknown"]:
        line += f", {m['capacity_unknown']} of unknown capacity"
    d = m.get("demand")
    if d and d.get("people"):
        line += (f"; demand {d['people']} people ({d['status_holders'] or 0} status holders, {d['homeless'] or 0} "
                 f"homeless{'; ' + d['period'] if d.get('period') else ''}{'; ' + d['source'] if d.get('source') else ''}): "
                 "capacity covers "
                 f"{d['covered_share_low'] * 100:.0f}–{d['covered_share_high'] * 100:.0f} %")
    else:
        line += "; no demand configured (config demand or inputs.demand)"
    return line


def about_lines(report: dict) -> list[str]:
    """Lines for the lists' about sheet: supply against demand, vetoes, what is missing."""
    lines = [supply_line(gm, m) for gm, m in report.items()]
    for gm, m in report.items():
        if m.get("weights"):
            lines.append(f"{gm}: scored with profile {m['profile']}: "
                         + ", ".join(f"{k} {v:g}" for k, v in m["weights"].items() if v))
    for gm, m in report.items():
        if m["vetoed"]:
            lines.append(f"{gm}: vetoed (not ranked, reasons in the list): "
                         + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(m["vetoed"].items())))
    missing = next(iter(report.values()))["coverage"]["missing"] if report else []
    lines += [f"missing: {text}" for text in missing]
    return lines


def coverage_markdown(report: dict, published_at: str) -> str:
    """``coverage.md``: per municipality the inputs, the signal share, candidates, capacity and what is missing."""
    out = [f"# Coverage per municipality ({published_at})", ""]
    for gm, m in report.items():
        c = m["coverage"]
        out += [f"## {gm}", "", supply_line(gm, m), "",
                f"- profile (weights): {m['profile']}",
                "- candidates: " + (", ".join(f"{n} {k.replace('_', ' ')}" for k, n in m["candidates"].items()) or "none")
                + ("; vetoed: " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in m["vetoed"].items()) if m["vetoed"] else ""),
                f"- offered by owners: {m['offered']}",
                f"- units of the scanned uses: {c['units_scanned']}, of which {c['units_with_signal']} with any signal"
                + (f" ({c['share_with_signal'] * 100:.0f} %)" if c["share_with_signal"] is not None else ""),
                "- inputs: " + (", ".join(f"{k} ({v})" for k, v in sorted(c["inputs"].items())) or "none"), ""]
        if c["missing"]:
            out += ["What is missing that would change the list most:", ""] + [f"- {t}" for t in c["missing"]] + [""]
    return "\n".join(out)
