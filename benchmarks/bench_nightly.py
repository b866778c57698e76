"""The unchanged demo nightly as a whole process: ``plekzoeker --config demo.yaml nightly --out out``.

    python -m benchmarks.run --only nightly          # part of `make bench`, ~2 min

After one full run of the demo town (generated into benchmarks/work/nightly/, a fresh database
``plekzoeker_bench_nightly`` in the managed cluster or DATABASE_URL as-is), nothing changes and the
command is run ``RUNS`` times, each a new process timed from spawn to exit (interpreter start,
imports, database, everything). Interleaved with it, in the same run, the **baseline**: the code path
the command took before the up-to-date check existed — the same CLI module's logging and Prefect
environment, ``prefect_env.prepare()`` and the ``nightly`` flow on Prefect's ephemeral API server
(``--child-flow`` below; the flow itself is unchanged but for marking its publish). Also timed: a
bare ``python -c pass`` (the floor no command can beat) and ``import plekzoeker.cli``. Reported:
medians; ratio = baseline / plekzoeker. Each fast run is checked to have said "nothing to do", each
flow run to have published.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .common import WORK, figure, fresh_database

RUNS = 5
QUICK_RUNS = 3
BENCH_DB = "plekzoeker_bench_nightly"
TARGET_S = 10.0


def flow_child(config: str, out: str) -> None:
    """The previous ``plekzoeker nightly``: CLI logging and Prefect environment, then the flow, always."""
    from plekzoeker import cli
    from plekzoeker.prefect_env import configure

    cli._setup_logging(True, False)
    configure(Path(os.environ.get("PLEKZOEKER_HOME", ".plekzoeker")).resolve())
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
    from plekzoeker.pipelines.flows import nightly
    from plekzoeker.prefect_env import prepare

    prepare()
    cli._print_publish(nightly(config_path=config, out_dir=out)["publish"])


def demo_town(d: Path) -> Path:
    """The demo town (seed 7) in ``d``; returns its config."""
    from plekzoeker.demo.config import write_demo_config
    from plekzoeker.demo.generate import generate_town

    if d.exists():
        import shutil

        shutil.rmtree(d)
    generate_town(d, seed=7)
    return write_demo_config(d)


def timed(cmd: list[str], env: dict) -> tuple[float, str, str]:
    """(wall seconds from spawn to exit, stdout, stderr); RuntimeError when the command fails."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}... failed ({p.returncode}): {p.stderr[-2000:]}")
    return wall, p.stdout, p.stderr


def bench_env(url: str) -> dict:
    return {**os.environ, "DATABASE_URL": url, "PREFECT_HOME": str(WORK / "prefect-nightly"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


def cli(config: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "plekzoeker.cli", "--config", str(config), "nightly", "--out", str(out)]


def run(args) -> list[dict]:
    n = QUICK_RUNS if getattr(args, "quick", False) else RUNS
    base = WORK / "nightly"
    config = demo_town(base / "town")
    out = base / "out"
    url, drop = fresh_database(BENCH_DB)
    env = bench_env(url)
    load = [os.getloadavg()[0]]
    try:
        print("  full run of the demo town ...", flush=True)
        timed(cli(config, out), env)
        fast, flow, floor, imp = [], [], [], []
        for i in range(n):
            w, so, se = timed([sys.executable, "-m", "benchmarks.bench_nightly", "--child-flow", str(config), str(out)], env)
            assert "Published" in so, so
            flow.append(w)
            w, so, se = timed(cli(config, out), env)
            if "nothing to do" not in se:
                raise RuntimeError(f"the unchanged night ran the flow: {se[-1500:]}")
            fast.append(w)
            floor.append(timed([sys.executable, "-c", "pass"], env)[0])
            imp.append(timed([sys.executable, "-c", "import plekzoeker.cli"], env)[0])
            load.append(os.getloadavg()[0])
            print(f"  run {i + 1}/{n}: unchanged night {fast[-1]:.2f} s, flow path {flow[-1]:.2f} s", flush=True)
    finally:
        drop()
    med = statistics.median
    notes = {"runs": n, "fast_s": [round(v, 2) for v in fast], "flow_s": [round(v, 2) for v in flow],
             "python_pass_s": round(med(floor), 3), "import_cli_s": round(med(imp), 3),
             "load_avg_1min": f"{min(load):.2f}-{max(load):.2f} (2 cores, shared)",
             "includes": "whole process: interpreter start, imports, config, database, sha256 of every input, "
                         "stage keys, one meta.run row", "command": "python -m benchmarks.run --only nightly"}
    return [
        figure("unchanged_demo_nightly_wall_s", med(fast), "s",
               "the previous code path: the nightly flow on Prefect's ephemeral server (same run)", med(flow), False,
               **notes),
        figure("unchanged_demo_nightly_vs_target", med(fast), "s", "target: unchanged demo nightly < 10 s wall",
               TARGET_S, False, flow_path_meets_target=med(flow) < TARGET_S),
        figure("unchanged_demo_nightly_vs_python_start", med(fast), "s", "python -c pass (the floor)", med(floor), False,
               import_cli_s=round(med(imp), 3)),
    ]


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child-flow":
        flow_child(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit("usage: python -m benchmarks.bench_nightly --child-flow CONFIG OUT (run by benchmarks.run)")
