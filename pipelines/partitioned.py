"""Detect and score per area, then write once: the plain functions behind the scale-out flows.

``plan_*`` splits a stage into :class:`~plekzoeker.scoring.partition.Part` s; ``*_part`` computes
one area with the same functions the single-process stages use and keeps what that area owns in
work tables ``raw.part_<run>_<part>_<what>`` (written atomically by the loader, so a retried part
just replaces its own tables); ``merge_*`` unions the work tables — dropping duplicate candidate
keys — and swaps the result tables in one transaction, exactly as ``run_detect`` / ``run_score``
do. Between tasks only run ids and small dicts travel, never DataFrames.

Detection reads each area through ``cfg['area']['bbox']`` (the part's read box: its own area plus
``dask.detect_buffer_m``): ``scoring.vacancy`` reads only the units in it and ``scoring.plots`` only
the parcels intersecting it, and the part keeps the candidates it owns. An owner's union of
adjacent parcels reaching further than the buffer past a part's edge would be cut there (raise
``detect_buffer_m`` for such estates). Scoring reads only the part's box (nodes, edges, POIs), which is exact by the network buffer
(see ``scoring.partition``). Transit, the costliest part of scoring with a feed (one CSA search per
candidate and departure), is routed per area too, over the whole feed, walk graph and destinations
(:func:`_transit_part`), so each candidate gets the single run's times; so are the raster criteria
(zonal statistics of each candidate's own cells, :func:`_raster_part`). The merge pivots both back
into the frames the single run builds. The vector context (which counts other candidates), no-data
and the ranking stay in the merge, over all candidates.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from psycopg import sql

from plekzoeker.db import ledger
from plekzoeker.db.load import TableSpec, replace_tables
from plekzoeker.pipelines.dask_runner import DaskSettings
from plekzoeker.scoring.access import access_table, build_graph
from plekzoeker.scoring.coverage import poi_coverage
from plekzoeker.scoring.criteria_config import AccessConfig
from plekzoeker.scoring.detect import CANDIDATE, EXCLUSION, candidate_frame, detect_area, exclusion_frame, write_detect
from plekzoeker.scoring.offers import add_offered
from plekzoeker.scoring.partition import Part, network_buffer_m, owned, split_areas
from plekzoeker.scoring.run import (
    ACCESS,
    CANDIDATES_SQL,
    POIS_SQL,
    RASTER_CRITERIA,
    category_specs,
    graphs,
    raster_context,
    write_score,
)
from plekzoeker.scoring.transit import transit_frame
from plekzoeker.scoring.transit_config import TransitConfig

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# SQL

DETECT_EXTENT_SQL = """
SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
FROM (SELECT ST_Extent(geom) AS e FROM (SELECT geom FROM core.pand UNION ALL SELECT geom FROM core.perceel) g) x
WHERE e IS NOT NULL
"""
# BAG ids start with the code of the municipality that issued them; units and buildings both count
DETECT_MUNICIPALITIES_SQL = """
SELECT 'GM' || left(identificatie, 4) AS code, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
FROM (SELECT left(identificatie, 4) AS identificatie, ST_Extent(geom) AS e
      FROM (SELECT identificatie, geom FROM core.verblijfsobject UNION ALL SELECT identificatie, geom FROM core.pand) u
      GROUP BY 1) x
