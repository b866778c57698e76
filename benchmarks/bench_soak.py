"""A 30-night soak, accelerated: the demo town changes a little every night, one nightly per night.

    make bench-soak      # = python -m benchmarks.run --only soak   (~15 min; --quick: 6 nights)

The demo town (seed 7) is generated into benchmarks/work/soak/ with a fresh database
``plekzoeker_bench_soak`` (managed cluster; DATABASE_URL as-is). Night 0 is the first full run; then for
every night n = 1..N a small, seeded mutation step changes the delivered files the way registries do:

* BAG (``bag.gpkg``, edited in place with sqlite3 like a new delivery): two units in use (one of them an
  office) become *buiten gebruik* and one unit out of use comes back in use;
* vacancy register (``vacancy.csv``): one row added for an office unit, and from the fourth night on the
  oldest added row removed again;
* BRK (``brk_percelen.gpkg``): every third night one parcel of at least 2,000 m² is split in two halves
  (a new ``identificatie``/``perceelnummer`` for the eastern half).

and ``plekzoeker --config demo.yaml nightly --out out`` runs as a new process whose clock is n days
ahead (libfaketime, ``FAKETIME=+nd``: the flow takes "today" from the system clock — detect's
first_seen/gone_since, publish's dated ``out/<date>`` and its ``keep_days`` pruning). Measured after each
night: wall time, exit status and that the night published (``out/<that date>`` exists and its
summary.json was published that day), the rows of every ``meta.*`` table and of
``result.candidate_history``, the size of ``out/`` and its run directories, ``pg_database_size`` and
the size of Prefect's own SQLite database. The soak town's config sets ``ledger: {keep_runs: 10,
keep_loads: 5}`` so that the ledger's bound is reached within the soak (``publish.keep_days`` stays 14).
Reported: first vs last night and a least-squares slope per night (nights 1..N). Needs libfaketime
(scripts/ensure-bench-tools.sh installs it as root).
"""
from __future__ import annotations

import csv
import datetime as dt
import os
import random
import sqlite3
import statistics
from pathlib import Path

import numpy as np

from .bench_nightly import bench_env, cli, demo_town, timed
from .common import WORK, figure, fresh_database

NIGHTS = 30
QUICK_NIGHTS = 6
BENCH_DB = "plekzoeker_bench_soak"
KEEP_RUNS, KEEP_LOADS = 10, 5  # the soak town's ledger section (defaults 400 / 30 would not be reached in 30 nights)
KEEP_DAYS = 14  # publish.keep_days of config/default.yaml, which the soak town keeps
NIGHTS_FILE = Path(__file__).resolve().parent / "soak_nights.json"  # every night's measurements (committed)
FAKETIME_LIBS = ("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1")
COUNTED = ("meta.run", "meta.input", "meta.reject", "meta.stage", "meta.raster", "result.candidate_history",
           "result.candidate", "result.exclusion")


# --- the mutation step --------------------------------------------------------------------------

def _gpkg(path: Path) -> sqlite3.Connection:
    """sqlite3 on a GeoPackage; the R-tree triggers name spatial functions that only fire on geometry changes."""
    con = sqlite3.connect(path)
    for fn in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):
        con.create_function(fn, 1, lambda g: 0)
    return con


def mutate_bag(path: Path, rng: random.Random) -> None:
    con = _gpkg(path)
    with con:
        in_use = [r[0] for r in con.execute("SELECT fid FROM verblijfsobject WHERE status = 'Verblijfsobject in gebruik' "
                                            "ORDER BY fid")]
        offices = [r[0] for r in con.execute("SELECT fid FROM verblijfsobject WHERE status = 'Verblijfsobject in gebruik' "
                                             "AND gebruiksdoel LIKE '%kantoorfunctie%' ORDER BY fid")]
        out_of_use = [r[0] for r in con.execute("SELECT fid FROM verblijfsobject WHERE status = "
                                                "'Verblijfsobject buiten gebruik' ORDER BY fid")]
        picked = rng.sample(offices, 1) if offices else []
        for fid in picked + rng.sample([f for f in in_use if f not in picked], 1):
            con.execute("UPDATE verblijfsobject SET status = 'Verblijfsobject buiten gebruik' WHERE fid = ?", (fid,))
        if out_of_use:
            con.execute("UPDATE verblijfsobject SET status = 'Verblijfsobject in gebruik' WHERE fid = ?",
                        (rng.choice(out_of_use),))
    con.close()


