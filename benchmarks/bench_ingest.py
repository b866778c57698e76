"""Ingest benchmark: plekzoeker's loads against the usual tools, on the same input and server.

* BAG: ``plekzoeker``'s load of the verblijfsobject layer of a synthetic BAG GeoPackage vs
  ``ogr2ogr -f PostgreSQL --config PG_USE_COPY YES`` of the same layer (with a GiST index).
* OSM: ``plekzoeker ingest osm`` (``load_osm``) vs ``osm2pgsql --create`` (default pgsql output)
  of the same PBF: the demo generator's town, tiled (shifted copies with fresh ids) up to the
  wanted number of nodes. osm2pgsql writes into a scratch database, so plekzoeker's tables are
  untouched. Skipped, with a note, when osm2pgsql is not installed (``make bench`` installs it).

Each contender runs in its own process; the times are whole-process wall times.
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
                   "(id check with rejects, duplicate check), primary key, GiST index, atomic swap into core, ANALYZE")
OGR_INCLUDES = "process start, read, COPY, ogc_fid serial primary key, GiST index (SPATIAL_INDEX=GIST)"


def run(args) -> list[dict]:
    units = 100_000 if args.quick else args.units
    WORK.mkdir(exist_ok=True)
    url = bench_db_url()
    figs = _bag(url, units)
    osm = _osm(url, units)
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
               rows=rows, plekzoeker_s=round(pz_t, 2), baseline_s=round(ogr_t, 2), target=">= 1.5x",
               includes=PZ_BAG_INCLUDES, baseline_includes=OGR_INCLUDES),
        figure("ingest_bag_units_peak_rss", pz_rss, "MB", "ogr2ogr peak RSS", ogr_rss, False, target="< 2048 MB"),
    ]


# --------------------------------------------------------------------------- OSM

def _osm(url: str, units: int) -> list[dict] | str:
    """The OSM figure, or why it was skipped."""
    if shutil.which("osm2pgsql") is None:
        return "osm2pgsql is not installed; make bench installs it (apt-get install -y osm2pgsql)"
    target_nodes = max(50_000, units // 4)
    pbf = _scaled_pbf(target_nodes)
    counts = json.loads(pbf.with_suffix(".json").read_text())
    pz_t, pz_rss, out = run_child([sys.executable, "-m", "benchmarks.load_child", "osm", str(pbf)])
    st = json.loads(out.strip().splitlines()[-1])
    scratch = _scratch_db(url)
    if scratch is None:
        return f"could not create the scratch database {OSM2PGSQL_DB} for osm2pgsql"
    u = make_url(scratch)
    env = {"PGPASSWORD": u.password} if u.password else {}
    try:
        o_t, o_rss, _ = run_child(["osm2pgsql", "--create", "-d", u.database, "-H", str(u.host), "-P", str(u.port),
                                   "-U", str(u.username), str(pbf)], env=env)
    finally:
        _drop_scratch_db(url)
    return [
        figure("ingest_osm_seconds", pz_t, "s", "osm2pgsql --create (default pgsql output)", o_t, False,
               nodes=counts["nodes"], ways=counts["ways"], pbf_mb=round(pbf.stat().st_size / 1e6, 1), plekzoeker_rows=st["rows_out"],
               plekzoeker_rss_mb=round(pz_rss, 1), baseline_rss_mb=round(o_rss, 1),
               includes="process start, sha256, pyosmium read, street graph (nodes/edges), POIs, land-use polygons, "
                        "validation, COPY, indexes, atomic swap, ANALYZE",
               baseline_includes="planet_osm_point/line/polygon/roads with GiST indexes, geometry clustering, "
                                 "RAM middle (no --slim); into a scratch database"),
    ]


def _scaled_pbf(target_nodes: int) -> Path:
    """The demo town's PBF tiled (shifted copies, fresh ids) to at least ``target_nodes`` nodes; cached."""
    out = WORK / f"osm_{target_nodes}.osm.pbf"
    if out.exists() and out.with_suffix(".json").exists():
        return out
    base = _base_town_pbf()
    import math

    import osmium
    from osmium.osm.mutable import Node, Way

    nodes, ways = [], []

    class Collect(osmium.SimpleHandler):
        def node(self, n):
            nodes.append((n.id, n.location.lon, n.location.lat, {t.k: t.v for t in n.tags}))

        def way(self, w):
            ways.append((w.id, [r.ref for r in w.nodes], {t.k: t.v for t in w.tags}))

    Collect().apply_file(str(base))
    copies = max(1, math.ceil(target_nodes / len(nodes)))
    lons, lats = [n[1] for n in nodes], [n[2] for n in nodes]
    dx, dy = (max(lons) - min(lons)) * 1.05, (max(lats) - min(lats)) * 1.05
    cols = math.ceil(math.sqrt(copies))
    nid_step, wid_step = max(n[0] for n in nodes), max(w[0] for w in ways)
    print(f"writing {out} ({copies} copies of {base}, {copies * len(nodes):,} nodes) ...", flush=True)
    tmp = out.with_suffix(".tmp.pbf")
    h = osmium.io.Header()
    h.set("generator", "plekzoeker benchmark (tiled demo town)")
    meta = dict(version=1, timestamp="2024-01-01T00:00:00Z", changeset=1, uid=1, user="demodorp")
    w = osmium.SimpleWriter(str(tmp), header=h, overwrite=True)
    try:
        for c in range(copies):  # all nodes first, then all ways (sorted as a PBF should be)
            ox, oy, off = (c % cols) * dx, (c // cols) * dy, c * nid_step
            for i, lon, lat, tags in nodes:
                w.add_node(Node(id=i + off, location=(round(lon + ox, 7), round(lat - oy, 7)), tags=tags, **meta))
        for c in range(copies):
            off, woff = c * nid_step, c * wid_step
            for i, refs, tags in ways:
                w.add_way(Way(id=i + woff, nodes=[r + off for r in refs], tags=tags, **meta))
    finally:
        w.close()
    os.replace(tmp, out)
    out.with_suffix(".json").write_text(json.dumps({"nodes": copies * len(nodes), "ways": copies * len(ways),
                                                     "base": str(base), "copies": copies}))
    return out


def _base_town_pbf() -> Path:
    """The largest demo-town PBF already generated (e.g. by the national benchmark), else a new town."""
    found = sorted(WORK.glob("*/town.osm.pbf"), key=lambda p: p.stat().st_size)
    if found:
        return found[-1]
    from plekzoeker.demo.generate import generate_town

    town = WORK / "osm_town"
    print(f"generating a demo town in {town} for its PBF ...", flush=True)
    generate_town(town, units=300_000)
    return town / "town.osm.pbf"


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
