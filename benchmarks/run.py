"""Run the benchmarks and record them in benchmarks/results.json and BENCHMARKS.md.

    python -m benchmarks.run [--units 1000000] [--only ingest,access]

Every figure is measured against a baseline *in the same run on the same machine*, and reported
as value, unit, baseline value and ratio, where the ratio always says how many times better
plekzoeker is than the baseline (> 1 means ahead). Each contender runs in its own process so its
peak RSS can be read from the kernel (``ru_maxrss`` of the child).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
RESULTS = HERE / "results.json"
REPORT = HERE.parent / "BENCHMARKS.md"
BENCH_DB = "plekzoeker_bench"


def machine() -> dict:
    mem = next((int(l.split()[1]) // 1024 for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")), None)
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), "")
    pg = subprocess.run(["/usr/lib/postgresql/15/bin/postgres", "--version"], capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_mb": mem, "python": platform.python_version(),
            "os": platform.platform(), "postgres": pg}


def run_child(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Run a command; return (wall seconds, peak RSS MB of that child alone, stdout)."""
    import tempfile

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(p.pid, 0)
        dt = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:3])}... failed: {err.read()[-2000:]}")
        return dt, usage.ru_maxrss / 1024.0, out.read()


def bench_db_url() -> str:
    from plekzoeker.db.cluster import Cluster
    from plekzoeker.db.engine import get_engine
    from plekzoeker.db.migrate import migrate

    if os.environ.get("DATABASE_URL"):
        url = os.environ["DATABASE_URL"]
    else:
        cluster = Cluster(Path(os.environ.get("PLEKZOEKER_HOME", ".plekzoeker")))
        cluster.start()
        url = cluster.create_database(BENCH_DB)
    os.environ["DATABASE_URL"] = url
    migrate(get_engine())
    return url


def figure(name: str, value: float, unit: str, baseline_name: str, baseline: float, higher_is_better: bool, **extra) -> dict:
    ratio = value / baseline if higher_is_better else baseline / value
    return {"name": name, "value": round(value, 3), "unit": unit, "baseline": baseline_name,
            "baseline_value": round(baseline, 3), "ratio": round(ratio, 3), **extra}


def bench_ingest(units: int) -> list[dict]:
    """plekzoeker's BAG load vs ogr2ogr (PG_USE_COPY) on the same GeoPackage, same server."""
    from sqlalchemy.engine import make_url

    from plekzoeker.demo.synthetic_bag import write_bag_gpkg

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


SECTIONS = {"ingest": bench_ingest}


def write_report(results: dict) -> None:
    lines = ["# Benchmarks", "", "Measured by `make bench` (`python -m benchmarks.run`); every ratio is plekzoeker against a",
             "baseline measured in the same run on the same machine (> 1 means plekzoeker is ahead).", "",
             "## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in results["machine"].items()]
    lines += ["", f"Run at {results['run_at']}.", "", "| figure | plekzoeker | baseline | baseline value | ratio | notes |",
              "|---|---|---|---|---|---|"]
    for sec, figs in results["sections"].items():
        for f in figs:
            notes = ", ".join(f"{k}={v}" for k, v in f.items()
                              if k not in {"name", "value", "unit", "baseline", "baseline_value", "ratio"})
            lines.append(f"| {sec}: {f['name']} | {f['value']:,} {f['unit']} | {f['baseline']} | {f['baseline_value']:,} | "
                         f"**{f['ratio']}×** | {notes} |")
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", type=int, default=1_000_000, help="verblijfsobjecten in the synthetic BAG (default 1M)")
    ap.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections: {', '.join(SECTIONS)}")
    args = ap.parse_args()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.setdefault("sections", {})
    results["machine"] = machine()
    results["run_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    for name in args.only.split(","):
        print(f"== {name}", flush=True)
        figs = SECTIONS[name](args.units)
        for f in figs:
            print(f"  {f['name']}: {f['value']:,} {f['unit']} vs {f['baseline']} {f['baseline_value']:,} -> {f['ratio']}x", flush=True)
        results["sections"][name] = figs
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    write_report(results)
    print(f"wrote {RESULTS} and {REPORT}")


if __name__ == "__main__":
    main()
