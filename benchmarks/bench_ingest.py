"""Ingest benchmark: plekzoeker's loads against the usual tools, on the same input and server.

* BAG: ``plekzoeker``'s load of the verblijfsobject layer of a synthetic BAG GeoPackage vs
  ``ogr2ogr -f PostgreSQL --config PG_USE_COPY YES`` of the same layer (with a GiST index).
* OSM: ``plekzoeker ingest osm`` (``load_osm``) vs ``osm2pgsql --create`` (default pgsql output)
  of the same PBF: the demo generator's town at ``--units`` verblijfsobjecten, which like a Dutch
  extract is dominated by the BAG import (building ways, address nodes). osm2pgsql writes into a scratch database, so plekzoeker's tables are
  untouched. Skipped, with a note, when osm2pgsql is not installed (``make bench`` installs it).

Each contender runs in its own process; the times are whole-process wall times. The OSM contenders
run three times each, interleaved, and the median run is the figure (the machine is shared); rows
are what each wrote (plekzoeker: its core tables; osm2pgsql: planet_osm_point/line/polygon/roads).
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from plekzoeker.demo.synthetic_bag import write_bag_gpkg

from .common import WORK, bench_db_url, figure, run_child

OSM2PGSQL_DB = "plekzoeker_bench_osm2pgsql"

PZ_BAG_INCLUDES = ("process start, file sha256, read (GDAL), id/address cleaning, binary COPY, validation "
                   "(id check with rejects, plausibility guards, duplicate check, shrink guard against the current rows), "
                   "primary key, GiST index, ANALYZE, atomic swap into core")
SERVER_SETTINGS = ("wal_level", "synchronous_commit", "fsync", "shared_buffers", "maintenance_work_mem", "max_wal_size",
                   "checkpoint_timeout", "max_parallel_maintenance_workers", "max_parallel_workers_per_gather")
OGR_INCLUDES = "process start, read, COPY, ogc_fid serial primary key, GiST index (SPATIAL_INDEX=GIST)"


def run(args) -> list[dict]:
    units = 100_000 if args.quick else args.units
    WORK.mkdir(exist_ok=True)
    url = bench_db_url()
    figs = _bag(url, units)
    osm = _osm(url, units, runs=1 if args.quick else OSM_RUNS)
    if isinstance(osm, str):  # skipped: say why next to the BAG figure (the report has no empty rows)
        print(f"  ingest_osm_seconds skipped: {osm}", flush=True)
        figs[0]["osm2pgsql_figure"] = f"skipped ({osm})"
        return figs
    return figs + osm


def _bag(url: str, units: int) -> list[dict]:
    gpkg = WORK / f"bag_{units}.gpkg"
    if not gpkg.exists():
        print(f"generating {gpkg} ({units:,} units) ...", flush=True)
        write_bag_gpkg(gpkg, units)
    u = make_url(url)
    pz_t, pz_rss, out = run_child([sys.executable, "-m", "benchmarks.load_child", str(gpkg)])
    rows = json.loads(out.strip().splitlines()[-1])["rows_in"]
    pg = f"PG:host={u.host} port={u.port} user={u.username} dbname={u.database}" + (f" password={u.password}" if u.password else "")
    ogr_t, ogr_rss, _ = run_child(["ogr2ogr", "-f", "PostgreSQL", pg, str(gpkg), "verblijfsobject", "-nln", "bench_ogr_vbo",
                                   "-overwrite", "-lco", "SPATIAL_INDEX=GIST", "--config", "PG_USE_COPY", "YES"])
    return [
        figure("ingest_bag_units_rows_per_s", rows / pz_t, "rows/s", "ogr2ogr -f PostgreSQL (PG_USE_COPY)", units / ogr_t, True,
               rows=rows, plekzoeker_s=round(pz_t, 2), baseline_s=round(ogr_t, 2), target=">= 2x",
               includes=PZ_BAG_INCLUDES, baseline_includes=OGR_INCLUDES, server=_server(url),
               load_avg_1min=round(os.getloadavg()[0], 2)),
        figure("ingest_bag_units_peak_rss", pz_rss, "MB", "ogr2ogr peak RSS", ogr_rss, False, target="< 2048 MB"),
    ]


def _server(url: str) -> str:
    """Which server both contenders wrote to, with the settings that matter for bulk loads."""
    import psycopg

    from plekzoeker.db.cluster import Cluster

    u = make_url(url)
    managed = u.host == "127.0.0.1" and u.port == Cluster(Path(os.environ.get("PLEKZOEKER_HOME", ".plekzoeker"))).port
    with psycopg.connect(u.set(drivername="postgresql").render_as_string(hide_password=False)) as conn:
        vals = {k: conn.execute(f"SHOW {k}").fetchone()[0] for k in SERVER_SETTINGS}
    who = "the managed cluster (settings of plekzoeker/db/cluster.py)" if managed else "the DATABASE_URL server"
    return f"{who}, the same for both: " + " ".join(f"{k}={v}" for k, v in vals.items())


# --------------------------------------------------------------------------- OSM

OSM_RUNS = 3  # interleaved runs of each contender; the figure is the median (the machine is shared)
OSM2PGSQL_TABLES = ("planet_osm_point", "planet_osm_line", "planet_osm_polygon", "planet_osm_roads")


def _osm(url: str, units: int, runs: int = OSM_RUNS) -> list[dict] | str:
    """The OSM figure (median of ``runs`` interleaved runs of each contender), or why it was skipped."""
    if shutil.which("osm2pgsql") is None:
        return "osm2pgsql is not installed; make bench installs it (apt-get install -y osm2pgsql)"
    pbf, counts = _dutch_pbf(units)
    got = _contenders(url, pbf, runs)
    if isinstance(got, str):
        return got
    (pz_t, pz_rss, pz_rows), (o_t, o_rss, o_rows), pz, o2 = got
    bare = _without_bag_import(pbf)
    got = _contenders(url, bare, runs)
    if isinstance(got, str):
        return got
    (b_t, b_rss, b_rows), (bo_t, bo_rss, bo_rows), bpz, bo2 = got
    objects = counts["osm_nodes"] + counts["osm_ways"]
    return [
        figure("ingest_osm_seconds", pz_t, "s", "osm2pgsql --create (default pgsql output)", o_t, False,
               runs=runs, plekzoeker_runs_s=[round(r[0], 2) for r in pz], baseline_runs_s=[round(r[0], 2) for r in o2],
               nodes=counts["osm_nodes"], ways=counts["osm_ways"], building_ways=counts["osm_building_ways"],
               building_nodes=counts["osm_building_nodes"], address_nodes=counts["osm_address_nodes"],
               street_ways=counts["streets"], pbf_mb=round(pbf.stat().st_size / 1e6, 1),
               plekzoeker_rows=pz_rows, baseline_rows=o_rows,
               plekzoeker_rows_per_s=round(pz_rows / pz_t), baseline_rows_per_s=round(o_rows / o_t),
               plekzoeker_objects_per_s=round(objects / pz_t), baseline_objects_per_s=round(objects / o_t),
               plekzoeker_rss_mb=round(pz_rss, 1), baseline_rss_mb=round(o_rss, 1),
               includes="process start, sha256, one pyosmium pass (C++ filters drop buildings and address nodes), "
                        "street graph (nodes/edges), POIs, land-use polygons, power lines, building levels, "
                        "validation, COPY, indexes, atomic swap, ANALYZE",
               baseline_includes="planet_osm_point/line/polygon/roads with GiST indexes, geometry clustering, "
                                 "RAM middle (no --slim); into a scratch database"),
        figure("ingest_osm_without_bag_import_seconds", b_t, "s", "osm2pgsql --create, same file", bo_t, False,
               runs=runs, plekzoeker_runs_s=[round(r[0], 2) for r in bpz], baseline_runs_s=[round(r[0], 2) for r in bo2],
               pbf_mb=round(bare.stat().st_size / 1e6, 1), plekzoeker_rows=b_rows, baseline_rows=bo_rows,
               plekzoeker_rss_mb=round(b_rss, 1), baseline_rss_mb=round(bo_rss, 1),
               note="the same PBF without the BAG import's building ways and address nodes (their corner nodes "
                    "stay, untagged): plekzoeker's time is nearly all fixed cost (interpreter, imports, config, "
                    "database round trips), osm2pgsql's is per object; for reading, not a target"),
    ]


def _contenders(url: str, pbf: Path, runs: int):
    """``runs`` interleaved runs of plekzoeker's load and osm2pgsql on ``pbf``: (median pz, median osm2pgsql,
    all pz runs, all osm2pgsql runs), each run (seconds, peak RSS MB, rows); or why osm2pgsql could not run."""
    pz, o2 = [], []
    for _ in range(runs):
        t, rss, out = run_child([sys.executable, "-m", "benchmarks.load_child", "osm", str(pbf)])
        pz.append((t, rss, json.loads(out.strip().splitlines()[-1])["rows_out"]))
        got = _osm2pgsql(url, pbf)
        if isinstance(got, str):
            return got
        o2.append(got)
    return _median(pz), _median(o2), pz, o2


def _without_bag_import(pbf: Path) -> Path:
    """``pbf`` without the building ways (``source=BAG``) and address nodes; cached next to it."""
    out = pbf.with_name("town.without_bag_import.osm.pbf")
    if out.exists() and out.stat().st_mtime >= pbf.stat().st_mtime:
        return out
    import osmium

    tmp = out.with_suffix(".tmp.pbf")
    w = osmium.SimpleWriter(str(tmp), overwrite=True)
    try:
        for o in osmium.FileProcessor(str(pbf)):
            if o.is_node():
                if "addr:housenumber" not in o.tags:
                    w.add_node(o)
            elif o.is_way():
                if o.tags.get("source") != "BAG":
                    w.add_way(o)
            elif o.is_relation():
                w.add_relation(o)
    finally:
        w.close()
    os.replace(tmp, out)
    return out


def _median(runs: list[tuple[float, float, int]]) -> tuple[float, float, int]:
    """The run with the median time (its RSS and rows go with it)."""
    return sorted(runs)[len(runs) // 2]


def _osm2pgsql(url: str, pbf: Path) -> tuple[float, float, int] | str:
    """One ``osm2pgsql --create`` into a fresh scratch database: (seconds, peak RSS MB, rows written), or why not."""
    import psycopg

    scratch = _scratch_db(url)
    if scratch is None:
        return f"could not create the scratch database {OSM2PGSQL_DB} for osm2pgsql"
    u = make_url(scratch)
    env = {"PGPASSWORD": u.password} if u.password else {}
    try:
        t, rss, _ = run_child(["osm2pgsql", "--create", "-d", u.database, "-H", str(u.host), "-P", str(u.port),
                               "-U", str(u.username), str(pbf)], env=env)
        with psycopg.connect(scratch) as conn:
            rows = sum(conn.execute(f"SELECT count(*) FROM {t_}").fetchone()[0] for t_ in OSM2PGSQL_TABLES)
    finally:
        _drop_scratch_db(url)
    return t, rss, rows


def _dutch_pbf(units: int) -> tuple[Path, dict]:
    """The demo generator's town at ``units`` verblijfsobjecten: its PBF and its manifest counts; cached.

    Like a Dutch extract the file is dominated by the BAG import (a building way per pand, an address
    node per unit; plekzoeker/demo/osm_buildings.py); streets, POIs and land use are a small share.
    """
    from .bench_national import generator_fingerprint

    town = WORK / f"osm_dutch_{units}"
    pbf, manifest, stamp = town / "town.osm.pbf", town / "manifest.json", town / ".generator"
    if not (pbf.exists() and manifest.exists() and stamp.exists() and stamp.read_text() == generator_fingerprint()):
        from plekzoeker.demo.generate import generate_town

        print(f"generating a demo town with {units:,} units in {town} for its PBF ...", flush=True)
        generate_town(town, units=units)
        stamp.write_text(generator_fingerprint())  # a town made by older generator code is remade
    return pbf, json.loads(manifest.read_text())["counts"]


def _scratch_db(url: str) -> str | None:
    """A fresh database with PostGIS on the benchmark's server, for osm2pgsql."""
    import psycopg

    u = make_url(url)
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{OSM2PGSQL_DB}"')
            conn.execute(f'CREATE DATABASE "{OSM2PGSQL_DB}"')
        scratch = u.set(drivername="postgresql", database=OSM2PGSQL_DB).render_as_string(hide_password=False)
        with psycopg.connect(scratch, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.execute("CREATE EXTENSION IF NOT EXISTS hstore")
        return scratch
    except psycopg.Error as exc:
        print(f"  cannot create {OSM2PGSQL_DB}: {exc}", flush=True)
        return None


def _drop_scratch_db(url: str) -> None:
    import psycopg

    u = make_url(url)
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{OSM2PGSQL_DB}" WITH (FORCE)')
    except psycopg.Error:
        pass