ORDER BY 1
"""
ANCHOR = "coalesce(access_point, ST_PointOnSurface(geom))"
SCORE_ANCHORS_SQL = f"""
SELECT candidate_key, municipality, ST_X({ANCHOR}) AS ax, ST_Y({ANCHOR}) AS ay FROM result.candidate ORDER BY candidate_key
"""
SCORE_CANDIDATES_SQL = """
SELECT candidate_key, kind, municipality, area_m2, confidence, ST_X(access_point) AS x, ST_Y(access_point) AS y, geom
FROM result.candidate WHERE candidate_key = ANY(:keys) ORDER BY candidate_key
"""
ENVELOPE = "ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 28992)"
PART_NODES_SQL = f"SELECT node_id, ST_X(geom) AS x, ST_Y(geom) AS y FROM core.network_node WHERE geom && {ENVELOPE}"
PART_EDGES_SQL = (f"SELECT u, v, length_m, walk, bike, oneway_bike, ST_AsBinary(geom) AS geom_wkb FROM core.network_edge "
                  f"WHERE geom && {ENVELOPE}")
PART_POIS_SQL = f"SELECT category, ST_X(geom) AS x, ST_Y(geom) AS y FROM core.poi WHERE geom && {ENVELOPE}"
PAND_POINTS_SQL = """
SELECT identificatie AS pand_id, ST_X(p) AS x, ST_Y(p) AS y
FROM (SELECT identificatie, ST_PointOnSurface(geom) AS p FROM core.pand WHERE identificatie = ANY(:ids)) q
"""
# union of the parts' work tables into the staging table of the swap; the first part wins a duplicate key
MERGE_SQL = "INSERT INTO {staging} ({cols}) SELECT DISTINCT ON ({key}) {cols} FROM ({union}) u ORDER BY {key}, part_no"

WORK_PREFIX = "part_"
_NAME_RE = re.compile(r"^part_(\d+)_[a-z0-9_]{1,16}_(candidate|exclusion|access|transit|raster)$")
# raster criteria of a part's candidates in long form (one row per candidate and criterion)
RASTER_COLUMNS = ("candidate_key", "criterion", "value")
RASTER_DDL = "(candidate_key text NOT NULL, criterion text NOT NULL, value double precision)"
# transit times of a part's candidates in long form (one row per candidate and category), pivoted back by the merge
TRANSIT_COLUMNS = ("candidate_key", "category", "median_min", "best_min", "within")
TRANSIT_DDL = ("(candidate_key text NOT NULL, category text NOT NULL, median_min double precision, "
               "best_min double precision, within double precision)")


# ---------------------------------------------------------------------------------------------
# work tables

def work_table(run_id: int, part: Part | str, what: str) -> str:
    key = part.key if isinstance(part, Part) else part
    name = f"{WORK_PREFIX}{int(run_id)}_{key}_{what}"
    if not _NAME_RE.match(name):
        raise ValueError(f"not a safe work table name: {name!r}")
    return name


def _work_spec(name: str, columns: tuple[str, ...], geometry: str | None, id_column: str | None) -> TableSpec:
    return TableSpec(table=name, schema="raw", columns=columns, geometry=geometry, id_column=id_column,
                     required=False, indexes=())


def write_work(engine: sa.Engine, run_id: int, spec: TableSpec, ddl: str, frame: pd.DataFrame) -> None:
    """Create ``raw.<spec.table>`` if needed (``ddl``: its column definition) and replace its rows atomically."""
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE TABLE IF NOT EXISTS raw."{spec.table}" {ddl}'))
    replace_tables(engine, {spec: lambda: [frame]}, run_id, f"part {spec.table}")


def work_tables(engine: sa.Engine, run_id: int | None = None) -> list[str]:
    """Names of the work tables of ``run_id`` (of every run when None)."""
    prefix = WORK_PREFIX + (f"{int(run_id)}_" if run_id is not None else "")
    with engine.connect() as conn:
        names = [r[0] for r in conn.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'raw' AND starts_with(tablename, :p) ORDER BY 1"),
            {"p": prefix})]
    return [n for n in names if _NAME_RE.match(n)]


def drop_work_tables(engine: sa.Engine, run_id: int | None = None) -> int:
    """Drop the work tables of ``run_id``, or (None) those of every run that is no longer running."""
    names = work_tables(engine, run_id)
    if run_id is None:
        with engine.connect() as conn:
            running = ledger.running_runs(conn)
        names = [n for n in names if int(_NAME_RE.match(n).group(1)) not in running]
    with engine.begin() as conn:
        for n in names:
            conn.execute(sa.text(f'DROP TABLE IF EXISTS raw."{n}"'))
    return len(names)


def _merge_into(cur, staging: str, columns: tuple[str, ...], key: str, sources: list[str]) -> int:
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    if not sources:
        return 0
    union = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {n} AS part_no, {cols} FROM raw.{t}").format(n=sql.Literal(i), cols=cols, t=sql.Identifier(t))
        for i, t in enumerate(sources))
    cur.execute(sql.SQL(MERGE_SQL).format(staging=sql.SQL(staging), cols=cols, key=sql.SQL(key), union=union))
    inserted = cur.rowcount
    cur.execute(sql.SQL("SELECT count(*) FROM ({union}) u").format(union=union))
    return cur.fetchone()[0] - inserted


# ---------------------------------------------------------------------------------------------
# planning

def _bbox_rows(rows) -> dict:
    return {r[0]: (float(r[1]), float(r[2]), float(r[3]), float(r[4])) for r in rows if r[1] is not None}


def plan_detect(engine: sa.Engine, settings: DaskSettings) -> list[Part]:
    """The areas of the detect stage (municipalities of the BAG ids, or tiles over buildings and parcels)."""
    buffer = settings.detect_buffer_m
    with engine.connect() as conn:
        extent = conn.execute(sa.text(DETECT_EXTENT_SQL)).first()
        extent = tuple(map(float, extent)) if extent else None
        extents = _bbox_rows(conn.execute(sa.text(DETECT_MUNICIPALITIES_SQL))) \
            if settings.partition_by == "municipality" else None
    if settings.partition_by == "municipality":
        if not extents:  # no BAG at all: one area over everything
            return split_areas("tiles", (1, 1), extent, None, buffer)
        parts = split_areas("municipality", (1, 1), None, extents, buffer)
        # a candidate whose municipality no BAG id prefix names (cannot happen today) goes to the first part
        return [dataclasses.replace(parts[0], grid=None, known=tuple(extents))] + parts[1:] if parts else parts
    return split_areas("tiles", settings.tiles, extent, None, buffer)


def plan_score(engine: sa.Engine, cfg: dict, settings: DaskSettings) -> list[Part]:
    """The areas of the score stage: municipalities or tiles of the candidates' access points."""
    buffer = settings.buffer_m if settings.buffer_m is not None else network_buffer_m(cfg)
    with engine.connect() as conn:
        a = pd.read_sql(sa.text(SCORE_ANCHORS_SQL), conn)
    if a.empty:
        return []
    if settings.partition_by == "municipality":
        g = a.assign(m=a["municipality"].fillna("")).groupby("m")
        extents = {(m or None): (float(d["ax"].min()), float(d["ay"].min()), float(d["ax"].max()), float(d["ay"].max()))
                   for m, d in g}
        return split_areas("municipality", (1, 1), None, extents, buffer)
    extent = (float(a["ax"].min()), float(a["ay"].min()), float(a["ax"].max()), float(a["ay"].max()))
    return split_areas("tiles", settings.tiles, extent, None, buffer)


