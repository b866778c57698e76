"""The facts step: fill result.fact for every candidate, inside the detect stage's transaction.

Runs as the detect stage's ``post_sql`` (scoring/detect.py), after the candidates are in their staging
table and before anything is swapped, so result.candidate, result.exclusion and result.fact always
come from the same run and a rerun replaces all three (idempotent). Per candidate:

* **zoning**: the main-use zoning objects under it (IMRO enkelbestemming, Omgevingsplan functie), each
  cut to the part no higher-priority plan covers (``facts.zoning.status_rank``, then the later plan
  date: an adopted or newer plan wins over a draft or older one where they overlap; sql/facts.sql).
  The groups' area shares, largest first, give ``zoning`` ("kantoor" or "kantoor (70%), groen
  (30%)"); the largest group decides ``zoning_verdict`` through ``facts.zoning.verdicts`` (or
  ``default_verdict``), and ``zoning_rule`` says which key decided; ``zoning_plan`` is the plan of the
  largest share. No zoning object under the candidate: all NULL (unknown).
* **energy_label / label_rule** (buildings): the worst newest label among the building's office units;
  the rule (Bouwbesluit 2012 art. 5.11) applies when the office use exceeds
  ``facts.label_rule.min_office_area_m2``, some office unit has no label or one worse than
  ``required_label``, and the building is no monument. It does not apply (false) to a small office
  area, a monument, or offices all labelled well enough; it is unknown (NULL) when no labels are
  loaded, or when the building's monument status is unknown and the rule would otherwise apply.
  Where it applies it is also a vacancy signal: one evidence item of weight ``facts.label_rule.weight``
  noisy-OR'ed into the confidence (``1 - (1 - c)(1 - w)``), so such an office ranks up with that
  evidence.
* **monument**: rijks / gemeentelijk by pand id, unit ids or geometry; 'none' only when a monument
  list was loaded (``sources`` names which lists were checked), else NULL.
* **zoning details** of the plan that decided the verdict (``zoning_plan``; objects of an overridden
  plan say nothing about this place): ``zoning_functions`` (the Functieaanduidingen on the candidate,
  e.g. "kantoor"), ``zoning_max_floors`` / ``zoning_max_height_m`` / ``zoning_max_coverage_pct``
  (Maatvoering "maximum aantal bouwlagen" / "maximum bouwhoogte (m)" / "maximum
  bebouwingspercentage (%)"; where several cover the candidate, the one covering the largest part of
  it, as for the main group) and ``bouwvlak_pct`` (the share of the candidate inside a Bouwvlak: a
  temporary home outside one needs a deviation; 0 only when that plan has Bouwvlakken, else unknown).
  An object must cover at least 1 m² and 1 % of the candidate, so a neighbour's object touching the
  edge is not this candidate's rule.
* **bouwjaar** (BAG), **floors** and **height_m** (3DBAG ``b3_bouwlagen``, ``b3_h_dak_70p -
  b3_h_maaiveld``; where 3DBAG has none, OSM ``building:levels`` / ``height`` of the building tagged
  with the pand id (``ref:bag``) or standing in the pand, named as such in ``sources``); floors x
  footprint (3DBAG ``b3_opp_grond``, else the BAG pand's area) against the BAG floor area is kept in
  the candidate's details as ``floor_area_check``.

Plots are excluded (moved to result.exclusion with the reason) when their zoning verdict is blocked
(``facts.exclude_blocked_plots``), when they overlap Natura 2000 land by more than
``facts.natura2000_min_overlap_m2``, or lie within ``facts.power_line_buffer_m`` of a ``power=line``.
The rules are pure functions (:func:`zoning_fact`, :func:`label_fact`, :func:`monument_fact`) tested
on their own; the SQL only gathers what they need.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from plekzoeker.errors import ConfigError

log = logging.getLogger(__name__)

SQL_FILE = Path(__file__).with_name("sql") / "facts.sql"
VERDICTS = ("allowed", "deviation", "blocked")
LABEL_ORDER = ("A++++", "A+++", "A++", "A+", "A", "B", "C", "D", "E", "F", "G")  # best first
FACT_COLUMNS = ("candidate_key", "zoning", "zoning_verdict", "zoning_rule", "zoning_plan", "energy_label", "label_rule",
                "monument", "bouwjaar", "floors", "height_m", "sources", "run_id", "zoning_functions",
                "zoning_max_floors", "zoning_max_height_m", "zoning_max_coverage_pct", "bouwvlak_pct")
# Maatvoering waardeType (IMRO2012 lists them; lower case, as plans write them) -> the fact it fills
MAATVOERING = {"maximum aantal bouwlagen": "zoning_max_floors", "maximum bouwhoogte (m)": "zoning_max_height_m",
               "maximum bebouwingspercentage (%)": "zoning_max_coverage_pct"}
DETAIL_FACTS = ("zoning_functions", *MAATVOERING.values(), "bouwvlak_pct")


@dataclass(frozen=True)
class FactsConfig:
    """The ``facts`` section of the config (documented in config/default.yaml)."""

    verdicts: dict[str, str]
    default_verdict: str
    status_rank: dict[str, int]
    exclude_blocked_plots: bool
    natura2000_min_overlap_m2: float
    power_line_buffer_m: float
    min_office_area_m2: float
    required_label: str
    label_weight: float

    @classmethod
    def from_config(cls, cfg: dict) -> FactsConfig:
        """Read and check ``cfg["facts"]``; a wrong value is one ConfigError line."""
        try:
            f = cfg["facts"]
            z, lr = f["zoning"], f["label_rule"]
            out = cls(verdicts={str(k).lower(): str(v) for k, v in (z["verdicts"] or {}).items()},
                      default_verdict=str(z["default_verdict"]),
                      status_rank={str(k).lower(): int(v) for k, v in (z["status_rank"] or {}).items()},
                      exclude_blocked_plots=bool(f["exclude_blocked_plots"]),
                      natura2000_min_overlap_m2=float(f["natura2000_min_overlap_m2"]),
                      power_line_buffer_m=float(f["power_line_buffer_m"]),
                      min_office_area_m2=float(lr["min_office_area_m2"]), required_label=str(lr["required_label"]),
                      label_weight=float(lr["weight"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"facts: missing or invalid setting ({type(exc).__name__}: {exc}); "
                              "see config/default.yaml") from None
        bad = {k: v for k, v in out.verdicts.items() if v not in VERDICTS}
        if bad or out.default_verdict not in VERDICTS:
            raise ConfigError(f"facts.zoning.verdicts: {bad or out.default_verdict} is not one of {', '.join(VERDICTS)}")
        if out.required_label not in LABEL_ORDER:
            raise ConfigError(f"facts.label_rule.required_label: {out.required_label!r} is not one of A++++ .. G")
        if not 0 <= out.label_weight <= 1:
            raise ConfigError(f"facts.label_rule.weight: {out.label_weight} is not in [0, 1]")
        if out.power_line_buffer_m < 0 or out.natura2000_min_overlap_m2 < 0:
            raise ConfigError("facts: power_line_buffer_m and natura2000_min_overlap_m2 must be >= 0")
        return out


# --- the rules (pure) ------------------------------------------------------------------------------
def zoning_fact(rows: list[tuple[str, str, str, float]], fc: FactsConfig) -> dict:
    """Zoning facts from (regime, plan_id, hoofdgroep, area_m2) rows of one candidate.

    Returns zoning, zoning_verdict, zoning_rule, zoning_plan and the source ('imro:<plan>' / 'dso:<plan>');
    all None when nothing with an area covers the candidate."""
    by_group: dict[str, float] = {}
    by_plan: dict[tuple[str, str, str], float] = {}
    for regime, plan, group, area in rows:
        if area is None or area <= 0.01 or not group:
            continue
        by_group[group] = by_group.get(group, 0.0) + area
        by_plan[(group, regime, plan)] = by_plan.get((group, regime, plan), 0.0) + area
    if not by_group:
        return {"zoning": None, "zoning_verdict": None, "zoning_rule": None, "zoning_plan": None, "source": None}
    total = sum(by_group.values())
    ranked = sorted(by_group.items(), key=lambda kv: (-kv[1], kv[0]))
    main = ranked[0][0]
    shares = [(g, a / total) for g, a in ranked if a / total >= 0.005]
    text = main if len(shares) == 1 else ", ".join(f"{g} ({s:.0%})" for g, s in shares)
    if main in fc.verdicts:
        verdict, key = fc.verdicts[main], f"facts.zoning.verdicts.{main}"
    else:
        verdict, key = fc.default_verdict, "facts.zoning.default_verdict"
    rule = f"main group {main} ({ranked[0][1] / total:.0%} of the area) -> {verdict} ({key})"
    (_, regime, plan), _ = max(((k, a) for k, a in by_plan.items() if k[0] == main), key=lambda kv: (kv[1], kv[0][2]))
    return {"zoning": text, "zoning_verdict": verdict, "zoning_rule": rule, "zoning_plan": plan,
            "source": f"{regime}:{plan}"}


def _number(text: str | None) -> float | None:
    try:
        return float(str(text).strip().replace(",", "."))
    except (TypeError, ValueError):
        return None


def zoning_details_fact(rows: list[tuple[str, str, str | None, str | None, str | None, float]], plan: str | None,
                        area_m2: float, plan_has_bouwvlak: bool) -> dict:
    """Detail facts of one candidate from (plan_id, objecttype, naam, waarde, waarde_type, area_m2) rows:
    only the rows of ``plan`` (the plan that decided the zoning) that cover >= 1 m² and >= 1 % of the
    candidate count. All None when ``plan`` is None (no zoning known)."""
    out: dict = dict.fromkeys(DETAIL_FACTS)
    if plan is None:
        return out
    floor = max(1.0, 0.01 * area_m2)
    mine = [r for r in rows if r[0] == plan and r[5] is not None and r[5] >= floor]
    functions = sorted({str(n).strip() for _p, t, n, _w, _wt, _a in mine if t == "functieaanduiding" and n})
    out["zoning_functions"] = ", ".join(functions) or None
    for fact in MAATVOERING.values():
        best = None
        for _p, t, _n, w, wt, a in mine:
            v = _number(w)
            if t == "maatvoering" and v is not None and MAATVOERING.get(str(wt or "").strip().lower()) == fact:
                if best is None or (a, -v) > (best[0], -best[1]):
                    best = (a, v)
        if best is not None:
            out[fact] = int(best[1]) if fact == "zoning_max_floors" else best[1]
    inside = sum(a for _p, t, _n, _w, _wt, a in rows if t == "bouwvlak" and _p == plan and a)
    if plan_has_bouwvlak and area_m2 > 0:
        out["bouwvlak_pct"] = round(min(100.0, 100.0 * inside / area_m2), 1)
    return out


def label_rank(label: str | None) -> int | None:
    """Position in A++++ .. G (0 = best), None for no label."""
    return LABEL_ORDER.index(label) if label in LABEL_ORDER else None


def label_fact(office_m2: float, labels: list[str | None], monument: str | None, labels_loaded: bool,
               fc: FactsConfig) -> tuple[str | None, bool | None]:
    """(energy_label, label_rule) of a building: the worst label among its office units and whether the
    office label-C obligation applies (see the module docstring for true / false / unknown)."""
    if not labels_loaded:
        return None, None
    known = [lb for lb in labels if label_rank(lb) is not None]
    worst = max(known, key=label_rank) if known else None
    if office_m2 <= fc.min_office_area_m2:
        return worst, False
    limit = label_rank(fc.required_label)
    short = any(label_rank(lb) is None or label_rank(lb) > limit for lb in labels) or not labels
    if not short:
        return worst, False
    if monument in ("rijks", "gemeentelijk"):
        return worst, False
    if monument is None:
        return worst, None
    return worst, True


def monument_fact(kinds: list[str] | None, loaded_kinds: list[str]) -> str | None:
    """'rijks' over 'gemeentelijk'; 'none' when some list was loaded and nothing matched; else unknown."""
    kinds = kinds or []
    if "rijks" in kinds:
        return "rijks"
    if "gemeentelijk" in kinds:
        return "gemeentelijk"
    return "none" if loaded_kinds else None


def plot_exclusion(verdict: str | None, zoning: str | None, rule: str | None, natura2000: str | None,
                   power_line_m: float | None, fc: FactsConfig) -> str | None:
    """The reason a plot is excluded by its facts, or None."""
    if natura2000:
        return f"Natura 2000: {natura2000}"
    if verdict == "blocked" and fc.exclude_blocked_plots:
        return f"zoning blocked: {zoning} ({rule.rsplit('(', 1)[-1].rstrip(')') if rule else 'facts.zoning'})"
    if power_line_m is not None:
        return f"within {fc.power_line_buffer_m:g} m of a high-voltage line (power=line, {power_line_m:g} m)"
    return None


# --- the step ----------------------------------------------------------------------------------------
def _queries() -> dict[str, str]:
    parts = re.split(r"^-- name: (\w+)\s*$", SQL_FILE.read_text(), flags=re.M)
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts), 2)}


def _fetch(cur, sql: str, params: dict | None = None) -> list[dict]:
    cur.execute(sql, params or {})
    names = [d.name for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _label_phrase(office_m2: float, labels: list[str | None], fc: FactsConfig) -> str:
    missing = sum(1 for lb in labels if label_rank(lb) is None)
    worse = sorted({lb for lb in labels if label_rank(lb) is not None and label_rank(lb) > label_rank(fc.required_label)},
                   key=label_rank)
    what = ", ".join(([f"{missing} office unit(s) without a label"] if missing else [])
                     + ([f"label {'/'.join(worse)}"] if worse else []))
    return (f"{office_m2:,.0f} m² office use without energy label {fc.required_label} or better ({what}): "
            "may not be used as an office since 2023")


def apply_facts(cur, staged: dict[str, str], cfg: dict, run_id: int) -> dict:
    """Fill result.fact for the candidates in the detect load's candidate staging table, add the
    label-rule evidence, and move plots excluded by a fact into its exclusion staging table
    (``staged``: table → qualified staging table, as the loader hands ``post_sql``).
    Returns counts for the stage summary."""
    fc = FactsConfig.from_config(cfg)
    q = {k: v.replace("{cand}", staged["candidate"]).replace("{excl}", staged["exclusion"])
         for k, v in _queries().items()}
    loaded = _fetch(cur, q["loaded"])[0]
    cands = _fetch(cur, f"SELECT candidate_key, kind FROM {staged['candidate']} ORDER BY candidate_key")
    zrows: dict[str, list] = {}
    if loaded["zoning"]:
        for r in _fetch(cur, q["zoning"], {"ranks": json.dumps(fc.status_rank)}):
            zrows.setdefault(r["candidate_key"], []).append((r["regime"], r["plan_id"], r["hoofdgroep"], r["area_m2"]))
    drows: dict[str, list] = {}
    areas: dict[str, float] = {}
    bv_plans: set[str] = set()
    if loaded["zoning"]:
        for r in _fetch(cur, q["zoning_details"]):
            drows.setdefault(r["candidate_key"], []).append(
                (r["plan_id"], r["objecttype"], r["naam"], r["waarde"], r["waarde_type"], r["area_m2"]))
        areas = {r["candidate_key"]: float(r["area_m2"] or 0) for r in _fetch(cur, q["candidate_areas"])}
        bv_plans = {r["plan_id"] for r in _fetch(cur, q["bouwvlak_plans"])}
    bld = {r["candidate_key"]: r for r in _fetch(cur, q["buildings"])}
    mon = {r["candidate_key"]: r for r in _fetch(cur, q["monuments"])} if loaded["monument_kinds"] else {}
    hazards = {r["candidate_key"]: r for r in _fetch(cur, q["plot_hazards"], {
        "n2k_min_m2": fc.natura2000_min_overlap_m2, "power_buffer_m": fc.power_line_buffer_m})}
    facts, excluded, label_ev, checks = [], {}, [], []
    for c in cands:
        key = c["candidate_key"]
        z = zoning_fact(zrows.get(key, []), fc) if loaded["zoning"] else zoning_fact([], fc)
        m = mon.get(key)
        monument = monument_fact(m["kinds"] if m else None, loaded["monument_kinds"])
        src = {}
        if z["source"]:
            src["zoning"] = z["source"]
        if monument is not None:
            src["monument"] = m["files"] if m else "checked: " + ", ".join(sorted(loaded["monument_kinds"]))
        row = {"candidate_key": key, **{k: z[k] for k in ("zoning", "zoning_verdict", "zoning_rule", "zoning_plan")},
               "energy_label": None, "label_rule": None, "monument": monument, "bouwjaar": None, "floors": None,
               "height_m": None, "run_id": run_id,
               **zoning_details_fact(drows.get(key, []), z["zoning_plan"], areas.get(key, 0.0),
                                     z["zoning_plan"] in bv_plans)}
        if any(row[k] is not None for k in DETAIL_FACTS):
            src["zoning_details"] = z["source"]
        b = bld.get(key)
        if b is not None:
            labels = list(b["labels"] or [])
            row["energy_label"], row["label_rule"] = label_fact(float(b["office_m2"] or 0), labels, monument,
                                                                loaded["labels"], fc)
            if loaded["labels"]:
                src["energy_label"] = f"EP-Online: {b['label_files']}" if b["label_files"] else "EP-Online: no label registered"
            if row["label_rule"]:
                label_ev.append((key, _label_phrase(float(b["office_m2"]), labels, fc), src["energy_label"]))
            if b["bouwjaar"] is not None:
                row["bouwjaar"], src["bouwjaar"] = int(b["bouwjaar"]), "BAG"
            if b["bouwlagen"] is not None:
                row["floors"], src["floors"] = int(b["bouwlagen"]), "3DBAG"
            elif b["osm_levels"] is not None:
                row["floors"], src["floors"] = int(b["osm_levels"]), f"OSM building:levels ({b['osm_id']})"
            if b["h_dak_70p"] is not None and b["h_maaiveld"] is not None:
                row["height_m"], src["height_m"] = round(float(b["h_dak_70p"]) - float(b["h_maaiveld"]), 1), "3DBAG"
            elif b["osm_height_m"] is not None:
                row["height_m"], src["height_m"] = round(float(b["osm_height_m"]), 1), f"OSM height ({b['osm_id']})"
            footprint, fp_src = ((b["opp_grond"], "3DBAG b3_opp_grond") if b["opp_grond"] else (b["pand_m2"], "BAG pand"))
            if row["floors"] and footprint and b["bag_area_m2"]:
                est = float(row["floors"]) * float(footprint)
                checks.append((key, json.dumps({"bag_m2": float(b["bag_area_m2"]), "floors_x_footprint_m2": round(est, 1),
                                                "ratio": round(float(b["bag_area_m2"]) / est, 2),
                                                "floors": src["floors"], "footprint": fp_src})))
        row["sources"] = json.dumps(src)
        h = hazards.get(key)
        if c["kind"] == "undeveloped_plot":
            reason = plot_exclusion(z["zoning_verdict"], z["zoning"], z["zoning_rule"], h and h["natura2000"],
                                    None if not h or h["power_line_m"] is None else float(h["power_line_m"]), fc)
            if reason:
                excluded[key] = reason
                continue
        facts.append(row)
    if label_ev:
        cur.execute(q["label_evidence"], {"keys": [k for k, _, _ in label_ev], "values": [v for _, v, _ in label_ev],
                                          "sources": [s for _, _, s in label_ev], "weight": fc.label_weight})
    if checks:
        cur.execute(q["floor_area_check"], {"keys": [k for k, _ in checks], "checks": [c for _, c in checks]})
    if excluded:
        for stmt in q["exclude"].split(";"):
            if stmt.strip():
                cur.execute(stmt, {"keys": list(excluded), "reasons": list(excluded.values()), "run_id": run_id})
    cur.execute("DELETE FROM result.fact")
    with cur.copy(f"COPY result.fact ({', '.join(FACT_COLUMNS)}) FROM STDIN") as cp:
        for r in facts:
            cp.write_row([r[k] for k in FACT_COLUMNS])
    summary = {"facts": len(facts), "excluded_plots": len(excluded), "label_rule": len(label_ev),
               "zoning_known": sum(1 for r in facts if r["zoning_verdict"]),
               "reasons": sorted({r.split(":")[0] for r in excluded.values()})}
    log.info("facts: %d candidate(s) with facts (%d with zoning), %d plot(s) excluded by facts, "
             "label-C rule on %d building(s)", summary["facts"], summary["zoning_known"], len(excluded), len(label_ev))
    return summary
