"""Prefect flows: ingest, detect, score, publish and the parent ``nightly``.

Each task is a thin wrapper around a plain function in ``pipelines.stages`` / ``scoring`` /
``outputs``; tasks pass table names and small summaries, never DataFrames. Tasks that touch the
database or files retry with backoff. ``nightly`` holds an advisory lock so two runs never
interleave, records itself in ``meta.run``, skips stages whose inputs and config did not change,
and leaves a markdown artifact with counts and timings.
"""
from __future__ import annotations

import datetime as dt
import time

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from ..outputs.publish import publish as publish_outputs
from ..scoring.detect import run_detect
from ..scoring.run import run_score
from ..settings import load_config
from . import stages

RETRY = {"retries": 3, "retry_delay_seconds": [2, 10, 30]}


@task(task_run_name="ingest-{kind}", **RETRY)
def ingest_task(config_path: str | None, kind: str, path: str, force: bool = False) -> dict:
    cfg = load_config(config_path)
    res = stages.ingest_one(stages.engine_ready(), cfg, kind, path, force=force)
    get_run_logger().info("%s", res)
    return res


@task(task_run_name="detect", **RETRY)
def detect_task(config_path: str | None, run_id: int, force: bool = False) -> dict:
    cfg, engine, log = load_config(config_path), stages.engine_ready(), get_run_logger()
    key = stages.stage_key(engine, cfg, "detect")
    if not force and stages.stage_is_current(engine, "detect", key):
        log.info("detect: skipped, inputs and detection config unchanged since the last successful run")
        return {"skipped": True}
    res = run_detect(engine, cfg, run_id)
    stages.mark_stage(engine, "detect", key, run_id)
    return res


@task(task_run_name="score", **RETRY)
def score_task(config_path: str | None, run_id: int, force: bool = False) -> dict:
    cfg, engine, log = load_config(config_path), stages.engine_ready(), get_run_logger()
    key = stages.stage_key(engine, cfg, "score")
    if not force and stages.stage_is_current(engine, "score", key):
        log.info("score: skipped, candidates and scoring config unchanged since the last successful run")
        return {"skipped": True}
    res = run_score(engine, cfg, run_id)
    stages.mark_stage(engine, "score", key, run_id)
    return res


@task(task_run_name="publish", **RETRY)
def publish_task(config_path: str | None, run_id: int, out_dir: str | None = None) -> dict:
    cfg = load_config(config_path)
    return publish_outputs(stages.engine_ready(), cfg, stages.out_dir_from(cfg, out_dir), run_id)


@flow(name="ingest")
def ingest_flow(config_path: str | None = None, force: bool = False) -> list[dict]:
    """Load every input named in the config (unchanged files are skipped)."""
    cfg = load_config(config_path)
    stages.required_inputs(cfg)
    return [ingest_task(config_path, kind, path, force) for kind, path in stages.input_files(cfg).items()]


@flow(name="detect")
def detect_flow(config_path: str | None = None, run_id: int = 0, force: bool = False) -> dict:
    return detect_task(config_path, run_id, force)


@flow(name="score")
def score_flow(config_path: str | None = None, run_id: int = 0, force: bool = False) -> dict:
    return score_task(config_path, run_id, force)


@flow(name="publish")
def publish_flow(config_path: str | None = None, run_id: int = 0, out_dir: str | None = None) -> dict:
    return publish_task(config_path, run_id, out_dir)


@flow(name="nightly", log_prints=True)
def nightly(config_path: str | None = None, out_dir: str | None = None, force: bool = False, wait: bool = False) -> dict:
    """Ingest → detect → score → publish, incremental, one run at a time per database."""
    cfg = load_config(config_path)
    stages.required_inputs(cfg)
    engine = stages.engine_ready()
    timings: dict[str, float] = {}
    with stages.nightly_lock(engine, wait=wait):
        run_id = stages.start_run(engine, "nightly", {"config_path": config_path, "out_dir": out_dir, "force": force}, cfg)
        summary: dict = {"run_id": run_id}
        try:
            t = time.perf_counter()
            summary["ingest"] = ingest_flow(config_path, force)
            timings["ingest"] = time.perf_counter() - t
            for name, fn in (("detect", detect_flow), ("score", score_flow)):
                t = time.perf_counter()
                summary[name] = fn(config_path, run_id, force)
                timings[name] = time.perf_counter() - t
            t = time.perf_counter()
            summary["publish"] = publish_flow(config_path, run_id, out_dir)
            timings["publish"] = time.perf_counter() - t
            summary["timings_s"] = {k: round(v, 2) for k, v in timings.items()}
            stages.finish_run(engine, run_id, "success", summary)
        except BaseException as exc:
            stages.finish_run(engine, run_id, "failed", {**summary, "error": str(exc)})
            raise
    create_markdown_artifact(key="nightly-summary", markdown=run_markdown(summary),
                             description=f"plekzoeker nightly run {run_id}")
    return summary


def run_markdown(summary: dict) -> str:
    """A short markdown report of a nightly run (counts, timings, what changed)."""
    lines = [f"# plekzoeker nightly run {summary.get('run_id')} ({dt.datetime.now():%Y-%m-%d %H:%M})", ""]
    lines += ["## Inputs", "", "| input | rows | skipped |", "|---|---|---|"]
    for r in summary.get("ingest", []):
        lines.append(f"| {r['kind']} | {r.get('rows', '')} | {'yes' if r.get('skipped') else 'no'} |")
    det, pub = summary.get("detect", {}), summary.get("publish", {})
    lines += ["", "## Candidates", "",
              f"- vacant buildings: {det.get('vacant_building', 'unchanged')}",
              f"- undeveloped plots: {det.get('undeveloped_plot', 'unchanged')}",
              f"- published: {pub.get('total', 0)} in `{pub.get('dir', '')}`", "", "## Timings (s)", ""]
    lines += [f"- {k}: {v}" for k, v in summary.get("timings_s", {}).items()]
    return "\n".join(lines)
