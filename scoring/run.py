"""The score stage: network access, constraints and the composite score into result.access/score.

Reads only core.*, meta.* and result.candidate, so changing a weight and rerunning needs no ingest or
detect. The street graph of each mode comes from the graph cache when the OSM input is unchanged
(see :mod:`plekzoeker.scoring.graph_cache`); the graph tables are read only when a mode misses.
"""
from __future__ import annotations

import json
import logging
import time

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa

from plekzoeker.db.ledger import registered_rasters, save_coverage
from plekzoeker.db.load import TableSpec, replace_tables

from .access import access_table
from .constraints import vector_context, zonal_stats
from .coverage import coverage_lines, no_data_categories, poi_coverage
from .criteria_config import AccessConfig, ScoreConfig
from .graph import Graph, build_graph
from .graph_cache import cached_graph
from .ranking import RANKING_COLUMNS, rank_candidates, save_run_info
from .transit import transit_frame

log = logging.getLogger(__name__)

ACCESS = TableSpec(table="access", schema="result",
                   columns=("candidate_key", "mode", "category", "dist_m", "reason"),
                   geometry=None, required=False)
SCORE = TableSpec(table="score", schema="result",
                  columns=("candidate_key", "criteria", "subscores", "weights", "score", "rank", "rank_municipality",
                           "excluded_reason", "run_id"),
                  geometry=None, id_column="candidate_key", required=False)
RANKING = TableSpec(table="ranking", schema="result", columns=RANKING_COLUMNS, geometry=None, id_column="candidate_key",
                    required=False)

CANDIDATES_SQL = ("SELECT candidate_key, kind, municipality, area_m2, confidence, "
                  "CAST(details->>'land_cover_penalty' AS float8) AS land_cover_penalty, ST_X(access_point) AS x, "
                  "ST_Y(access_point) AS y, geom FROM result.candidate ORDER BY candidate_key")
POIS_SQL = "SELECT category, ST_X(geom) AS x, ST_Y(geom) AS y FROM core.poi"
# rasters whose zonal statistics become criteria: kind -> {statistic: criterion}
RASTER_CRITERIA = {"noise_lden": {"mean": "noise_lden_db", "max": "noise_lden_max_db"},
                   "flood_depth": {"max": "flood_depth_max_m"}}


def access_rows(access: pd.DataFrame) -> pd.DataFrame:
    """The access table in result.access column order (the loader writes a NaN distance as NULL)."""
    return access[list(ACCESS.columns)] if len(access) else access


def read_graph_tables(conn: sa.Connection) -> tuple[pd.DataFrame, pd.DataFrame]:
    nodes = pd.read_sql(sa.text("SELECT node_id, ST_X(geom) AS x, ST_Y(geom) AS y FROM core.network_node"), conn)
    edges = pd.read_sql(sa.text("SELECT u, v, length_m, walk, bike, oneway_bike, ST_AsBinary(geom) AS geom_wkb "
                                "FROM core.network_edge"), conn)
    return nodes, edges


def graphs(engine: sa.Engine, modes: list[str], cache_dir=None) -> dict[str, Graph]:
    """The street graph of every mode, from the cache or built from core.network_* (read once)."""
    tables: list = []

    def build(mode: str):
        def go() -> Graph:
            if not tables:
                with engine.connect() as conn:
                    tables.append(read_graph_tables(conn))
            t0 = time.perf_counter()
            g = build_graph(*tables[0], mode=mode)
            log.info("%s graph: built in %.1fs (%d nodes)", mode, time.perf_counter() - t0, g.n_nodes)
            return g
        return go

    out = {}
    with engine.connect() as conn:
        for mode in modes:
            out[mode], _ = cached_graph(conn, mode, build(mode), cache_dir)
    return out


def raster_context(engine: sa.Engine, cands: gpd.GeoDataFrame) -> pd.DataFrame:
    """The raster criteria of :data:`RASTER_CRITERIA` per candidate_key (index), one column per
    registered raster statistic: each candidate's own cells, so any subset of candidates gets the
    values the whole set would (the partitioned run computes them per area)."""
    ctx = pd.DataFrame(index=pd.Index(cands["candidate_key"].to_numpy(), name="candidate_key"))
    if cands.empty:
        return ctx
    rasters = registered_rasters(engine)
    geoms = cands.geometry.to_numpy()
    for kind, wanted in RASTER_CRITERIA.items():
        if kind in rasters:
            zs = zonal_stats(rasters[kind], geoms, tuple(wanted))
            for stat, name in wanted.items():
                ctx[name] = zs[stat].to_numpy()
    return ctx


def context_frame(engine: sa.Engine, cfg: dict, cands: gpd.GeoDataFrame | None = None,
                  rasters: pd.DataFrame | None = None) -> pd.DataFrame:
    """Raw context criteria per candidate_key (index): raster zonal statistics of the registered
    rasters in :data:`RASTER_CRITERIA` (:func:`raster_context`, or ``rasters`` when the areas computed
    them) and the vector context (distance to the nearest residential area, other candidates within
    ``score.context_radius_m``, default 1,000 m).

    ``cands``: candidate_key + geometry; read from result.candidate when not given.
    """
    if cands is None:
        with engine.connect() as conn:
            cands = gpd.read_postgis(sa.text("SELECT candidate_key, geom FROM result.candidate ORDER BY candidate_key"),
                                     conn, geom_col="geom")
    index = pd.Index(cands["candidate_key"].to_numpy(), name="candidate_key")
    if cands.empty:
        return pd.DataFrame(index=index)
    ctx = raster_context(engine, cands) if rasters is None else rasters.reindex(index)
    with engine.connect() as conn:
        vc = vector_context(conn, ScoreConfig.from_config(cfg).context_radius_m).set_index("candidate_key")
    ctx["dist_residential_m"] = vc["dist_residential_m"].reindex(ctx.index)
    ctx["candidates_nearby"] = vc["candidates_nearby"].reindex(ctx.index)
    return ctx


