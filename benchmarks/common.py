"""Shared helpers of the benchmarks: machine facts, child processes with their own peak RSS, figures."""
from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
BENCH_DB = "plekzoeker_bench"


def machine() -> dict:
    mem = next((int(l.split()[1]) // 1024 for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")), None)
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), "")
    pg = subprocess.run(["/usr/lib/postgresql/15/bin/postgres", "--version"], capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_mb": mem, "python": platform.python_version(),
            "os": platform.platform(), "postgres": pg}


def run_child(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Run a command; return (wall seconds, peak RSS MB of that child alone, stdout).

    The command is started by the small ``benchmarks.spawn`` process, which measures it: forked
    straight from this (possibly large) process, its peak RSS would start at ours.
    """
    import json
    import sys
    import tempfile

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, \
            tempfile.NamedTemporaryFile("r", suffix=".json") as res:
        p = subprocess.run([sys.executable, "-m", "benchmarks.spawn", res.name, *cmd], stdout=out, stderr=err,
                           text=True, env={**os.environ, **(env or {})})
        out.seek(0)
        err.seek(0)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:3])}... failed: {err.read()[-2000:]}")
        got = json.loads(Path(res.name).read_text())
        return got["seconds"], got["rss_mb"], out.read()


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


def fresh_database(name: str) -> tuple[str, object]:
    """A new, empty database ``name`` in the managed cluster (or DATABASE_URL as-is); (url, drop)."""
    from plekzoeker.db.cluster import Cluster

    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"], lambda: None
    cluster = Cluster(Path(os.environ.get("PLEKZOEKER_HOME", ".plekzoeker")).resolve())
    cluster.start()
    cluster.drop_database(name)
    return cluster.create_database(name), lambda: cluster.drop_database(name)


def figure(name: str, value: float, unit: str, baseline_name: str, baseline: float, higher_is_better: bool, **extra) -> dict:
    ratio = value / baseline if higher_is_better else baseline / value
    return {"name": name, "value": round(value, 3), "unit": unit, "baseline": baseline_name,
            "baseline_value": round(baseline, 3), "ratio": round(ratio, 3), **extra}


