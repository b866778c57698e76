"""An unchanged night without Prefect: say "nothing changed" in one line instead of starting a flow.

``plekzoeker nightly`` (the CLI, not the deployed flow) first asks whether the run would do anything.
Starting Prefect's ephemeral API server and importing the flow stack costs ~8 s of a ~14 s unchanged
demo night; when every stage would be skipped and ``out/latest`` already is the publish of exactly
this state, the CLI logs that, records the night in ``meta.run`` and exits 0.

Why the answer is the flow's own answer, not a second opinion:

* **ingest** — every configured input goes through the flow's own ``stages.ingest_one`` inside
  ``db.load.probe()``: the loader's size/options/sha256 comparison with the ledger decides, and a load
  that would not be skipped raises ``WouldLoad`` before it touches anything. Rasters, which the flow
  re-registers every night, count as unchanged only when their path, sha256 and CRS are the registered
  ones (then re-registering changes nothing the stage keys read).
* **detect, score** — ``stages.stage_key`` and ``stages.stage_is_current``, the functions the flow's
  ``_skip`` calls; since ingest would change nothing, the keys are the ones the flow would compute.
* **publish** — the flow always republishes, so it records what it published: after a successful
  publish it marks the stage ``publish`` with :func:`publish_key` (the detect and score keys, the whole
  config with the run's overrides, the output directory, the coordinators' outreach records, and the
  latest manual ``detect``/``score``/``publish`` command, which change ``result.*`` or ``out/`` behind
  the stage keys' back). A new detect or score forgets it (``ledger.DOWNSTREAM``). The night is
  unchanged only when that key equals today's and ``out/latest/summary.json`` is that run's publish.

What differs from a full run on an unchanged night, by design (README, "An unchanged night"): no new
``out/runs/<time>`` directory and no new ``out/<date>`` link, so ``out/latest`` keeps its
``published_at`` and its ``changes.md`` (the changes of the last publish that had any). Any doubt —
an error while checking, another run holding the lock, ``--force`` or ``--fetch`` — runs the flow,
which then reports the problem as it always did.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from plekzoeker.db import ledger
from plekzoeker.db.load import WouldLoad, probe
from plekzoeker.pipelines import stages
from plekzoeker.settings import config_hash, load_config

log = logging.getLogger("plekzoeker.nightly")


def publish_key(engine: sa.Engine, cfg: dict, out_dir: str | Path | None) -> str:
    """Everything a publish of the current results depends on besides ``result.*`` written by detect/score."""
    with engine.connect() as conn:
        state = ledger.publish_state(conn)
    return config_hash({"detect": stages.stage_key(engine, cfg, "detect"), "score": stages.stage_key(engine, cfg, "score"),
                        "config": config_hash(cfg), "out": str(stages.out_dir_from(cfg, out_dir).resolve()),
                        "state": state})


@contextmanager
def _quiet(*names: str):
    """The loaders' per-file "unchanged since last load" lines stay out of the one-line answer."""
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(max(logging.WARNING, lg.getEffectiveLevel()))
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _would_load(engine: sa.Engine, cfg: dict) -> str | None:
    """The first input a nightly ingest would load (why the night is not unchanged), or None."""
    with probe(), _quiet("plekzoeker.db", "plekzoeker.sources", "plekzoeker.pipelines"):
        for kind, path in stages.input_files(cfg).items():
            try:
                stages.ingest_one(engine, cfg, kind, path)
            except WouldLoad as exc:
                return str(exc)
    return None


def current_publish(engine: sa.Engine, cfg: dict, out_dir: str | Path | None) -> tuple[dict | None, str]:
    """(summary.json of out/latest, why) when a nightly run would change nothing; (None, why not) otherwise."""
    stages.required_inputs(cfg)
    changed = _would_load(engine, cfg)
    if changed:
        return None, changed
    for stage in ("detect", "score"):
        if not stages.stage_is_current(engine, stage, stages.stage_key(engine, cfg, stage)):
            return None, f"{stage}: inputs or config changed since its last run"
    row = ledger.stage_row(engine, "publish")
    if row is None or row.input_key != publish_key(engine, cfg, out_dir):
        return None, "publish: no nightly publish of the current results"
    summary_file = stages.out_dir_from(cfg, out_dir) / "latest" / "summary.json"
    try:
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, f"publish: {summary_file} is missing or unreadable"
    if summary.get("run_id") != row.run_id:
        return None, f"publish: {summary_file} is not the publish of run {row.run_id}"
    summary["dir"] = str(summary_file.parent.resolve())
    return summary, f"inputs, detection, scoring, outreach records and config unchanged since run {row.run_id}"


def skip_unchanged_night(config_path: str | None, out_dir: str | None, overrides: dict | None,
                         params: dict) -> dict | None:
    """When the night is unchanged: log one line, record the night in meta.run, return the publish summary.

    None when the flow has to run (something changed, or anything is in doubt)."""
    try:
        cfg = load_config(config_path, overrides)
        engine = stages.engine_ready()
        with stages.nightly_lock(engine, wait=False):
            summary, why = current_publish(engine, cfg, out_dir)
            if summary is None:
                log.info("nightly: running the flow (%s)", why)
                return None
            run_id = stages.start_run(engine, "nightly", {**params, "up_to_date": True}, cfg)
            stages.finish_run(engine, run_id, "success", {
                "run_id": run_id, "area": stages.area_label(cfg), "day": dt.date.today().isoformat(),
                "up_to_date": True, "published_by_run": summary["run_id"], "publish": {"dir": summary["dir"],
                                                                                        "total": summary.get("total")}})
            stages.prune_ledger(engine, cfg)
    except Exception as exc:  # noqa: BLE001 - any doubt runs the flow, which reports the problem as it always did
        log.info("nightly: running the flow (the up-to-date check said: %s)", str(exc).splitlines()[0] if str(exc) else exc)
        return None
    log.info("nightly: nothing to do, %s; out/latest (%s, published %s) is current; no Prefect run started "
             "(night recorded as run %d; --force runs every stage)", why, summary["dir"], summary.get("published_at"),
             run_id)
    return summary