def part_config(cfg: dict, part: Part) -> dict:
    """The config a part's detection reads with: the area limited to the part's read box."""
    area = dict(cfg.get("area") or {})
    area["bbox"] = [float(v) for v in part.read_bbox]
    return {**cfg, "area": area}


# ---------------------------------------------------------------------------------------------
# detect

def detect_part(engine: sa.Engine, cfg: dict, run_id: int, part: Part, day: dt.date | None = None) -> dict:
    """Detect in one area (:func:`scoring.detect.detect_area` on the part's read box); keep the candidates
    and exclusions it owns in its work tables."""
    t0 = time.perf_counter()
    day = day or dt.date.today()
    cands, excl, plot_excl = detect_area(engine, part_config(cfg, part), run_id, day)
    if len(cands):
        anchor = shapely.point_on_surface(cands.geometry.to_numpy())
        cands = cands[owned(part, cands["municipality"].to_numpy(), shapely.get_x(anchor), shapely.get_y(anchor))]
    if len(plot_excl):   # a lost plot belongs to the part that owns its anchor point (as a candidate would)
        xs = np.array([d["x"] for d in plot_excl["details"]], dtype=float)
        ys = np.array([d["y"] for d in plot_excl["details"]], dtype=float)
        plot_excl = plot_excl[owned(part, [d["municipality"] for d in plot_excl["details"]], xs, ys)]
    if len(excl):
        excl = excl.reset_index(drop=True)
        pand_ids = [d["pand_id"] for d in excl["details"]]
        if part.grid is not None:
            with engine.connect() as conn:
                pts = pd.read_sql(sa.text(PAND_POINTS_SQL), conn, params={"ids": pand_ids}).set_index("pand_id")
            xy = pts.reindex(pand_ids)
            keep = owned(part, None, xy["x"].to_numpy(), xy["y"].to_numpy())
        else:
            keep = owned(part, [f"GM{p[:4]}" for p in pand_ids])
        excl = excl[keep]
    excl = exclusion_frame([excl, plot_excl], run_id)
    write_work(engine, run_id, _work_spec(work_table(run_id, part, "candidate"), CANDIDATE.columns, "geom", "candidate_key"),
               "(LIKE result.candidate INCLUDING DEFAULTS)", cands)
    write_work(engine, run_id, _work_spec(work_table(run_id, part, "exclusion"), EXCLUSION.columns, None, "candidate_key"),
               "(LIKE result.exclusion INCLUDING DEFAULTS)", excl)
    kinds = cands["kind"].value_counts().to_dict() if len(cands) else {}
    res = {"part": part.key, "label": part.label, "vacant_building": int(kinds.get("vacant_building", 0)),
           "undeveloped_plot": int(kinds.get("undeveloped_plot", 0)), "excluded": len(excl),
           "seconds": round(time.perf_counter() - t0, 2)}
    log.info("detect %s: %d vacant building(s), %d undeveloped plot(s), %d excluded in %.1fs", part.label,
             res["vacant_building"], res["undeveloped_plot"], res["excluded"], res["seconds"])
    return res


