"""Ingest benchmark: plekzoeker's BAG load vs ogr2ogr (PG_USE_COPY) on the same GeoPackage and server."""
from __future__ import annotations

import json
import sys

from sqlalchemy.engine import make_url

from plekzoeker.demo.synthetic_bag import write_bag_gpkg

from .common import WORK, bench_db_url, figure, run_child


def run(args) -> list[dict]:
    units = 100_000 if args.quick else args.units
    WORK.mkdir(exist_ok=True)
    gpkg = WORK / f"bag_{units}.gpkg"
    if not gpkg.exists():
        print(f"generating {gpkg} ({units:,} units) ...", flush=True)
        write_bag_gpkg(gpkg, units)
    url = bench_db_url()
    u = make_url(url)
    pz_t, pz_rss, out = run_child([sys.executable, "-m", "benchmarks.load_child", str(gpkg)])
    rows = json.loads(out.strip().splitlines()[-1])["rows_in"]
    pg = f"PG:host={u.host} port={u.port} user={u.username} dbname={u.database}" + (f" password={u.password}" if u.password else "")
    ogr_t, ogr_rss, _ = run_child(["ogr2ogr", "-f", "PostgreSQL", pg, str(gpkg), "verblijfsobject", "-nln", "bench_ogr_vbo",
                                   "-overwrite", "-lco", "SPATIAL_INDEX=GIST", "--config", "PG_USE_COPY", "YES"])
    return [
        figure("ingest_bag_units_rows_per_s", rows / pz_t, "rows/s", "ogr2ogr -f PostgreSQL (PG_USE_COPY)", units / ogr_t, True,
               rows=rows, plekzoeker_s=round(pz_t, 2), baseline_s=round(ogr_t, 2), includes="read, validate, COPY, indexes, swap"),
        figure("ingest_bag_units_peak_rss", pz_rss, "MB", "ogr2ogr peak RSS", ogr_rss, False, target="< 2048 MB"),
    ]


