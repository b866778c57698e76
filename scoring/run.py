"""The score stage: network access, constraints and the composite score into result.access/score.

Reads only core.* and result.candidate, so changing a weight and rerunning needs no ingest or detect.
"""
from __future__ import annotations

import json
import logging

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa

from ..db.load import TableSpec, replace_tables
from ..sources.rasters import registered_rasters
from .access import access_table, build_graph
from .constraints import zonal_stats
from .score import compute_scores

log = logging.getLogger(__name__)

ACCESS = TableSpec(table="access", schema="result",
                   columns=("candidate_key", "mode", "category", "dist_m", "count_within", "reason"),
                   geometry=None, required=False)
SCORE = TableSpec(table="score", schema="result",
                  columns=("candidate_key", "criteria", "subscores", "weights", "score", "rank", "rank_municipality",
                           "excluded_reason", "run_id"),
                  geometry=None, id_column="candidate_key", required=False)


def read_graph_tables(conn: sa.Connection) -> tuple[pd.DataFrame, pd.DataFrame]:
    nodes = pd.read_sql(sa.text("SELECT node_id, ST_X(geom) AS x, ST_Y(geom) AS y FROM core.network_node"), conn)
    edges = pd.read_sql(sa.text("SELECT u, v, length_m, walk, bike, oneway_bike FROM core.network_edge"), conn)
    return nodes, edges


def run_score(engine: sa.Engine, cfg: dict, run_id: int) -> dict:
    """Compute access for every mode and category, constraints and scores; replace the result tables."""
    with engine.connect() as conn:
        cands = gpd.read_postgis(sa.text(
            "SELECT candidate_key, kind, municipality, area_m2, confidence, ST_X(access_point) AS x, ST_Y(access_point) AS y, geom "
            "FROM result.candidate ORDER BY candidate_key"), conn, geom_col="geom")
        pois = pd.read_sql(sa.text("SELECT category, ST_X(geom) AS x, ST_Y(geom) AS y FROM core.poi"), conn)
        nodes, edges = read_graph_tables(conn)
    if cands.empty:
        log.warning("score: no candidates to score")
    acfg = cfg["access"]
    cats = {k: {"threshold_m": float(v["threshold_m"]), "cap_m": float(v["cap_m"])} for k, v in acfg["categories"].items()}
    tables = []
    for mode in acfg["modes"]:
        if edges.empty or cands.empty:
            break
        graph = build_graph(nodes, edges, mode=mode)
        t = access_table(graph, cands[["candidate_key", "x", "y"]], pois, cats, max_snap_m=float(acfg["max_snap_m"]))
        tables.append(t.assign(mode=mode) if "mode" not in t.columns else t)
        log.info("score: %s graph %d nodes; access for %d candidates x %d categories", mode, len(graph.node_ids),
                 len(cands), len(cats))
    access = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=list(ACCESS.columns))
    main_mode = acfg["modes"][0]
    dist = (access[access["mode"] == main_mode].pivot(index="candidate_key", columns="category", values="dist_m")
            if len(access) else pd.DataFrame())
    noise = None
    rasters = registered_rasters(engine)
    if "noise_lden" in rasters and len(cands):
        zs = zonal_stats(rasters["noise_lden"], cands.geometry.to_numpy(), ("mean", "max"))
        noise = pd.Series(zs["mean"].to_numpy(), index=cands["candidate_key"])
    scores = compute_scores(pd.DataFrame(cands.drop(columns="geom")), dist, noise, cfg) if len(cands) else \
        pd.DataFrame(columns=list(SCORE.columns))
    if len(scores):
        scores = scores.assign(run_id=run_id)
        for col in ("criteria", "subscores", "weights"):
            scores[col] = [json.dumps(v) for v in scores[col]]
        scores["rank"] = scores["rank"].astype(object).where(scores["rank"].notna(), None)
        scores["rank_municipality"] = scores["rank_municipality"].astype(object).where(scores["rank_municipality"].notna(), None)
        scores["score"] = scores["score"].astype(object).where(scores["score"].notna(), None)
    access_out = access[list(ACCESS.columns)].copy() if len(access) else access
    if len(access_out):
        access_out["dist_m"] = access_out["dist_m"].astype(object).where(access_out["dist_m"].notna(), None)
    replace_tables(engine, {ACCESS: lambda: [access_out], SCORE: lambda: [scores]}, run_id, "score")
    n_excl = int(scores["excluded_reason"].notna().sum()) if len(scores) else 0
    log.info("score: scored %d candidate(s), %d excluded by hard constraints", len(scores) - n_excl, n_excl)
    return {"scored": len(scores) - n_excl, "excluded": n_excl, "modes": list(acfg["modes"])}


