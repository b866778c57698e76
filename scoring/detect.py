"""The detect stage: vacant buildings and undeveloped plots into result.candidate, atomically."""
from __future__ import annotations

import datetime as dt
import json
import logging

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa

from plekzoeker.db.ledger import registered_rasters
from plekzoeker.db.load import TableSpec, replace_tables

from .facts import apply_facts
from .offers import add_offered
from .plots import find_plots
from .vacancy import detect_vacant_buildings

log = logging.getLogger(__name__)

CANDIDATE = TableSpec(
    table="candidate", schema="result",
    columns=("candidate_key", "kind", "source_ids", "municipality", "label", "area_m2", "confidence", "evidence",
             "details", "run_id", "access_point"),
    geom_kind=None, id_column="candidate_key", required=False, indexes=("(kind)", "(municipality)"),
)
EXCLUSION = TableSpec(table="exclusion", schema="result", columns=("candidate_key", "kind", "reason", "details", "run_id"),
                      geometry=None, id_column="candidate_key", required=False)

HISTORY_SQL = ("""
INSERT INTO result.candidate_history AS h (candidate_key, kind, label, first_seen, last_seen)
SELECT candidate_key, kind, label, %(day)s, %(day)s FROM {staging}
ON CONFLICT (candidate_key) DO UPDATE SET last_seen = EXCLUDED.last_seen, gone_since = NULL, label = EXCLUDED.label
""", """
UPDATE result.candidate_history h SET gone_since = %(day)s
WHERE h.gone_since IS NULL AND NOT EXISTS (SELECT 1 FROM {staging} c WHERE c.candidate_key = h.candidate_key)
""")
PLOT_ACCESS_SQL = """
UPDATE {staging} c
SET access_point = ST_ClosestPoint(c.geom, (SELECT e.geom FROM core.network_edge e WHERE e.walk
                                            ORDER BY e.geom <-> c.geom LIMIT 1))
WHERE c.kind = 'undeveloped_plot' AND EXISTS (SELECT 1 FROM core.network_edge WHERE walk);
"""


def _ewkb(geoms) -> list[str]:
    arr = shapely.set_srid(shapely.force_2d(pd.Series(geoms).to_numpy()), 28992)
    return list(shapely.to_wkb(arr, hex=True, include_srid=True))


def candidate_frame(buildings: gpd.GeoDataFrame, plots: gpd.GeoDataFrame, run_id: int) -> gpd.GeoDataFrame:
    """One GeoDataFrame in the column order of result.candidate."""
    parts = []
    if len(buildings):
        b = buildings.copy()
        b["access_point"] = _ewkb(shapely.points(b["x"].to_numpy(), b["y"].to_numpy()))
        parts.append(b)
    if len(plots):
        p = plots.copy()
        p["access_point"] = _ewkb(shapely.point_on_surface(p.geometry.to_numpy()))
        parts.append(p)
    if not parts:
        return gpd.GeoDataFrame(columns=list(CANDIDATE.columns), geometry=[], crs=28992)
    df = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=28992)
    df["evidence"] = [json.dumps(e, ensure_ascii=False, default=str) for e in df["evidence"]]
    df["details"] = [json.dumps(d, ensure_ascii=False, default=str) for d in df["details"]]
    df["run_id"] = run_id
    df["confidence"] = df["confidence"].astype(object).where(df["confidence"].notna(), None)
    return df


def run_detect(engine: sa.Engine, cfg: dict, run_id: int, day: dt.date | None = None) -> dict:
    """Detect both kinds and replace result.candidate / result.exclusion in one transaction."""
    day = day or dt.date.today()
    with engine.connect() as conn:
        buildings, excl = detect_vacant_buildings(conn, cfg, today=day)
        plots, plot_excl = find_plots(conn, cfg, registered_rasters(engine))
    cands = add_offered(engine, candidate_frame(buildings, plots, run_id), cfg, day, run_id)  # places owners offer
    excl = pd.concat([x for x in (excl, plot_excl) if len(x)], ignore_index=True) if len(excl) or len(plot_excl) else excl
    if len(excl):
        excl = excl.assign(details=[json.dumps(d, default=str) for d in excl["details"]], run_id=run_id)
    else:
        excl = pd.DataFrame(columns=list(EXCLUSION.columns))

    facts: dict = {}

    def post(cur, staged):
        staging = staged["candidate"]
        facts.update(apply_facts(cur, staged, cfg, run_id))  # result.fact; plots excluded by a fact move to exclusion
        cur.execute(PLOT_ACCESS_SQL.format(staging=staging))
        for stmt in HISTORY_SQL:
            cur.execute(stmt.format(staging=staging), {"day": day})

    replace_tables(engine, {CANDIDATE: lambda: [cands], EXCLUSION: lambda: [excl]}, run_id, "detect", post_sql=post)
    summary = {
        "vacant_building": int((cands["kind"] == "vacant_building").sum()) if len(cands) else 0,
        "undeveloped_plot": (int((cands["kind"] == "undeveloped_plot").sum()) if len(cands) else 0) - facts["excluded_plots"],
        "excluded": int(len(excl)) + facts["excluded_plots"],
        "facts": facts,
        "per_municipality": cands.groupby(["municipality", "kind"]).size().rename("n").reset_index().to_dict("records") if len(cands) else [],
    }
    log.info("detect: %d vacant building(s), %d undeveloped plot(s), %d excluded", summary["vacant_building"],
             summary["undeveloped_plot"], summary["excluded"])
    for r in summary["per_municipality"]:
        log.info("detect: %s %s %d", r["municipality"], r["kind"], r["n"])
    return summary
