"""Run the benchmarks and record them in benchmarks/results.json and BENCHMARKS.md.

    python -m benchmarks.run [--units 1000000] [--only ingest,access,transit]

Every figure is measured against a baseline *in the same run on the same machine*, and reported
as value, unit, baseline value and ratio, where the ratio always says how many times better
plekzoeker is than the baseline (> 1 means ahead). Each contender runs in its own process so its
peak RSS can be read from the kernel (``ru_maxrss`` of the child).
"""
from __future__ import annotations

import argparse
import json
import time

from .common import HERE, machine

RESULTS = HERE / "results.json"
REPORT = HERE.parent / "BENCHMARKS.md"


SECTIONS = ("ingest", "access", "national", "map", "transit", "nightly", "soak")


def _sections() -> dict:
    """name -> callable(args) returning a list of figures; one module per section (benchmarks/bench_<name>.py)."""
    import importlib

    return {name: importlib.import_module(f"benchmarks.bench_{name}").run for name in SECTIONS}


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
    rel = results.get("reliability")
    if rel:
        lines += ["", "## Reliability (from the last `make test`, via `make reliability-report`; see RELIABILITY.md)", "",
                  f"- kill points survived: {rel.get('kill_points_survived')} / {rel.get('kill_points_tried')}",
                  f"- bad inputs refused cleanly: {rel.get('bad_inputs_refused_cleanly')} / {rel.get('bad_inputs_tried')}"]
    lines += ["", READING]
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")


