"""Prefect flows: ingest, detect, score, publish and the parent ``nightly``.

Each task is a thin wrapper around a plain function in ``pipelines.stages``,
``pipelines.partitioned``, ``scoring`` or ``outputs``; tasks pass config paths, run ids, table
names and small dicts, never DataFrames. Task run names say what they do (``ingest-bag GM0362``,
``detect tile 1,0``). Tasks that touch the database or files retry with backoff — but not on a
broken file or a bad config, which no retry fixes — and have a timeout.

``nightly`` holds an advisory lock so two runs never interleave, records itself in ``meta.run``,
skips stages whose inputs and config did not change (saying why), marks the stage ``publish`` with
what it published (``unchanged.publish_key``, for the CLI's up-to-date check), and leaves a markdown artifact
with counts, timings and what changed. With ``dask.enabled`` in the config (or the ``dask``
parameter), detect and score are mapped over municipalities (or tiles) on Dask: a LocalCluster
started for the run, or the scheduler at ``dask.address``.
"""
from __future__ import annotations

import datetime as dt
import time
from contextlib import nullcontext

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import get_run_context

from plekzoeker.errors import ConfigError, SourceError
from plekzoeker.outputs.publish import publish as publish_outputs
from plekzoeker.pipelines import partitioned, stages, unchanged
from plekzoeker.scoring.coverage import coverage_lines
from plekzoeker.scoring.detect import run_detect
from plekzoeker.scoring.partition import Part
from plekzoeker.scoring.run import run_score
from plekzoeker.settings import load_config

from .dask_runner import dask_cluster, dask_settings, task_runner

