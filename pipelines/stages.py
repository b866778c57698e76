"""The four stages as plain functions (no Prefect): what the CLI and the Prefect tasks both call.

Each stage reads and writes tables; it can be rerun alone. A run ledger in ``meta.run`` and stage
keys in ``meta.stage`` make reruns incremental: a stage whose inputs (file hashes) and config did
not change since its last success is skipped, with the reason logged.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from plekzoeker.area import Area
from plekzoeker.db import ledger
from plekzoeker.db.guards import LoadPolicy
from plekzoeker.db.migrate import engine_ready as engine_ready  # re-exported: the flows call stages.engine_ready()
from plekzoeker.errors import ConfigError, PlekzoekerError
from plekzoeker.outputs.demand import DemandConfig
from plekzoeker.scoring.transit_config import TransitConfig
from plekzoeker.settings import config_hash
from plekzoeker.sources.bag import load_bag
from plekzoeker.sources.bgt import load_bgt
from plekzoeker.sources.brk import load_brk
from plekzoeker.sources.fact_inputs import fact_input_files, is_fact_input, load_fact_input
from plekzoeker.sources.gtfs import load_gtfs
from plekzoeker.sources.osm import categories_from_config, load_osm
from plekzoeker.sources.rasters import register_raster
from plekzoeker.sources.signals import load_signal

log = logging.getLogger(__name__)
NIGHTLY_LOCK = 7_262_002


def area_from_config(cfg: dict) -> Area:
    """The run's area; ``area.polygon`` (a fetched boundary) is used unless it belongs to another municipality."""
    from plekzoeker.area import load_polygon

    a = cfg.get("area") or {}
    polygon = None
    if a.get("polygon"):
        polygon, code = load_polygon(a["polygon"])
        if a.get("municipality") and code and Area(municipality=a["municipality"]).municipality != code:
            log.info("area.polygon %s is GM%s, not %s: not used", a["polygon"], code, a["municipality"])
            polygon = None
    return Area(municipality=a.get("municipality"), bbox=tuple(a["bbox"]) if a.get("bbox") else None, polygon=polygon)


def area_label(cfg: dict) -> str:
    """A short name of the configured area for task run names and logs: ``GM0362``, a bbox, or ``all``."""
    a = cfg.get("area") or {}
    if a.get("municipality"):
        return Area(municipality=a["municipality"]).gm_code or "all"
    if a.get("bbox"):
        return "bbox " + ",".join(f"{float(v):.0f}" for v in a["bbox"])
    return "all"


def overrides(area: str | None = None, dask: dict | None = None, allow_shrink: bool = False) -> dict | None:
    """Config overrides from flow parameters: ``area`` (GMxxxx or minx,miny,maxx,maxy), a ``dask`` section and
    ``allow_shrink`` (sets ``ingest.allow_shrink`` for this run)."""
    out: dict = {}
    if allow_shrink:
        out["ingest"] = {"allow_shrink": True}
    if area:
        try:
            a = Area.parse(area)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        out["area"] = {"municipality": a.gm_code, "bbox": list(a.bbox) if a.bbox else None}
    if dask:
        out["dask"] = dict(dask)
    return out or None