READING = """## Reading the figures

- Reproduce: `make bench` (sections ingest, access, map, transit and nightly, ~25 min), `make bench-soak` (the 30-night
  soak, ~15 min), `make bench-national` (the synthetic
  country at 1/3/10/30 %, over an hour), `python -m benchmarks.run --only access --quick` for a smoke
  run. A section that was not rerun keeps its previous figures; `Run at` is the time of the last run.
- The machine has 2 cores and is shared: absolute times move by 10-30 % between runs, which is why
  every figure is a ratio against a baseline measured in the same run.
- Access targets (within 1.5x of one bare scipy Dijkstra per category, >= 10x pandana, >= 1000x
  per-candidate networkx) are about scale and are met on the 1M- and 5M-node graphs (pandana on the
  50k-node grid only: its contraction-hierarchy preprocessing takes ~30 s there and grows faster than
  linearly with the graph). On the
  106-node demo town every tool finishes in milliseconds and plekzoeker's figure is dominated by
  fixed costs (building the result table, the COPY into result.access), so the demo ratios are
  reported for completeness, not as targets.
- National figures are extrapolated from the measured fractions with a fitted power law per stage
  (exponents in the notes); `national_nightly_corrected_s` scales the 30 % rates linearly to the
  full country and takes the access step from the measured 5M-node graph.
- OSM ingest (`--only ingest`, benchmarks/bench_ingest.py): `plekzoeker ingest osm`'s load against `osm2pgsql
  --create` on the demo generator's town at `--units` (default 1M) verblijfsobjecten, which like a Dutch extract is
  dominated by the BAG import (one building way per pand, one address node per unit; notes give the composition) but
  has a smaller street share than a real Dutch extract (~5 %: `street_ways` against `building_ways`). Each
  contender runs 3 times, interleaved, and the median run is the figure; `plekzoeker_rows` are the rows of its
  core tables, `baseline_rows` osm2pgsql's planet_osm_* rows.
  `ingest_osm_without_bag_import_seconds` loads the same file without the BAG import: plekzoeker's ~3-5 s there is
  nearly all fixed cost (interpreter and library imports ~1.2 s, config with its typed sections ~0.7 s, six
  staged/validated/swapped tables), while osm2pgsql's time is per object, which is why the ratio turns in plekzoeker's
  favour only on a file with buildings and addresses, and is below 1 on `--quick` (100k units).
- Map figures (`--only map`, ~3 min): a synthetic national publish (30,000 candidates, 342
  municipalities of Zipf-like size) as one page against the paged map (`publish.map_max_candidates`):
  sizes, and the time from navigation until the page has drawn in headless Chromium (best of three).
  The pages together are larger than the one page (each inlines Leaflet, `pages_total_mb`).
- Transit (`python -m benchmarks.run --only transit`, ~10 min on the shared box; `--quick` ~30 s, 100
  national candidates; benchmarks/bench_transit.py): the compiled connection scan of scoring/csa.py on
  a synthetic city feed (3,600 stops, 300 bus lines both ways every 10 min), 400 origins x 91
  departure minutes (07:30-09:00), with the full 90-min horizon (no target pruning), against one bare
  numpy pass over the window's connections per origin (the floor of a profile search in numpy:
  plekzoeker answers 91 departures per origin, so it may stay behind that floor, ratio < 1), against
  the numpy scan it replaced (kept in the benchmark as `numpy_scan`; same arrivals) and against a
  per-query networkx time-expanded Dijkstra (the test oracle; `same_arrivals`).
  `national_10k_candidates_91_departures` is a **run**, not an extrapolation: a synthetic country of
  10^7 stop times a day (62,500 stops on a 100 x 100 km grid, ~1,750 bus lines every 10-30 min and 60
  train lines, 05:00-24:00 both ways; 1.5 M connections in the window + 90 min), 20,000 POIs in 6
  categories in the country's proportions (a few hundred social-services offices and railway
  stations, thousands of GPs, supermarkets, pharmacies and schools) and 10,000 candidates at random
  places: the timetable built by the nightly code path (`timetable`: `day_calls` over the three
  service days, cut to the trips running in the window + 90 min, connections, footpaths;
  `timetable_s`) and routed door to door by `travel_times` as the nightly run calls it (`routing_s`;
  walk legs straight line x 1.25 at 1.3 m/s within 1 km). Not included: reading the feed from
  PostGIS and the walk legs over the OSM graph. `without_pruning_s`: routing alone for a random
  1,000 with target pruning defeated (count threshold = 90 min, so every query runs the whole
  horizon), scaled linearly: the cost if no destination were ever settled early, an upper bound.
  `before` is the numpy scan's extrapolated figure from the previous run. Set
  `PLEKZOEKER_BENCH_TRANSIT_CANDIDATES=1000` to route a random 1,000 and scale linearly in candidates
  (noted as `extrapolated`). Figures taken on the shared 2-core machine are noisy (10-30 %); the
  load average at the start and end of the run is in the notes.
- Nightly (`python -m benchmarks.run --only nightly`, ~2 min; benchmarks/bench_nightly.py): the unchanged demo
  night as a whole process, `plekzoeker --config demo.yaml nightly --out out` after one full run, timed from spawn
  to exit, median of 5. Baseline, interleaved in the same run: the code path the command took before the
  up-to-date check (CLI logging, `prefect_env.prepare()`, the `nightly` flow on Prefect's ephemeral server, which
  republishes). `python -c pass` is the floor. The notes give every run and the 1-minute load average of the box.
  Where the old path's ~14 s went: ~2.4 s importing the flow stack (prefect, geopandas, scipy via the stages'
  imports), ~6 s starting Prefect's ephemeral API server (a uvicorn subprocess on SQLite; Prefect 3 has no
  in-process mode), ~5.5 s the flow (subflow overhead, ingest hashing, republish).
- Soak (`make bench-soak` = `--only soak`, ~15 min; `--quick` 6 nights; benchmarks/bench_soak.py): 30 nights in a
  row on the demo town with small seeded changes every night (BAG unit statuses, a vacancy row in and out, a parcel
  split every third night), each run as a process whose clock is that many days ahead (libfaketime). Growth is
  first vs last changed night and a least-squares slope per night, for pg_database_size, `out/`, the rows of every
  `meta.*` table, `result.candidate_history` and Prefect's SQLite database (notes of `soak_meta_run_rows`); every
  night's measurements are in benchmarks/soak_nights.json. The soak town keeps `publish.keep_days: 14` and sets
  `ledger: {keep_runs: 10, keep_loads: 5}` so that every bound is reached within 30 nights. Read the
  `per_night_last_third` slopes: 0 for `meta.run`, `meta.input`, `meta.reject`, `meta.stage` and the number of run
  directories in `out/` (15 = keep_days + 1), which stay at their bounds. Still growing, by design: `out/` and the
  database by a few kB per night because the soak's changes make one more office vacant each night (more candidates,
  larger files; `result.candidate_history` keeps one row per place ever seen). Growing without bound: Prefect's own
  SQLite database under `$PREFECT_HOME` (~0.1 MB per night: flow and task runs, logs, artifacts), which plekzoeker
  does not prune; Prefect's `PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED=events,flow_runs` with
  `..._RETENTION_PERIOD` does, on a server that runs long enough for its hourly loop.
  Before this soak's fixes, `out/<date>` links were never pruned and kept every dated run directory alive (one per
  night, ~0.7 MB each for the demo), and `meta.run` / `meta.input` grew by one row per night and per changed input."""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", type=int, default=1_000_000, help="verblijfsobjecten in the synthetic BAG (default 1M)")
    ap.add_argument("--only", default="ingest,access,map,transit,nightly", help=f"comma-separated sections: {', '.join(SECTIONS)}")
    ap.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    args = ap.parse_args()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.setdefault("sections", {})
    results["machine"] = machine()
    results["run_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    for name in args.only.split(","):
        print(f"== {name}", flush=True)
        figs = _sections()[name](args)
        for f in figs:
            print(f"  {f['name']}: {f['value']:,} {f['unit']} vs {f['baseline']} {f['baseline_value']:,} -> {f['ratio']}x", flush=True)
        results["sections"][name] = figs
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    write_report(results)
    print(f"wrote {RESULTS} and {REPORT}")


if __name__ == "__main__":
    main()
