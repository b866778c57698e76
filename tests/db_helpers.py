"""Shared test helpers: the database reset, and the figures the reliability-minded tests keep."""
import json
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


TRUNCATE = """
TRUNCATE core.pand, core.verblijfsobject, core.perceel, core.bgt_vlak, core.poi, core.network_node,
         core.network_edge, core.landuse, core.signal, core.owner, core.zoning, core.energy_label, core.monument, core.pand_3d,
         core.protected_area, core.power_line, result.fact, result.candidate, result.access, result.score,
         result.outreach, result.outreach_history, result.candidate_history, result.exclusion, result.ranking, meta.raster, meta.stage, meta.run,
         core.gtfs_stop, core.gtfs_route, core.gtfs_trip, core.gtfs_stop_time, core.gtfs_calendar, core.gtfs_calendar_date,
         core.gtfs_transfer,
         meta.input CASCADE
"""


def record(name: str, figures: dict) -> None:
    """Keep what a test measured in tests/artifacts/reliability.json (RELIABILITY.md and
    `make reliability-report` read it)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "reliability.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = figures
    path.write_text(json.dumps(data, indent=2))


def detect_and_score(engine, config_path, day=None, reset: bool = False):
    """Ingest every input of a config, detect and score (no Prefect). Returns (cfg, run_id, detect result).

    ``reset``: empty every data table first. ``day``: the detection date (first_seen)."""
    import sqlalchemy as sa

    from plekzoeker.pipelines import stages
    from plekzoeker.scoring.detect import run_detect
    from plekzoeker.scoring.run import run_score
    from plekzoeker.settings import load_config

    if reset:
        with engine.begin() as conn:
            conn.execute(sa.text(TRUNCATE))
    cfg = load_config(config_path)
    for kind, path in stages.input_files(cfg).items():
        stages.ingest_one(engine, cfg, kind, path)
    run_id = stages.start_run(engine, "test", {}, cfg)
    det = run_detect(engine, cfg, run_id, **({"day": day} if day else {}))
    run_score(engine, cfg, run_id)
    return cfg, run_id, det