def candidate_changes(engine: sa.Engine, day) -> dict:
    """How many candidates were first seen on ``day`` and how many disappeared on it (result.candidate_history)."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT count(*) FILTER (WHERE first_seen = :d) AS new, count(*) FILTER (WHERE gone_since = :d) AS gone, "
            "count(*) FILTER (WHERE gone_since IS NULL) AS current FROM result.candidate_history"), {"d": day}).one()
    return {"new": int(row.new), "gone": int(row.gone), "current": int(row.current)}


def input_files(cfg: dict) -> dict[str, str]:
    """kind -> path for every configured input (signals as signal:<kind>, rasters as raster:<kind>)."""
    inp = cfg.get("inputs") or {}
    files = {k: inp[k] for k in ("bag", "brk", "osm", "bgt", "gtfs") if inp.get(k)}
    files.update({f"signal:{k}": v for k, v in (inp.get("signals") or {}).items() if v})
    files.update({f"raster:{k}": v for k, v in (inp.get("rasters") or {}).items() if v})
    files.update(fact_input_files(inp))
    return files


def ingest_one(engine: sa.Engine, cfg: dict, kind: str, path: str, force: bool = False,
               allow_shrink: bool = False) -> dict:
    """Load one configured input, guarded by the config's ``ingest`` section (``allow_shrink`` overrides
    ``ingest.allow_shrink``); returns a small summary (never a DataFrame)."""
    area = area_from_config(cfg)
    policy = LoadPolicy.from_config(cfg, allow_shrink=allow_shrink).for_area(area)
    if kind == "bag":
        st = load_bag(engine, path, area=area, force=force, policy=policy)
    elif kind == "brk":
        st = load_brk(engine, path, area=area, force=force, policy=policy)
    elif kind == "bgt":
        st = load_bgt(engine, path, area=area, force=force, policy=policy)
    elif kind == "osm":
        st = load_osm(engine, path, categories=categories_from_config(cfg), area=area, force=force, policy=policy)
    elif kind == "gtfs":
        st = load_gtfs(engine, path, area=area, buffer_m=TransitConfig.from_config(cfg).area_buffer_m, force=force,
                       policy=policy)
    elif is_fact_input(kind):
        st = load_fact_input(engine, kind, path, force=force, policy=policy)
    elif kind.startswith("signal:"):
        st = load_signal(engine, kind.split(":", 1)[1], path, force=force, policy=policy)
    elif kind.startswith("raster:"):
        info = register_raster(engine, kind.split(":", 1)[1], path, policy=policy)
        return {"kind": kind, "path": path, "registered": info["crs"], "skipped": False}
    else:
        raise ConfigError(f"unknown input kind {kind!r}")
    return {"kind": kind, "path": path, "skipped": st.skipped, "rows": st.rows_out, "rejected": st.rejected,
            "implausible": st.implausible,
            "repaired": st.repaired, "duplicates": st.duplicates, "seconds": round(st.seconds, 2), "input_id": st.input_id}


def required_inputs(cfg: dict) -> None:
    """The required inputs are named, and the demand (config + inputs.demand CSV) is valid before a run starts."""
    missing = [k for k in ("bag", "brk", "osm") if not (cfg.get("inputs") or {}).get(k)]
    if missing:
        raise ConfigError(f"the config names no input file for {', '.join(missing)} (section inputs:)")
    DemandConfig.from_config(cfg)  # read again at publish; a bad demand file fails here, not after the run


def inputs_key(engine: sa.Engine) -> str:
    """A hash of the latest successful load of every input kind (sha256 + options) and the rasters."""
    with engine.connect() as conn:
        rows = ledger.latest_inputs(conn)
        rasters = ledger.raster_hashes(conn)
    return config_hash({"inputs": [tuple(map(str, r)) for r in rows], "rasters": [tuple(r) for r in rasters]})


def stage_key(engine: sa.Engine, cfg: dict, stage: str) -> str:
    sections = {"detect": ("area", "vacancy", "plots", "facts"),
                "score": ("area", "vacancy", "plots", "facts", "access", "score", "transit", "capacity", "quick_scan",
                          "owners", "long_vacancy")}[stage]
    return config_hash({"inputs": inputs_key(engine), "config": config_hash(cfg, sections)})


def prune_ledger(engine: sa.Engine, cfg: dict) -> dict[str, int]:
    """Ledger retention after a successful nightly (config ``ledger``; what is never pruned: db/ledger.py).

    Housekeeping only: a failure is a warning, never a failed night."""
    try:
        pruned = ledger.prune(engine, ledger.Retention.from_config(cfg))
    except sa.exc.SQLAlchemyError as exc:
        log.warning("ledger retention skipped: %s", str(exc).splitlines()[0])
        return {}
    if any(pruned.values()):
        log.info("ledger retention: %s deleted", ", ".join(f"{n} {t} row(s)" for t, n in pruned.items() if n))
    return pruned


stage_is_current = ledger.stage_is_current
mark_stage = ledger.mark_stage
finish_run = ledger.finish_run


def start_run(engine: sa.Engine, flow: str, params: dict, cfg: dict) -> int:
    return ledger.start_run(engine, flow, params, config_hash(cfg))


@contextmanager
def nightly_lock(engine: sa.Engine, wait: bool = False):
    """Hold a PostgreSQL advisory lock for the whole run, so two nightly runs never interleave."""
    conn = engine.connect()
    try:
        if wait:
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": NIGHTLY_LOCK})
        elif not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": NIGHTLY_LOCK}).scalar():
            raise PlekzoekerError("another plekzoeker run is in progress on this database; "
                                  "wait for it to finish (or pass --wait to queue behind it)")
        conn.commit()
        yield
    finally:
        try:
            conn.execute(sa.text("SELECT pg_advisory_unlock_all()"))
            conn.commit()
        except Exception:  # noqa: BLE001 - connection lost: the server released the lock with it
            log.debug("nightly lock: connection gone before unlock; the server released the lock")
        conn.close()


def out_dir_from(cfg: dict, out_dir: str | Path | None) -> Path:
    return Path(out_dir or cfg["publish"]["out_dir"])