def mutate_vacancy(path: Path, bag: Path, night: int, rng: random.Random, today: dt.date) -> None:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    fields = list(rows[0].keys())
    con = _gpkg(bag)
    offices = [r[0] for r in con.execute("SELECT identificatie FROM verblijfsobject WHERE gebruiksdoel LIKE "
                                         "'%kantoorfunctie%' ORDER BY identificatie")]
    con.close()
    listed = {r["verblijfsobject_id"] for r in rows}
    added = [r for r in rows if r["source"].startswith("soak night")]
    new_id = rng.choice([o for o in offices if o not in listed] or offices)
    rows.append({**dict.fromkeys(fields, ""), "verblijfsobject_id": new_id,
                 "vacant_since": (today - dt.timedelta(days=rng.randint(30, 400))).isoformat(),
                 "source": f"soak night {night}"})
    if len(added) >= 3:
        rows.remove(added[0])
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def split_parcel(path: Path, rng: random.Random) -> None:
    import pyogrio
    from shapely.geometry import box

    df = pyogrio.read_dataframe(path, layer="perceel")
    big = df[df.geometry.area >= 2000]
    if big.empty:
        return
    i = rng.choice(list(big.index))
    g = df.geometry[i]
    minx, miny, maxx, maxy = g.bounds
    mid = (minx + maxx) / 2
    west, east = g.intersection(box(minx, miny, mid, maxy)), g.intersection(box(mid, miny, maxx, maxy))
    new = df.loc[[i]].copy()
    new["identificatie"] = str(int(df["identificatie"].astype("int64").max()) + 1).zfill(len(df["identificatie"][i]))
    new["perceelnummer"] = int(df["perceelnummer"].max()) + 1
    new["kadastraleGrootteWaarde"] = round(east.area)
    new = new.set_geometry([east], crs=df.crs)
    df.loc[i, "kadastraleGrootteWaarde"] = round(west.area)
    df = df.set_geometry([west if j == i else geom for j, geom in zip(df.index, df.geometry)], crs=df.crs)
    import pandas as pd

    out = pd.concat([df, new], ignore_index=True)
    tmp = path.with_name(f".{path.name}.tmp.gpkg")
    tmp.unlink(missing_ok=True)
    pyogrio.write_dataframe(out.set_crs(df.crs, allow_override=True), tmp, layer="perceel", driver="GPKG")
    os.replace(tmp, path)


def mutate(town: Path, night: int, today: dt.date) -> list[str]:
    """One night's changes to the delivered files; returns what changed."""
    rng = random.Random(1000 + night)
    mutate_bag(town / "bag.gpkg", rng)
    mutate_vacancy(town / "vacancy.csv", town / "bag.gpkg", night, rng, today)
    changed = ["bag", "signal:vacancy"]
    if night % 3 == 0:
        split_parcel(town / "brk_percelen.gpkg", rng)
        changed.append("brk")
    return changed


# --- measuring ----------------------------------------------------------------------------------

def _faketime_lib() -> str | None:
    return next((p for p in FAKETIME_LIBS if Path(p).exists()), None)


def _dir_mb(p: Path) -> float:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file() and not f.is_symlink()) / 2**20


def state(url: str, out: Path, prefect_db: Path) -> dict:
    import sqlalchemy as sa

    eng = sa.create_engine(url)
    try:
        with eng.connect() as c:
            rows = {t: int(c.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()) for t in COUNTED}
            db_mb = c.execute(sa.text("SELECT pg_database_size(current_database())")).scalar() / 2**20
    finally:
        eng.dispose()
    return {"rows": rows, "db_mb": round(db_mb, 2), "out_mb": round(_dir_mb(out), 2),
            "out_runs": sum(1 for d in (out / "runs").iterdir() if not d.name.startswith(".")),
            "out_dated_links": sum(1 for p in out.iterdir() if p.is_symlink() and p.name != "latest"),
            "prefect_db_mb": round(prefect_db.stat().st_size / 2**20, 2) if prefect_db.exists() else None}


def published_on(out: Path, day: dt.date) -> bool:
    import json

    link = out / day.isoformat()
    try:
        return json.loads((link / "summary.json").read_text())["published_at"].startswith(day.isoformat())
    except (OSError, ValueError, KeyError):
        return False


def slope(ys: list[float]) -> float:
    return float(np.polyfit(np.arange(len(ys)), np.asarray(ys, dtype=float), 1)[0]) if len(ys) > 1 else 0.0