def merge_detect(engine: sa.Engine, cfg: dict, run_id: int, parts: list[Part], day: dt.date | None = None) -> dict:
    """Union the parts' candidates and exclusions into result.candidate / result.exclusion in one swap.

    The swap and everything after detection is :func:`scoring.detect.write_detect`, as in the single run:
    the parts' rows are merged into its staging tables first (dropping duplicate keys), then the facts
    step, the plots' access points and the history run once over the union. Offered places no part
    detected become candidates (:func:`scoring.offers.add_offered`, over the union)."""
    day = day or dt.date.today()
    cand_src = [work_table(run_id, p, "candidate") for p in parts]
    excl_src = [work_table(run_id, p, "exclusion") for p in parts]
    dupes: dict[str, int] = {}
    union = " UNION ALL ".join(f'SELECT candidate_key, source_ids, kind FROM raw."{t}"' for t in cand_src)
    with engine.connect() as conn:
        detected = pd.read_sql(sa.text(union), conn) if cand_src else pd.DataFrame(
            columns=["candidate_key", "source_ids", "kind"])
    empty = gpd.GeoDataFrame(geometry=[], crs=28992)
    offered = add_offered(engine, candidate_frame(empty, empty, run_id), cfg, day, run_id, detected=detected)

    def merge(cur, staged):
        dupes["candidate"] = _merge_into(cur, staged["candidate"], (*CANDIDATE.columns, "geom"), "candidate_key", cand_src)
        dupes["exclusion"] = _merge_into(cur, staged["exclusion"], EXCLUSION.columns, "candidate_key", excl_src)

    summary = write_detect(engine, cfg, run_id, day, offered, exclusion_frame([], run_id), merge=merge)
    if any(dupes.values()):
        log.warning("detect: %d duplicate candidate key(s) and %d duplicate exclusion(s) across areas dropped",
                    dupes["candidate"], dupes["exclusion"])
    drop_work_tables(engine, run_id)
    summary.update(parts=len(parts), duplicates_dropped=int(dupes.get("candidate", 0)))
    log.info("detect: merged %d area(s)", len(parts))
    return summary


