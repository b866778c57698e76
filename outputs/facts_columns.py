"""The facts of result.fact as columns of the published GeoJSON / GeoPackage and the coordinator lists.

Every candidate gets the same columns; a candidate without a fact row, or a fact that is NULL, gives an
empty value (unknown), never a default. ``label_rule`` is a JSON boolean in GeoJSON and yes / no in the
lists; ``fact_sources`` names the source of each fact ("zoning: imro:NL.IMRO...; floors: 3DBAG").
"""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

COLUMNS = ["zoning", "zoning_verdict", "zoning_plan", "zoning_functions", "zoning_max_floors", "zoning_max_height_m",
           "zoning_max_coverage_pct", "bouwvlak_pct", "energy_label", "label_rule", "monument", "bouwjaar", "floors",
           "height_m", "fact_sources"]
DOCS = {
    "zoning": "zoning main group(s) by area share (bestemmingshoofdgroep / functiegroep); empty = no plan loaded covers it",
    "zoning_verdict": "allowed / deviation (needs a temporary deviation permit) / blocked, by config facts.zoning.verdicts",
    "zoning_plan": "the plan (IMRO idn or Omgevingsplan id) that decides where plans overlap",
    "zoning_functions": "function designations (Functieaanduiding) of that plan on the candidate, e.g. kantoor",
    "zoning_max_floors": "maximum number of floors that plan allows here (Maatvoering 'maximum aantal bouwlagen')",
    "zoning_max_height_m": "maximum building height that plan allows here, m (Maatvoering 'maximum bouwhoogte (m)')",
    "zoning_max_coverage_pct": "maximum share of the plot that may be built on, % (Maatvoering 'maximum bebouwingspercentage')",
    "bouwvlak_pct": "share of the candidate inside a building plane (Bouwvlak) of that plan, %; empty = the plan has none",
    "energy_label": "worst registered EP-Online energy label of the building's office units",
    "label_rule": "office label-C rule applies (no label C or better on > 100 m² offices, not a monument); empty = unknown",
    "monument": "rijks / gemeentelijk / none (none only when a monument list was loaded)",
    "bouwjaar": "construction year (BAG)",
    "floors": "floors (3DBAG b3_bouwlagen; else OSM building:levels, named in fact_sources)",
    "height_m": "roof height above ground, m (3DBAG b3_h_dak_70p - b3_h_maaiveld; else OSM height)",
    "fact_sources": "the source of each fact above",
}
SQL = (f"SELECT candidate_key, {', '.join(COLUMNS[:-1])}, sources FROM result.fact WHERE candidate_key = ANY(:keys)")


def _sources(src: dict | None) -> str | None:
    return "; ".join(f"{k}: {v}" for k, v in sorted((src or {}).items())) or None


def add_fact_columns(df: pd.DataFrame, conn: sa.Connection, for_list: bool = False) -> pd.DataFrame:
    """``df`` (with candidate_key) with the fact columns appended, in the order of ``COLUMNS``."""
    keys = [str(k) for k in df["candidate_key"]]
    rows = {r["candidate_key"]: r for r in conn.execute(sa.text(SQL), {"keys": keys}).mappings()} if keys else {}
    out = df.copy()
    for c in COLUMNS[:-1]:
        vals = [rows[k][c] if k in rows else None for k in keys]
        if c == "label_rule" and for_list:
            vals = [None if v is None else ("yes" if v else "no") for v in vals]
        out[c] = pd.Series(vals, index=out.index, dtype=object)
    out["fact_sources"] = pd.Series([_sources(rows[k]["sources"]) if k in rows else None for k in keys],
                                    index=out.index, dtype=object)
    return out