HOUR = 3600
TIMEOUT_S = {"ingest": 4 * HOUR, "detect": 2 * HOUR, "score": 2 * HOUR, "part": 1 * HOUR, "publish": HOUR // 2}


def retry_transient(task, task_run, state) -> bool:
    """Retry a failed task unless retrying cannot help: a broken input file, a bad config or a timeout."""
    exc = state.data if isinstance(state.data, BaseException) else None
    if exc is None:
        try:
            exc = state.result(raise_on_failure=False)
        except Exception:  # noqa: BLE001 - an unreadable result: let the retry policy decide
            return True
    return not isinstance(exc, (SourceError, ConfigError, TimeoutError))


RETRY = {"retries": 3, "retry_delay_seconds": [2, 10, 30], "retry_condition_fn": retry_transient, "cache_policy": NO_CACHE}


# --- tasks (run in the flow's process, or on a Dask worker for the *_part tasks) -----------------

@task(task_run_name="ingest-{kind} {label}", timeout_seconds=TIMEOUT_S["ingest"], **RETRY)
def ingest_task(config_path: str | None, kind: str, path: str, force: bool = False, overrides: dict | None = None,
                label: str = "all") -> dict:
    cfg = load_config(config_path, overrides)
    res = stages.ingest_one(stages.engine_ready(), cfg, kind, path, force=force)
    get_run_logger().info("%s", res)
    return res


@task(task_run_name="detect {label}", timeout_seconds=TIMEOUT_S["detect"], **RETRY)
def detect_task(config_path: str | None, run_id: int, overrides: dict | None = None, label: str = "all") -> dict:
    return run_detect(stages.engine_ready(), load_config(config_path, overrides), run_id)


@task(task_run_name="score {label}", timeout_seconds=TIMEOUT_S["score"], **RETRY)
def score_task(config_path: str | None, run_id: int, overrides: dict | None = None, label: str = "all") -> dict:
    return run_score(stages.engine_ready(), load_config(config_path, overrides), run_id)


@task(task_run_name="plan-{stage} {label}", timeout_seconds=TIMEOUT_S["part"], **RETRY)
def plan_task(config_path: str | None, overrides: dict | None, stage: str, label: str = "all") -> list[dict]:
    cfg = load_config(config_path, overrides)
    engine = stages.engine_ready()
    partitioned.drop_work_tables(engine)  # left behind by runs that died
    settings = dask_settings(cfg)
    parts = partitioned.plan_detect(engine, settings) if stage == "detect" else partitioned.plan_score(engine, cfg, settings)
    get_run_logger().info("%s: %d area(s) by %s: %s", stage, len(parts), settings.partition_by,
                          ", ".join(p.label for p in parts[:20]) + (" ..." if len(parts) > 20 else ""))
    return [p.to_dict() for p in parts]


# no task timeout on Dask (a worker thread cannot be interrupted): the detect/score flow's timeout covers them
@task(task_run_name="detect {part[label]}", **RETRY)
def detect_part_task(config_path: str | None, overrides: dict | None, run_id: int, part: dict, day: str) -> dict:
    return partitioned.detect_part(stages.engine_ready(), load_config(config_path, overrides), run_id,
                                   Part.from_dict(part), dt.date.fromisoformat(day))


@task(task_run_name="score {part[label]}", **RETRY)
def score_part_task(config_path: str | None, overrides: dict | None, run_id: int, part: dict) -> dict:
    return partitioned.score_part(stages.engine_ready(), load_config(config_path, overrides), run_id, Part.from_dict(part))


@task(task_run_name="detect-merge {label}", timeout_seconds=TIMEOUT_S["part"], **RETRY)
def detect_merge_task(config_path: str | None, overrides: dict | None, run_id: int, parts: list[dict], day: str,
                      label: str = "all") -> dict:
    return partitioned.merge_detect(stages.engine_ready(), load_config(config_path, overrides), run_id,
                                    [Part.from_dict(p) for p in parts], dt.date.fromisoformat(day))


@task(task_run_name="score-merge {label}", timeout_seconds=TIMEOUT_S["part"], **RETRY)
def score_merge_task(config_path: str | None, overrides: dict | None, run_id: int, parts: list[dict],
                     label: str = "all", areas: list[dict] | None = None) -> dict:
    return partitioned.merge_score(stages.engine_ready(), load_config(config_path, overrides), run_id,
                                   [Part.from_dict(p) for p in parts], areas)


def retry_fetch(task, task_run, state) -> bool:
    """Retry a fetch after a service failure, not after a bad config or a broken local file."""
    exc = state.data if isinstance(state.data, BaseException) else None
    return not isinstance(exc, (SourceError, ConfigError))


@task(task_run_name="fetch {spec}", timeout_seconds=TIMEOUT_S["ingest"], retries=2, retry_delay_seconds=[60, 300],
      retry_condition_fn=retry_fetch, cache_policy=NO_CACHE)
def fetch_task(config_path: str | None, spec: str) -> dict:
    """``plekzoeker fetch`` for ``spec`` (GMxxxx or a bbox); returns the summary with the written config path."""
    from plekzoeker.sources.fetch.run import fetch_from_spec

    res = fetch_from_spec(load_config(config_path), spec, quiet=True)
    get_run_logger().info("fetched %s into %s (%s)", res["area"], res["folder"],
                          ", ".join(f"{k}: {'fresh' if v.get('skipped') else 'new'}" for k, v in res["datasets"].items()))
    return res


@task(task_run_name="publish {label}", timeout_seconds=TIMEOUT_S["publish"], **RETRY)
def publish_task(config_path: str | None, run_id: int, out_dir: str | None = None, overrides: dict | None = None,
                 label: str = "all") -> dict:
    cfg = load_config(config_path, overrides)
    return publish_outputs(stages.engine_ready(), cfg, stages.out_dir_from(cfg, out_dir), run_id)


# --- flows ---------------------------------------------------------------------------------------

@flow(name="ingest", timeout_seconds=TIMEOUT_S["ingest"])
def ingest_flow(config_path: str | None = None, force: bool = False, overrides: dict | None = None) -> list[dict]:
    """Load every input named in the config (unchanged files are skipped)."""
    cfg = load_config(config_path, overrides)
    stages.required_inputs(cfg)
    label = stages.area_label(cfg)
    return [ingest_task(config_path, kind, path, force, overrides, label) for kind, path in stages.input_files(cfg).items()]


def _skip(stage: str, cfg: dict, force: bool) -> tuple[str, dict | None]:
    """The stage key, and the skip result when the stage is current (logged with its reason)."""
    engine = stages.engine_ready()
    key = stages.stage_key(engine, cfg, stage)
    if not force and stages.stage_is_current(engine, stage, key):
        what = {"detect": "inputs and detection config", "score": "candidates and scoring config"}[stage]
        reason = f"{what} unchanged since the last successful run"
        get_run_logger().info("%s: skipped, %s", stage, reason)
        return key, {"skipped": True, "reason": reason}
    return key, None


@flow(name="detect", timeout_seconds=TIMEOUT_S["detect"])
def detect_flow(config_path: str | None = None, run_id: int = 0, force: bool = False, overrides: dict | None = None,
                dask_address: str | None = None) -> dict:
    """Vacant buildings and undeveloped plots into result.candidate; per area on Dask when ``dask_address``."""
    cfg = load_config(config_path, overrides)
    key, skipped = _skip("detect", cfg, force)
    if skipped:
        return skipped
    label = stages.area_label(cfg)
    if dask_address:
        day = dt.date.today().isoformat()
        parts = plan_task(config_path, overrides, "detect", label)
        futures = [detect_part_task.submit(config_path, overrides, run_id, p, day) for p in parts]
        done = [f.result() for f in futures]
        res = {**detect_merge_task(config_path, overrides, run_id, parts, day, label), "areas": done}
    else:
        res = detect_task(config_path, run_id, overrides, label)
    stages.mark_stage(stages.engine_ready(), "detect", key, run_id)
    return res


@flow(name="score", timeout_seconds=TIMEOUT_S["score"])
def score_flow(config_path: str | None = None, run_id: int = 0, force: bool = False, overrides: dict | None = None,
               dask_address: str | None = None) -> dict:
    """Network access, constraints and scores into result.access / result.score; per area on Dask when ``dask_address``."""
    cfg = load_config(config_path, overrides)
    key, skipped = _skip("score", cfg, force)
    if skipped:
        return skipped
    label = stages.area_label(cfg)
    if dask_address:
        parts = plan_task(config_path, overrides, "score", label)
        futures = [score_part_task.submit(config_path, overrides, run_id, p) for p in parts]
        done = [f.result() for f in futures]
        res = {**score_merge_task(config_path, overrides, run_id, parts, label, done), "areas": done}
    else:
        res = score_task(config_path, run_id, overrides, label)
    stages.mark_stage(stages.engine_ready(), "score", key, run_id)
    return res


@flow(name="publish", timeout_seconds=TIMEOUT_S["publish"])
def publish_flow(config_path: str | None = None, run_id: int = 0, out_dir: str | None = None,
                 overrides: dict | None = None) -> dict:
    cfg = load_config(config_path, overrides)
    return publish_task(config_path, run_id, out_dir, overrides, stages.area_label(cfg))


def _on_dask(subflow, address: str | None):
    return subflow.with_options(task_runner=task_runner(address)) if address else subflow


@flow(name="nightly", log_prints=True)
def nightly(config_path: str | None = None, out_dir: str | None = None, force: bool = False, wait: bool = False,
            area: str | None = None, dask: dict | None = None, fetch: str | None = None,
            allow_shrink: bool = False) -> dict:
    """[Fetch →] ingest → detect → score → publish, incremental, one run at a time per database.

    ``fetch`` (GMxxxx or minx,miny,maxx,maxy) first runs ``plekzoeker fetch`` for that area as a task
    with retries and then runs on the config it wrote (``config_path`` only supplies the fetch settings).

    ``area`` (GMxxxx or minx,miny,maxx,maxy) overrides the config's area; ``dask`` overrides keys of
    its ``dask`` section (e.g. ``{"enabled": true, "partition_by": "tiles"}``); ``allow_shrink``
    accepts inputs that remove more than ``ingest.max_shrink`` of a table's rows, for this run only.
    """
    fetched = None
    if fetch:
        fetched = fetch_task(config_path, fetch)
        config_path = fetched["config"]
    ov = stages.overrides(area=area, dask=dask, allow_shrink=allow_shrink)
    cfg = load_config(config_path, ov)
    stages.required_inputs(cfg)
    settings = dask_settings(cfg)
    engine = stages.engine_ready()
    timings: dict[str, float] = {}
    with stages.nightly_lock(engine, wait=wait):
        run_id = stages.start_run(engine, "nightly", {"config_path": config_path, "out_dir": out_dir, "force": force,
                                                      "area": area, "dask": dask}, cfg)
        summary: dict = {"run_id": run_id, "area": stages.area_label(cfg), "day": dt.date.today().isoformat()}
        if fetched:
            summary["fetch"] = {k: fetched[k] for k in ("area", "folder", "config")}
        try:
            t = time.perf_counter()
            summary["ingest"] = ingest_flow(config_path, force, ov)
            timings["ingest"] = time.perf_counter() - t
            need = force or not all(stages.stage_is_current(engine, s, stages.stage_key(engine, cfg, s))
                                    for s in ("detect", "score"))
            scale_out = settings.enabled and need
            summary["scale_out"] = ({k: getattr(settings, k) for k in ("address", "n_workers", "partition_by", "tiles")}
                                    if scale_out else None)
            api_url = str(get_run_context().client.api_url) if scale_out else None
            with dask_cluster(settings, api_url) if scale_out else nullcontext(None) as address:
                for name, fn in (("detect", detect_flow), ("score", score_flow)):
                    t = time.perf_counter()
                    # a current stage is skipped here, without starting its subflow (~1 s of Prefect overhead)
                    _, skipped = _skip(name, cfg, force)
                    summary[name] = skipped or _on_dask(fn, address)(config_path, run_id, force, ov, address)
                    timings[name] = time.perf_counter() - t
            t = time.perf_counter()
            publish_key = unchanged.publish_key(engine, cfg, out_dir)  # before: a change during publish is not in it
            summary["publish"] = publish_flow(config_path, run_id, out_dir, ov)
            stages.mark_stage(engine, "publish", publish_key, run_id)  # what out/latest now holds (pipelines/unchanged.py)
            timings["publish"] = time.perf_counter() - t
            summary["timings_s"] = {k: round(v, 2) for k, v in timings.items()}
            summary["changes"] = stages.candidate_changes(engine, dt.date.today())
            stages.finish_run(engine, run_id, "success", summary)
        except BaseException as exc:
            stages.finish_run(engine, run_id, "failed", {**summary, "error": str(exc)})
            raise
        stages.prune_ledger(engine, cfg)
    create_markdown_artifact(key="nightly-summary", markdown=run_markdown(summary),
                             description=f"plekzoeker nightly run {run_id}")
    return summary


def run_markdown(summary: dict) -> str:
    """A short markdown report of a nightly run: what changed, counts, timings."""
    lines = [f"# plekzoeker nightly run {summary.get('run_id')} ({dt.datetime.now():%Y-%m-%d %H:%M})", "",
             f"Area: {summary.get('area', 'all')}.", ""]
    ingest = summary.get("ingest", [])
    changed = [r["kind"] for r in ingest if not r.get("skipped")]
    lines += ["## What changed", "",
              f"- inputs loaded (new or changed): {', '.join(changed) or 'none'}",
              f"- inputs unchanged (skipped): {', '.join(r['kind'] for r in ingest if r.get('skipped')) or 'none'}"]
    for stage in ("detect", "score"):
        r = summary.get(stage) or {}
        lines.append(f"- {stage}: " + (f"skipped ({r.get('reason', 'unchanged')})" if r.get("skipped") else "ran"))
    ch = summary.get("changes") or {}
    if ch:
        lines.append(f"- candidates: {ch.get('new', 0)} new today, {ch.get('gone', 0)} gone today, {ch.get('current', 0)} current")
    so = summary.get("scale_out")
    if so:
        lines.append(f"- scale-out: by {so['partition_by']} on "
                     + (f"the Dask scheduler at {so['address']}" if so["address"] else f"a LocalCluster of {so['n_workers']} workers"))
    lines += ["", "## Inputs", "", "| input | rows | rejected | duplicates | seconds | loaded |", "|---|---|---|---|---|---|"]
    for r in ingest:
        lines.append(f"| {r['kind']} | {r.get('rows', '')} | {r.get('rejected', '')} | {r.get('duplicates', '')} | "
                     f"{r.get('seconds', '')} | {'no (unchanged)' if r.get('skipped') else 'yes'} |")
    det, sco, pub = summary.get("detect") or {}, summary.get("score") or {}, summary.get("publish") or {}
    lines += ["", "## Candidates", "",
              f"- vacant buildings: {det.get('vacant_building', 'unchanged')}",
              f"- undeveloped plots: {det.get('undeveloped_plot', 'unchanged')}",
              f"- excluded (demolition etc.): {det.get('excluded', 'unchanged')}",
              f"- scored: {sco.get('scored', 'unchanged')}, excluded by hard constraints: {sco.get('excluded', 'unchanged')}",
              f"- published: {pub.get('total', 0)} in `{pub.get('dir', '')}`"]
    for stage, r in (("detect", det), ("score", sco)):
        if r.get("areas"):
            lines += ["", f"## {stage} per area", "", "| area | result | seconds |", "|---|---|---|"]
            for a in r["areas"]:
                what = ", ".join(f"{k} {v}" for k, v in a.items() if k not in {"part", "label", "seconds"})
                lines.append(f"| {a['label']} | {what} | {a['seconds']} |")
    cov = (sco.get("coverage") if isinstance(sco, dict) else None) or (pub.get("coverage") if isinstance(pub, dict) else None)
    lines += ["", "## Coverage", ""]
    lines += [f"- {ln}" for ln in coverage_lines(cov)] if cov else ["- unknown (score skipped and no report kept)"]
    lines += ["", "## Timings (s)", ""]
    lines += [f"- {k}: {v}" for k, v in summary.get("timings_s", {}).items()]
    return "\n".join(lines)