def run(args) -> list[dict]:
    lib = _faketime_lib()
    if lib is None:
        print("  libfaketime not installed (apt-get install libfaketime): soak skipped", flush=True)
        return []
    nights = QUICK_NIGHTS if getattr(args, "quick", False) else NIGHTS
    base = WORK / "soak"
    config = demo_town(base / "town")
    with config.open("a", encoding="utf-8") as fh:  # retention small enough to reach its bound within the soak
        fh.write(f"ledger: {{keep_runs: {KEEP_RUNS}, keep_loads: {KEEP_LOADS}}}\n")
    town, out = config.parent, base / "out"
    if out.exists():
        import shutil

        shutil.rmtree(out)
    url, drop = fresh_database(BENCH_DB)
    env = bench_env(url)
    prefect_db = Path(env["PREFECT_HOME"]) / "prefect.db"
    start = dt.date.today()
    load = [os.getloadavg()[0]]
    per_night: list[dict] = []
    try:
        for n in range(nights + 1):
            day = start + dt.timedelta(days=n)
            changed = mutate(town, n, day) if n else ["all (first run)"]
            wall, _, err = timed(cli(config, out), {**env, "LD_PRELOAD": lib, "FAKETIME": f"+{n}d",
                                                    "FAKETIME_NO_CACHE": "1"})
            ran_flow = "nothing to do" not in err
            per_night.append({"night": n, "day": day.isoformat(), "wall_s": round(wall, 2), "changed": changed,
                              "published": published_on(out, day), "ran_flow": ran_flow, **state(url, out, prefect_db)})
            load.append(os.getloadavg()[0])
            s = per_night[-1]
            print(f"  night {n:2d} {day}: {wall:5.1f} s, published={s['published']}, meta.run={s['rows']['meta.run']}, "
                  f"meta.input={s['rows']['meta.input']}, out={s['out_mb']} MB ({s['out_runs']} runs), "
                  f"db={s['db_mb']} MB", flush=True)
    finally:
        drop()
    import json

    NIGHTS_FILE.write_text(json.dumps(per_night, indent=1) + "\n", encoding="utf-8")
    return figures(per_night, load)


def figures(per_night: list[dict], load: list[float]) -> list[dict]:
    """First vs last changed night, the slope per night over all nights and over the last third (0 once a
    series has reached its bound), against the bound where there is one."""
    nights = [p for p in per_night if p["night"] > 0]
    first, last = nights[0], nights[-1]
    k = max(2, len(nights) // 3)
    series = {"db_mb": [p["db_mb"] for p in nights], "out_mb": [p["out_mb"] for p in nights],
              "out_runs": [p["out_runs"] for p in nights], "prefect_db_mb": [p["prefect_db_mb"] or 0 for p in nights],
              **{t: [p["rows"][t] for p in nights] for t in COUNTED}}
    growth = {name: {"first": v[0], "last": v[-1], "per_night": round(slope(v), 3),
                     "per_night_last_third": round(slope(v[-k:]), 3)} for name, v in series.items()}
    published = sum(p["published"] for p in nights)
    walls = [p["wall_s"] for p in nights]
    bound_night = min(KEEP_DAYS + 1, len(nights))  # the first night whose publish prunes the oldest one
    common = {"nights": len(nights), "ledger": {"keep_runs": KEEP_RUNS, "keep_loads": KEEP_LOADS},
              "publish_keep_days": KEEP_DAYS, "load_avg_1min": f"{min(load):.2f}-{max(load):.2f} (2 cores, shared)",
              "per_night": str(NIGHTS_FILE.relative_to(NIGHTS_FILE.parents[1])),
              "command": "python -m benchmarks.run --only soak"}
    return [
        figure("soak_nights_published", published, "nights", "nights run", len(nights), True,
               failed_or_unpublished=[p["day"] for p in nights if not p["published"]], **common),
        figure("soak_wall_last_third_median_s", statistics.median(walls[-k:]), "s",
               "median wall of the first third of the nights", statistics.median(walls[:k]), False,
               wall_s=walls, first_full_night_s=per_night[0]["wall_s"]),
        figure("soak_db_size_mb", last["db_mb"], "MB", "pg_database_size after the first changed night",
               first["db_mb"], False, growth=growth["db_mb"]),
        figure("soak_out_dir_mb", last["out_mb"], "MB", f"out/ on night {bound_night}, when pruning began",
               nights[bound_night - 1]["out_mb"], False, growth=growth["out_mb"], run_dirs=growth["out_runs"],
               dated_links=last["out_dated_links"]),
        figure("soak_meta_run_rows", last["rows"]["meta.run"], "rows", "the bound, ledger.keep_runs", KEEP_RUNS, False,
               growth={name: g for name, g in growth.items() if name not in ("db_mb", "out_mb", "out_runs")}),
    ]
