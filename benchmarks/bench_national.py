"""National-scale benchmark: the full nightly flow (ingest, detect, score, publish) on synthetic
towns that are a documented fraction of the country, then an extrapolation to 100 %.

    make bench-national                       # = python -m benchmarks.run --only national
    PLEKZOEKER_BENCH_FRACTIONS=0.01,0.1 make bench-national

The country has about 10M verblijfsobjecten. Each fraction f is generated with
``generate_town(dir, units=f × 10M)`` (BAG GeoPackage, BRK GeoPackage, OSM PBF, signals, noise
raster — the real delivery formats) into benchmarks/work/, loaded into a fresh database
``plekzoeker_bench_national`` of the managed cluster (or DATABASE_URL as-is), and run by a child
process: ``nightly(force=True)`` then, in the same process, an unchanged ``nightly()`` (the rerun,
timed after start-up). Measured per fraction: wall time per stage (from the flow's own timings),
the whole run, the unchanged rerun, peak RSS (the sum over the child's process tree — flow,
Prefect's ephemeral server, Dask workers — sampled every 0.2 s, and the largest single process
from the kernel) and pg_database_size. Per stage, time is extrapolated to 10M units both
log-log (t = a·n^b) and linearly (t = c + k·n); the larger of the two is reported.

What the generator does *not* scale like the country: it adds residential neighbourhoods, so
panden and percelen grow with units at about 1:5 (the country has ~1.1 pand and ~0.9 perceel per
unit) and OSM nodes at ~1:57 (country ~1:2). Candidates do scale like the country: the generator
plants copies of its office and plot cells in proportion to units (1 vacant building and 2 plots per
1,000 units by default, i.e. 10k and 20k at 100 %, with their signal rows), and the figures
``national_*_candidates`` compare what it planted with what the nightly published. The plain
extrapolation (``national_nightly_full_s``) is complemented by a composition-corrected estimate
(``national_nightly_corrected_s``): each part scaled by what drives it to the country's row
counts (publish by candidates), and scoring replaced by a measurement of network access on a
synthetic street grid of national size (5M nodes, 50k candidates, national POI counts:
``national_access_compute_s``). ``national_stage_seconds_at_largest`` holds the largest
fraction's seconds per stage, per ingested source and per publish output (GeoJSON, GeoPackage,
XLSX/CSV lists, map pages).
Each stage's time includes ~1 s of Prefect subflow overhead (the flow-run heartbeat thread is
joined at the end of every subflow, in 1 s steps).
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

from .common import WORK, figure, fresh_database

NATIONAL_UNITS = 10_000_000
DEFAULT_FRACTIONS = (0.03, 0.10, 0.30)
QUICK_FRACTIONS = (0.001, 0.003)
BENCH_DB = "plekzoeker_bench_national"
# the real country, for the composition-corrected estimate (BAG, BRK, OSM Netherlands; rounded)
NATIONAL_ROWS = {"units": 10_000_000, "panden": 11_000_000, "percelen": 9_000_000, "osm_nodes": 5_000_000}
NATIONAL_GRAPH_NODES = 5_000_000     # a 80 m street grid of 5M nodes covers ~180 x 180 km, the size of the country
NATIONAL_CANDIDATES = 50_000
NATIONAL_POIS = {"stop": 50_000, "train_station": 400, "supermarket": 6_500, "gp": 5_000, "pharmacy": 2_000,
                 "primary_school": 7_000, "social_services": 5_000, "park": 10_000}
TARGETS = {"nightly_s": 1800.0, "peak_rss_mb": 8192.0, "rerun_demo_s": 10.0, "rerun_national_s": 60.0}
STAGES = ("ingest", "detect", "score", "publish")


# --- the child: one full nightly and one unchanged rerun in one process ---------------------------

def child(config: str, out_dir: str, dask: str | None = None) -> None:
    t0 = time.perf_counter()
    from plekzoeker.pipelines.flows import nightly

    t_import = time.perf_counter() - t0
    opts = json.loads(dask) if dask else None
    t = time.perf_counter()
    full = nightly(config_path=config, out_dir=out_dir, force=True, dask=opts)
    full_s = time.perf_counter() - t
    from plekzoeker.pipelines.unchanged import skip_unchanged_night

    t = time.perf_counter()  # what `plekzoeker nightly` does first on an unchanged night (no Prefect)
    up_to_date = skip_unchanged_night(config, out_dir, None, {"config_path": config, "out_dir": out_dir}) is not None
    unchanged_s = time.perf_counter() - t
    t = time.perf_counter()
    rerun = nightly(config_path=config, out_dir=out_dir, dask=opts)
    rerun_s = time.perf_counter() - t
    print(json.dumps({"import_s": round(t_import, 2), "full_s": round(full_s, 2), "rerun_s": round(rerun_s, 2),
                      "unchanged_check_s": round(unchanged_s, 2), "unchanged_check_skipped": up_to_date,
                      "timings_s": full["timings_s"], "rerun_timings_s": rerun["timings_s"],
                      "ingest_kinds_s": {r["kind"]: r.get("seconds", 0.0) for r in full["ingest"]},
                      "candidates": full["publish"].get("total"),
                      "published_files": full["publish"].get("files"),
                      "publish_parts_s": full["publish"].get("timings_s"),
                      "detect_counts": {k: v for k, v in (full.get("detect") or {}).items()
                                        if isinstance(v, (int, float)) and not isinstance(v, bool)},
                      "rerun_skipped": [s for s in ("detect", "score") if (rerun.get(s) or {}).get("skipped")]}))


def access_child(n_nodes: int, n_candidates: int) -> None:
    """Graph build + access (every category, walk and bike) on a synthetic street grid of national size."""
    import resource

    import pandas as pd

    from plekzoeker.scoring.access import access_table, build_graph
    from plekzoeker.scoring.graph_gen import grid_graph
    from plekzoeker.settings import load_config

    nodes, edges = grid_graph(n_nodes, spacing_m=80.0, seed=1)
    acfg = load_config(None)["access"]
    cats = {k: {"threshold_m": float(v["threshold_m"]), "cap_m": float(v["cap_m"])} for k, v in acfg["categories"].items()}
    share = n_nodes / NATIONAL_GRAPH_NODES
    rng = np.random.default_rng(2)
    box = (nodes.x.min(), nodes.x.max(), nodes.y.min(), nodes.y.max())
    pois = pd.concat([pd.DataFrame({"category": c, "x": rng.uniform(box[0], box[1], max(1, int(k * share))),
                                    "y": rng.uniform(box[2], box[3], max(1, int(k * share))), })
                      for c, k in NATIONAL_POIS.items() if c in cats], ignore_index=True)
    cands = pd.DataFrame({"candidate_key": [f"c{i}" for i in range(n_candidates)],
                          "x": rng.uniform(box[0], box[1], n_candidates), "y": rng.uniform(box[2], box[3], n_candidates)})
    out = {"nodes": len(nodes), "edges": len(edges), "pois": len(pois), "candidates": n_candidates}
    t0 = time.perf_counter()
    for mode in ("walk", "bike"):
        t = time.perf_counter()
        g = build_graph(nodes, edges, mode=mode)
        out[f"{mode}_build_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        access_table(g, cands, pois, cats, max_snap_m=float(acfg["max_snap_m"]))
        out[f"{mode}_access_s"] = round(time.perf_counter() - t, 2)
        del g
    out["total_s"] = round(time.perf_counter() - t0, 2)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out))


# --- the parent ------------------------------------------------------------------------------------

def _tree_rss_mb(pid: int) -> float:
    import psutil

    try:
        p = psutil.Process(pid)
        procs = [p, *p.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for q in procs:
        try:
            total += q.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


def run_sampled(cmd: list[str], env: dict) -> tuple[float, float, float, str]:
    """Run ``cmd``; return (wall s, peak RSS MB of its process tree, peak RSS MB of its largest process, stdout)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env={**os.environ, **env})
        peak = [0.0]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], _tree_rss_mb(p.pid))
                stop.wait(0.2)

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        stop.set()
        th.join()
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if p.returncode != 0:
            raise RuntimeError(f"national benchmark child failed ({p.returncode}): {err.read()[-3000:]}")
        return wall, peak[0], usage.ru_maxrss / 1024.0, out.read()


