"""The detect stage: vacant buildings and undeveloped plots into result.candidate, atomically."""
from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa

from plekzoeker.db.ledger import registered_rasters
from plekzoeker.db.load import TableSpec, replace_tables
from plekzoeker.db.sqlfile import named_statements

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

SQL = named_statements(Path(__file__).with_name("sql") / "detect.sql")
HISTORY_SQL = (SQL["history_seen"], SQL["history_gone"])
PER_MUNICIPALITY_SQL = SQL["per_municipality"]
PLOT_ACCESS_SQL = SQL["plot_access"]


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


def detect_area(engine: sa.Engine, cfg: dict, run_id: int, day: dt.date
                ) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """Detect in ``cfg``'s area (the whole run's, or one part's read box): the candidates, the building
    exclusions and the plot exclusions, before offers and facts."""
    with engine.connect() as conn:
        buildings, excl = detect_vacant_buildings(conn, cfg, today=day)
        plots, plot_excl = find_plots(conn, cfg, registered_rasters(engine))
    return candidate_frame(buildings, plots, run_id), excl, plot_excl


def exclusion_frame(frames: list[pd.DataFrame], run_id: int) -> pd.DataFrame:
    """Exclusion rows ready for result.exclusion (details as JSON text), from any number of frames."""
    frames = [x for x in frames if len(x)]
    if not frames:
        return pd.DataFrame(columns=list(EXCLUSION.columns))
    excl = pd.concat(frames, ignore_index=True)
    return excl.assign(details=[json.dumps(d, default=str) for d in excl["details"]], run_id=run_id)


def write_detect(engine: sa.Engine, cfg: dict, run_id: int, day: dt.date, cands: gpd.GeoDataFrame,
                 excl: pd.DataFrame, merge=None) -> dict:
    """Swap result.candidate / result.exclusion with what follows detection, in the swap's transaction:
    ``merge(cur, staged)`` first (the partitioned run adds its parts' rows here), then the facts step
    (result.fact; plots excluded by a fact move to the exclusions), the plots' access points and the
    candidate history. The one place these run, for the single and the partitioned run alike."""
    facts: dict = {}

    def post(cur, staged):
        if merge is not None:
            merge(cur, staged)
        staging = staged["candidate"]
        facts.update(apply_facts(cur, staged, cfg, run_id))
        cur.execute(PLOT_ACCESS_SQL.format(staging=staging))
        for stmt in HISTORY_SQL:
            cur.execute(stmt.format(staging=staging), {"day": day})

    replace_tables(engine, {CANDIDATE: lambda: [cands] if len(cands) else [], EXCLUSION: lambda: [excl] if len(excl) else []},
                   run_id, "detect", post_sql=post)
    with engine.connect() as conn:
        per = pd.read_sql(sa.text(PER_MUNICIPALITY_SQL), conn)
        n_excl = conn.execute(sa.text("SELECT count(*) FROM result.exclusion")).scalar_one()
    by_kind = per.groupby("kind")["n"].sum().to_dict() if len(per) else {}
    summary = {"vacant_building": int(by_kind.get("vacant_building", 0)),
               "undeveloped_plot": int(by_kind.get("undeveloped_plot", 0)), "excluded": int(n_excl), "facts": facts,
               "per_municipality": [{k: (int(v) if k == "n" else v) for k, v in r.items()} for r in per.to_dict("records")]}
    log.info("detect: %d vacant building(s), %d undeveloped plot(s), %d excluded", summary["vacant_building"],
             summary["undeveloped_plot"], summary["excluded"])
    for r in summary["per_municipality"]:
        log.info("detect: %s %s %d", r["municipality"], r["kind"], r["n"])
    return summary


def run_detect(engine: sa.Engine, cfg: dict, run_id: int, day: dt.date | None = None) -> dict:
    """Detect both kinds and replace result.candidate / result.exclusion in one transaction."""
    day = day or dt.date.today()
    cands, excl, plot_excl = detect_area(engine, cfg, run_id, day)
    cands = add_offered(engine, cands, cfg, day, run_id)  # places owners offer
    return write_detect(engine, cfg, run_id, day, cands, exclusion_frame([excl, plot_excl], run_id))
