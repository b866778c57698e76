"""Shared test helpers: the database reset, and the figures the reliability-minded tests keep."""
import json
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


TRUNCATE = """
TRUNCATE core.pand, core.verblijfsobject, core.perceel, core.bgt_vlak, core.poi, core.network_node,
         core.network_edge, core.landuse, core.signal, core.owner, result.candidate, result.access, result.score,
         result.outreach, result.candidate_history, result.exclusion, meta.raster, meta.stage, meta.run,
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