# ---------------------------------------------------------------------------------------------
# score

def score_part(engine: sa.Engine, cfg: dict, run_id: int, part: Part) -> dict:
    """Network access for the candidates one area owns, over the graph inside its read box."""
    t0 = time.perf_counter()
    env = dict(zip(("minx", "miny", "maxx", "maxy"), map(float, part.read_bbox)))
    with engine.connect() as conn:
        a = pd.read_sql(sa.text(SCORE_ANCHORS_SQL), conn)
        keys = a.loc[owned(part, a["municipality"].to_numpy(), a["ax"].to_numpy(), a["ay"].to_numpy()),
                     "candidate_key"].tolist()
        cands = gpd.read_postgis(sa.text(SCORE_CANDIDATES_SQL), conn, geom_col="geom", params={"keys": keys})
        any_edges = conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM core.network_edge)")).scalar()
        nodes = pd.read_sql(sa.text(PART_NODES_SQL), conn, params=env)
        edges = pd.read_sql(sa.text(PART_EDGES_SQL), conn, params=env)
        pois = pd.read_sql(sa.text(PART_POIS_SQL), conn, params=env)
    ids = nodes["node_id"].to_numpy()
    edges = edges[np.isin(edges["u"].to_numpy(), ids) & np.isin(edges["v"].to_numpy(), ids)].reset_index(drop=True)
    ac = AccessConfig.from_config(cfg)
    cats = category_specs(ac)
    tables = []
    cov: dict[str, dict] = {}    # per mode, in this part's buffered area (parts overlap: not summed)
    for mode in ac.modes:
        if not any_edges or cands.empty:
            break
        graph = build_graph(nodes, edges, mode=mode)
        cov[mode] = {}
        t = access_table(graph, cands[["candidate_key", "x", "y"]], pois, cats, max_snap_m=ac.max_snap_m,
                         coverage=cov[mode], snap_to=ac.snap_to)
        tables.append(t.assign(mode=mode) if "mode" not in t.columns else t)
    access = pd.concat(tables, ignore_index=True)[list(ACCESS.columns)] if tables else \
        pd.DataFrame(columns=list(ACCESS.columns))
    if len(access):
        access["dist_m"] = access["dist_m"].astype(object).where(access["dist_m"].notna(), None)
    write_work(engine, run_id, _work_spec(work_table(run_id, part, "access"), ACCESS.columns, None, None),
               "(LIKE result.access INCLUDING DEFAULTS)", access)
    transit_info = _transit_part(engine, cfg, run_id, part, cands)
    _raster_part(engine, run_id, part, cands)
    res = {"part": part.key, "label": part.label, "candidates": len(cands), "graph_nodes": len(nodes),
           "pois": len(pois), "seconds": round(time.perf_counter() - t0, 2),
           "snapped_pois": {m: sum(v["snapped"] for v in c["categories"].values()) for m, c in cov.items()},
           "pois_too_far": {m: sum(v["too_far"] for v in c["categories"].values()) for m, c in cov.items()},
           "transit": transit_info}
    log.info("score %s: %d candidate(s), %d node(s) and %d POI(s) in the buffered area, %.1fs", part.label,
             res["candidates"], res["graph_nodes"], res["pois"], res["seconds"])
    return res