def _db_size_mb(url: str) -> float:
    import sqlalchemy as sa

    eng = sa.create_engine(url)
    try:
        with eng.connect() as c:
            return c.execute(sa.text("SELECT pg_database_size(current_database())")).scalar() / 2**20
    finally:
        eng.dispose()


def generator_fingerprint() -> str:
    """sha256 over the demo generator's modules (plekzoeker/demo/*.py)."""
    import hashlib

    import plekzoeker.demo

    h = hashlib.sha256()
    for f in sorted(Path(plekzoeker.demo.__file__).parent.glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def _town(units: int | None) -> tuple[Path, dict, float]:
    from plekzoeker.demo.config import write_demo_config
    from plekzoeker.demo.generate import generate_town

    d = WORK / f"national_{units or 'demo'}"
    manifest = d / "manifest.json"
    stamp = d / ".generator"  # the generator's source fingerprint: a town made by older code is remade
    t = 0.0
    if not manifest.exists() or not stamp.exists() or stamp.read_text() != generator_fingerprint():
        print(f"  generating {d} ...", flush=True)
        t0 = time.perf_counter()
        generate_town(d, seed=7, units=units)
        t = time.perf_counter() - t0
        stamp.write_text(generator_fingerprint())
    write_demo_config(d)
    m = json.loads(manifest.read_text())
    return d, {**m["counts"], "planted": m.get("planted")}, t


def measure(units: int | None, dask: dict | None = None) -> dict:
    """One fraction (``units`` None: the demo town): a full nightly and an unchanged rerun, fresh database."""
    town, counts, gen_s = _town(units)
    url, drop = fresh_database(BENCH_DB)
    env = {"DATABASE_URL": url, "PREFECT_HOME": str(WORK / "prefect-national"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_LOGGING_LEVEL": "WARNING"}
    cmd = [sys.executable, "-m", "benchmarks.bench_national", "--child", str(town / "demo.yaml"), str(WORK / "national-out")]
    if dask:
        cmd.append(json.dumps(dask))
    try:
        wall, tree_mb, max_mb, out = run_sampled(cmd, env)
        res = json.loads(out.strip().splitlines()[-1])
        res.update(units=counts["verblijfsobjecten"], panden=counts["panden"], percelen=counts["percelen"],
                   osm_nodes=counts["osm_nodes"], process_wall_s=round(wall, 2), peak_rss_tree_mb=round(tree_mb, 1),
                   peak_rss_process_mb=round(max_mb, 1), db_size_mb=round(_db_size_mb(url), 1),
                   generate_s=round(gen_s, 2), town=str(town), planted=counts.get("planted"))
        return res
    finally:
        drop()


def fit(n: list[float], t: list[float], at: float) -> dict:
    """Extrapolate ``t(n)`` to ``at`` log-log and linearly; ``estimate`` is the larger (the cautious one)."""
    n_, t_ = np.asarray(n, float), np.maximum(np.asarray(t, float), 1e-3)
    if len(n_) < 2:
        return {"estimate": float(t_[0] * at / n_[0]), "exponent": 1.0, "loglog": None, "linear": None}
    b, a = np.polyfit(np.log(n_), np.log(t_), 1)
    k, c = np.polyfit(n_, t_, 1)
    loglog, linear = float(np.exp(a) * at ** b), float(c + k * at)
    return {"estimate": max(loglog, linear), "exponent": round(float(b), 3), "loglog": round(loglog, 1),
            "linear": round(linear, 1)}


def _fractions(args) -> tuple[float, ...]:
    env = os.environ.get("PLEKZOEKER_BENCH_FRACTIONS")
    if env:
        return tuple(float(x) for x in env.split(",") if x.strip())
    return QUICK_FRACTIONS if getattr(args, "quick", False) else DEFAULT_FRACTIONS


def run(args) -> list[dict]:
    WORK.mkdir(exist_ok=True)
    fractions = _fractions(args)
    points = []
    for f in fractions:
        units = round(f * NATIONAL_UNITS)
        print(f"  national {f:.1%} ({units:,} units) ...", flush=True)
        m = measure(units)
        m["fraction"] = f
        print(f"    {json.dumps(m)}", flush=True)
        points.append(m)
    print("  demo town (unchanged rerun after start-up) ...", flush=True)
    demo = measure(None)
    print(f"    {json.dumps(demo)}", flush=True)
    largest = points[-1]
    print(f"  national {largest['fraction']:.1%} on Dask (tiles 2x1, LocalCluster of 2) ...", flush=True)
    scaled = measure(round(largest["fraction"] * NATIONAL_UNITS),
                     dask={"enabled": True, "partition_by": "tiles", "tiles": [2, 1], "n_workers": 2})
    print(f"    {json.dumps(scaled)}", flush=True)

    n_nodes = NATIONAL_GRAPH_NODES // (100 if getattr(args, "quick", False) else 1)
    print(f"  network access on a synthetic {n_nodes:,}-node street grid ...", flush=True)
    _, acc_tree_mb, _, acc_out = run_sampled([sys.executable, "-m", "benchmarks.bench_national", "--access-child",
                                              str(n_nodes), str(NATIONAL_CANDIDATES * n_nodes // NATIONAL_GRAPH_NODES)], {})
    acc = json.loads(acc_out.strip().splitlines()[-1])
    print(f"    {json.dumps(acc)}", flush=True)

    n = [p["units"] for p in points]
    per_stage = {s: fit(n, [p["timings_s"][s] for p in points], NATIONAL_UNITS) for s in STAGES}
    total = sum(v["estimate"] for v in per_stage.values())
    rss = fit(n, [p["peak_rss_tree_mb"] for p in points], NATIONAL_UNITS)
    db = fit(n, [p["db_size_mb"] for p in points], NATIONAL_UNITS)
    rerun = fit(n, [p["unchanged_check_s"] for p in points], NATIONAL_UNITS)
    measured = [{k: p.get(k) for k in ("fraction", "units", "panden", "percelen", "osm_nodes", "candidates", "timings_s",
                                       "full_s", "rerun_s", "peak_rss_tree_mb", "peak_rss_process_mb", "db_size_mb")}
                for p in points]
    where = "extrapolated from " + ", ".join(f"{p['fraction']:.1%}" for p in points) + " of 10M units"
    input_mb = sum(f.stat().st_size for f in Path(largest["town"]).iterdir() if f.is_file()) / 2**20
    single_ds = largest["timings_s"]["detect"] + largest["timings_s"]["score"]
    dask_ds = scaled["timings_s"]["detect"] + scaled["timings_s"]["score"]
    corrected = corrected_estimate(largest, acc)
    return [
        *candidate_figures(points),
        figure("national_nightly_corrected_s", corrected["total_s"], "s", "target: full nightly < 30 min",
               TARGETS["nightly_s"], False, basis=corrected["basis"], per_part_s=corrected["parts"],
               command="make bench-national"),
        figure("national_access_compute_s", acc["total_s"], "s", "target: full nightly < 30 min", TARGETS["nightly_s"],
               False, basis="graph build + access to 8 categories, walk and bike, on a synthetic grid; reading the graph "
                            "from PostGIS not included", peak_rss_mb=acc_tree_mb, **{k: v for k, v in acc.items()
                                                                                     if k not in ("total_s", "peak_rss_mb")}),
        figure("national_nightly_full_s", total, "s", "target: full nightly < 30 min", TARGETS["nightly_s"], False,
               basis=where, per_stage_s={s: round(v["estimate"], 1) for s, v in per_stage.items()},
               exponents={s: v["exponent"] for s, v in per_stage.items()}, measured=measured,
               command="make bench-national"),
        figure("national_peak_rss", rss["estimate"], "MB", "target: peak RSS < 8 GB", TARGETS["peak_rss_mb"], False,
               basis=where + " (sum over the flow's process tree; PostgreSQL not included)",
               exponent=rss["exponent"], largest_single_process_mb=largest["peak_rss_process_mb"]),
        figure("national_db_size", db["estimate"] / 1024, "GB", f"input files at {largest['fraction']:.0%}, scaled to 100%",
               input_mb / largest["fraction"] / 1024, False, basis=where, exponent=db["exponent"],
               measured_mb={f"{p['fraction']:.1%}": p["db_size_mb"] for p in points}),
        figure("national_unchanged_rerun_s", rerun["estimate"], "s", "target: unchanged rerun < 60 s at national scale",
               TARGETS["rerun_national_s"], False,
               basis=where + "; the CLI's up-to-date check (pipelines/unchanged.py: sha256 of every input, stage and "
                             "publish keys, one meta.run row), after start-up, same process",
               measured={f"{p['fraction']:.1%}": p["unchanged_check_s"] for p in points},
               all_skipped=all(p["unchanged_check_skipped"] for p in points),
               flow_rerun_s={f"{p['fraction']:.1%}": p["rerun_s"] for p in points},
               flow_rerun_note="the deployed flow on an unchanged night skips detect and score and republishes"),
        figure("demo_unchanged_rerun_s", demo["rerun_s"], "s", "target: unchanged demo rerun < 10 s", TARGETS["rerun_demo_s"],
               False, basis="demo town, after start-up, same process", stages_s=demo["rerun_timings_s"],
               skipped=demo["rerun_skipped"], process_startup_s=round(demo["process_wall_s"] - demo["full_s"]
                                                                      - demo["rerun_s"], 1)),
        figure("scale_out_detect_score_s", dask_ds, "s", f"one process at {largest['fraction']:.0%}", single_ds, False,
               basis=f"detect + score at {largest['fraction']:.0%} on a LocalCluster (2 workers, tiles 2x1), "
                     "cluster start included", full_nightly_s=scaled["full_s"], single_full_nightly_s=largest["full_s"]),
    ]


def candidate_figures(points: list[dict]) -> list[dict]:
    """What the synthetic country plants and what the nightly found, per fraction, and per stage and
    part the time it took at the largest fraction (ingest per source, detect, score, publish per output)."""
    out = []
    for kind, planted_key, file in (("vacant_building", "vacant_buildings", "vacant_buildings.geojson"),
                                    ("undeveloped_plot", "plots", "undeveloped_plots.geojson")):
        per = {f"{p['fraction']:.1%}": {"planted": (p.get("planted") or {}).get(planted_key),
                                         "detected": (p.get("published_files") or {}).get(file)} for p in points}
        top = points[-1]
        n_top = (top.get("published_files") or {}).get(file) or 0
        at_100 = round(n_top / top["fraction"])
        out.append(figure(f"national_{kind}_candidates", float(at_100), "candidates",
                          {"vacant_building": "issue 16: at least 10,000 nationally",
                           "undeveloped_plot": "issue 16: at least 20,000 nationally"}[kind],
                          {"vacant_building": 10_000.0, "undeveloped_plot": 20_000.0}[kind], True,
                          basis=f"published at {top['fraction']:.0%}, scaled linearly to 100% (the generator plants "
                                "in proportion to units: plekzoeker/demo/plan.py DEFAULT_DENSITY)",
                          per_fraction=per, note="planted = the generator's own count of what the default rules "
                                                 "must find in its copies and core; detected = published by the nightly "
                                                 "(the core's planted zoning/Natura 2000 facts and two offered places "
                                                 "move a few core cases)"))
    top = points[-1]
    out.append(figure("national_stage_seconds_at_largest", float(top["full_s"]), "s",
                      "target: full nightly < 30 min (at this fraction)", TARGETS["nightly_s"], False,
                      fraction=top["fraction"], stages_s=top["timings_s"], ingest_per_source_s=top["ingest_kinds_s"],
                      publish_parts_s=top.get("publish_parts_s"), candidates=top.get("candidates"),
                      peak_rss_tree_mb=top["peak_rss_tree_mb"], db_size_mb=top["db_size_mb"],
                      generate_s=top.get("generate_s")))
    return out


def corrected_estimate(largest: dict, acc: dict) -> dict:
    """The national nightly with the country's composition: each part scaled by what drives it.

    BAG ingest by units + panden, BRK by percelen, OSM by nodes (rates of the largest fraction,
    linear, which the measured exponents < 1 make cautious); detect by percelen (the plot overlay);
    score by the access computation on a national-size graph (measured); publish as measured.
    """
    kinds = largest["ingest_kinds_s"]
    bag_rows = largest["units"] + largest["panden"]
    parts = {
        "ingest_bag": kinds.get("bag", 0.0) / bag_rows * (NATIONAL_ROWS["units"] + NATIONAL_ROWS["panden"]),
        "ingest_brk": kinds.get("brk", 0.0) / largest["percelen"] * NATIONAL_ROWS["percelen"],
        "ingest_osm": kinds.get("osm", 0.0) / largest["osm_nodes"] * NATIONAL_ROWS["osm_nodes"],
        "ingest_other": sum(v for k, v in kinds.items() if k not in ("bag", "brk", "osm")),
        "detect": largest["timings_s"]["detect"] / largest["percelen"] * NATIONAL_ROWS["percelen"],
        "score": acc["total_s"] * NATIONAL_GRAPH_NODES / acc["nodes"],
        "publish": largest["timings_s"]["publish"] / largest["fraction"],  # by candidates (in proportion to units)
    }
    parts = {k: round(v, 1) for k, v in parts.items()}
    basis = (f"rates at {largest['fraction']:.1%} scaled to {NATIONAL_ROWS['units']:,} units, "
             f"{NATIONAL_ROWS['panden']:,} panden, {NATIONAL_ROWS['percelen']:,} percelen, {NATIONAL_ROWS['osm_nodes']:,} "
             f"OSM nodes; score = access on a {NATIONAL_GRAPH_NODES:,}-node graph with {NATIONAL_CANDIDATES:,} "
             "candidates (graph read from PostGIS not included); publish scaled by candidates")
    return {"total_s": sum(parts.values()), "parts": parts, "basis": basis}


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--access-child":
        access_child(int(sys.argv[2]), int(sys.argv[3]))
    elif len(sys.argv) >= 4 and sys.argv[1] == "--child":
        import logging

        logging.basicConfig(level=logging.WARNING)
        child(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    else:
        sys.exit("usage: python -m benchmarks.run --only national   (this module is the benchmark's child process)")