def category_specs(ac: AccessConfig) -> dict[str, dict]:
    """The access categories of the config as :func:`access_table` takes them."""
    return {k: {"threshold_m": c.threshold_m, "cap_m": c.cap_m} for k, c in ac.categories.items()}


def score_rows(scores: pd.DataFrame, run_id: int) -> pd.DataFrame:
    """compute_scores' frame as result.score rows: dicts as JSON, NaN as NULL, the run id."""
    if not len(scores):
        return pd.DataFrame(columns=list(SCORE.columns))
    scores = scores.assign(run_id=run_id)
    for col in ("criteria", "subscores", "weights"):
        scores[col] = [json.dumps(v) for v in scores[col]]
    for col in ("rank", "rank_municipality", "score"):
        scores[col] = scores[col].astype(object).where(scores[col].notna(), None)
    return scores


def run_score(engine: sa.Engine, cfg: dict, run_id: int, cache_dir=None) -> dict:
    """Compute access for every mode and category, constraints and scores; replace the result tables."""
    with engine.connect() as conn:
        cands = gpd.read_postgis(sa.text(CANDIDATES_SQL), conn, geom_col="geom")
        pois = pd.read_sql(sa.text(POIS_SQL), conn)
        has_graph = conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM core.network_edge)")).scalar()
    if cands.empty:
        log.warning("score: no candidates to score")
    ac = AccessConfig.from_config(cfg)
    cats = category_specs(ac)
    tables = []
    coverage = {"categories": poi_coverage(cands[["x", "y"]].to_numpy(dtype=float), pois, cats), "modes": {}}
    if has_graph and len(cands):
        for mode, graph in graphs(engine, list(ac.modes), cache_dir).items():
            t0 = time.perf_counter()
            coverage["modes"][mode] = {}
            tables.append(access_table(graph, cands[["candidate_key", "x", "y"]], pois, cats,
                                       max_snap_m=ac.max_snap_m, coverage=coverage["modes"][mode],
                                       snap_to=ac.snap_to))
            log.info("score: %s access for %d candidates x %d categories in %.1fs", mode, len(cands), len(cats),
                     time.perf_counter() - t0)
    access = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=list(ACCESS.columns))
    dist = (access[access["mode"] == ac.main_mode].pivot(index="candidate_key", columns="category", values="dist_m")
            if len(access) else pd.DataFrame())
    return write_score(engine, cfg, run_id, cands, pois, dist, coverage, access_rows(access), cache_dir=cache_dir)


def write_score(engine: sa.Engine, cfg: dict, run_id: int, cands: gpd.GeoDataFrame, pois: pd.DataFrame,
                dist: pd.DataFrame, coverage: dict, access: pd.DataFrame, merge=None, cache_dir=None,
                transit: tuple[pd.DataFrame, dict] | None = None, rasters: pd.DataFrame | None = None) -> dict:
    """Everything after network access, for the single and the partitioned run alike: the no-data
    categories and the context (rasters, vector context, transit) decided once over all candidates, the
    ranking, then one swap of result.access / result.score / result.ranking (``merge(cur, staged)`` adds
    the parts' access rows inside that transaction), the coverage and the run info. ``transit`` (the
    transit frame and summary) and ``rasters`` (the raster criteria) when the parts computed them
    (pipelines/partitioned.py), else computed here."""
    log_coverage(coverage)
    no_data = no_data_categories(coverage["categories"]) if len(cands) else []
    if len(cands):
        context = context_frame(engine, cfg, cands[["candidate_key", "geom"]], rasters=rasters)
        transit_rows, transit_info = transit or transit_frame(engine, cfg, cands[["candidate_key", "x", "y"]], pois,
                                                              lambda: graphs(engine, ["walk"], cache_dir)["walk"])
        context = context.join(transit_rows)
        scores, ranking, run_info = rank_candidates(engine, pd.DataFrame(cands.drop(columns="geom")), dist, cfg, run_id,
                                                    context=context, no_data=no_data)
    else:
        scores, ranking, run_info = pd.DataFrame(columns=list(SCORE.columns)), pd.DataFrame(columns=RANKING_COLUMNS), {}
        transit_info = {}
    scores = score_rows(scores, run_id)
    replace_tables(engine, {ACCESS: lambda: [access] if len(access) else [], SCORE: lambda: [scores],
                            RANKING: lambda: [ranking]}, run_id, "score", post_sql=merge)
    save_coverage(engine, run_id, coverage)
    save_run_info(engine, run_id, run_info)
    n_excl = int(scores["excluded_reason"].notna().sum()) if len(scores) else 0
    log.info("score: scored %d candidate(s), %d excluded by hard constraints", len(scores) - n_excl, n_excl)
    return {"scored": len(scores) - n_excl, "excluded": n_excl, "modes": list(AccessConfig.from_config(cfg).modes), "no_data": no_data,
            "coverage": coverage, "transit": transit_info}


def log_coverage(coverage: dict) -> None:
    """The coverage report in the log: a warning per no-data category, the per-mode counts as info."""
    cats = coverage.get("categories") or {}
    for k in no_data_categories(cats):
        log.warning("score: category %s has no data: no POI within its cap of any candidate (%d in the data); "
                    "left out of the score", k, cats[k]["pois"])
    for line in coverage_lines({"modes": coverage.get("modes") or {}}):
        log.info("score coverage: %s", line)