def _transit_part(engine: sa.Engine, cfg: dict, run_id: int, part: Part, cands: pd.DataFrame) -> dict:
    """Transit times of the candidates one area owns, into its work table (long form).

    Transit is a per-origin search (``scoring.transit.travel_times``: one CSA run per candidate and
    departure over the whole timetable), so an area's candidates get exactly the times the single
    run gives them as long as every area sees the whole feed, the whole walk graph and every
    destination: that is what this reads (not the area's box). Only the routing is split; the
    timetable is built in each area (the price of areas that share nothing but the database)."""
    with engine.connect() as conn:
        pois = pd.read_sql(sa.text(POIS_SQL), conn)
    frame, info = transit_frame(engine, cfg, cands[["candidate_key", "x", "y"]], pois,
                                lambda: graphs(engine, ["walk"])["walk"]) if len(cands) else (pd.DataFrame(), {})
    rows = []
    for cat in TransitConfig.from_config(cfg).categories if len(frame.columns) else ():
        rows.append(pd.DataFrame({"candidate_key": frame.index.to_numpy(), "category": cat,
                                  "median_min": frame[f"transit_{cat}_min"].to_numpy(),
                                  "best_min": frame[f"transit_{cat}_best_min"].to_numpy(),
                                  "within": frame[f"transit_{cat}_within"].to_numpy()}))
    long = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=list(TRANSIT_COLUMNS))
    _write_long(engine, run_id, part, "transit", TRANSIT_COLUMNS, TRANSIT_DDL, long, ("median_min", "best_min"))
    return info


def _raster_part(engine: sa.Engine, run_id: int, part: Part, cands: gpd.GeoDataFrame) -> None:
    """The raster criteria (zonal statistics) of the candidates one area owns, into its work table.
    A candidate's statistics are of its own cells only, so the area gets the single run's values."""
    ctx = raster_context(engine, cands[["candidate_key", "geom"]]) if len(cands) else pd.DataFrame()
    long = (ctx.reset_index().melt(id_vars="candidate_key", var_name="criterion", value_name="value")
            if len(ctx.columns) else pd.DataFrame(columns=list(RASTER_COLUMNS)))
    _write_long(engine, run_id, part, "raster", RASTER_COLUMNS, RASTER_DDL, long, ("value",))


def _write_long(engine: sa.Engine, run_id: int, part: Part, what: str, columns: tuple[str, ...], ddl: str,
                long: pd.DataFrame, nullable: tuple[str, ...]) -> None:
    """A part's long-form work table ``what`` (NaN in the ``nullable`` columns written as NULL)."""
    for c in nullable:
        long[c] = long[c].astype(object).where(long[c].notna(), None)
    write_work(engine, run_id, _work_spec(work_table(run_id, part, what), columns, None, None), ddl, long)


def _read_long(engine: sa.Engine, sources: list[str], columns: tuple[str, ...], key: list[str]) -> pd.DataFrame:
    """The union of the parts' long-form work tables, one row per ``key`` (overlapping areas dropped)."""
    union = " UNION ALL ".join(f'SELECT {", ".join(columns)} FROM raw."{t}"' for t in sources)
    with engine.connect() as conn:
        return pd.read_sql(sa.text(union), conn).drop_duplicates(key)


def merged_rasters(engine: sa.Engine, sources: list[str], cands: pd.DataFrame) -> pd.DataFrame:
    """The parts' raster work tables as :func:`scoring.run.raster_context` gives them for all candidates
    (columns in :data:`scoring.run.RASTER_CRITERIA` order, indexed by candidate_key)."""
    index = pd.Index(cands["candidate_key"].to_numpy(), name="candidate_key")
    out = pd.DataFrame(index=index)
    if not sources:
        return out
    long = _read_long(engine, sources, RASTER_COLUMNS, ["candidate_key", "criterion"])
    present = set(long["criterion"])
    for name in [n for wanted in RASTER_CRITERIA.values() for n in wanted.values()]:
        if name in present:
            one = long[long["criterion"] == name].set_index("candidate_key")["value"]
            out[name] = one.reindex(index).astype(float).to_numpy()
    return out


def merged_transit(engine: sa.Engine, cfg: dict, sources: list[str], cands: pd.DataFrame,
                   infos: list[dict]) -> tuple[pd.DataFrame, dict]:
    """The parts' transit work tables as the frame ``transit_frame`` gives the single run (same columns,
    in the same order, indexed by candidate_key); no feed in any part → the empty frame."""
    index = pd.Index(cands["candidate_key"].to_numpy(), name="candidate_key")
    fed = [i for i in infos if i.get("feed")]
    if not fed or not sources:
        return pd.DataFrame(index=index), {"feed": bool(fed)}
    long = _read_long(engine, sources, TRANSIT_COLUMNS, ["candidate_key", "category"])
    out = pd.DataFrame(index=index)
    for cat in TransitConfig.from_config(cfg).categories:
        one = long[long["category"] == cat].set_index("candidate_key")
        for col, name in (("median_min", f"transit_{cat}_min"), ("best_min", f"transit_{cat}_best_min"),
                          ("within", f"transit_{cat}_within")):
            out[name] = one[col].reindex(index).astype(float)
    info = {**fed[0], "parts": len(fed), "route_s": round(sum(i.get("route_s", 0.0) for i in fed), 2),
            "walk_s": round(sum(i.get("walk_s", 0.0) for i in fed), 2)}
    return out, info


def merge_score(engine: sa.Engine, cfg: dict, run_id: int, parts: list[Part], part_results: list[dict] | None = None) -> dict:
    """Score every candidate from the parts' access and transit tables: :func:`scoring.run.write_score`, as
    the single run does (context and no-data over all candidates), with the parts' access rows merged into
    its swap (duplicates from overlapping areas dropped). ``part_results``: what the parts returned (their
    transit summaries)."""
    acc_src = [work_table(run_id, p, "access") for p in parts]
    transit_src = [work_table(run_id, p, "transit") for p in parts]
    raster_src = [work_table(run_id, p, "raster") for p in parts]
    ac = AccessConfig.from_config(cfg)
    with engine.connect() as conn:
        cands = gpd.read_postgis(sa.text(CANDIDATES_SQL), conn, geom_col="geom")
        pois = pd.read_sql(sa.text(POIS_SQL), conn)
        dist = pd.DataFrame()
        if acc_src:
            union = " UNION ALL ".join(f'SELECT candidate_key, category, dist_m FROM raw."{t}" WHERE mode = :m'
                                       for t in acc_src)
            long = pd.read_sql(sa.text(union), conn, params={"m": ac.main_mode})
            if len(long):
                long = long.drop_duplicates(["candidate_key", "category"])
                dist = long.pivot(index="candidate_key", columns="category", values="dist_m")
    coverage = {"categories": poi_coverage(cands[["x", "y"]].to_numpy(dtype=float), pois,
                                           category_specs(ac)), "modes": {}}
    dupes: dict[str, int] = {}

    def merge(cur, staged):
        dupes["access"] = _merge_into(cur, staged["access"], ACCESS.columns, "candidate_key, mode, category", acc_src)

    transit = merged_transit(engine, cfg, transit_src, cands, [r.get("transit") or {} for r in part_results or []])
    rasters = merged_rasters(engine, raster_src, cands)
    summary = write_score(engine, cfg, run_id, cands, pois, dist, coverage, pd.DataFrame(columns=list(ACCESS.columns)),
                          merge=merge, transit=transit, rasters=rasters)
    drop_work_tables(engine, run_id)
    log.info("score: merged %d area(s)", len(parts))
    return {**summary, "parts": len(parts), "duplicates_dropped": int(dupes.get("access", 0))}
