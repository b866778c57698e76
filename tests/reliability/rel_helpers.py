"""Helpers of the reliability tests: table fingerprints, the stage driver, published-output checks."""
import json
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from db_helpers import record  # noqa: F401 - re-exported for the reliability tests

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("driver.py")

# (table, columns that define its content; run ids and timestamps left out on purpose)
FINGERPRINTS = {
    "core.pand": "identificatie, status, ST_AsBinary(geom)",
    "core.verblijfsobject": "identificatie, status, oppervlakte",
    "core.perceel": "identificatie, ST_AsBinary(geom)",
    "core.network_edge": "u, v, length_m",
    "core.poi": "category, osm_id",
    # each signal kind is its own input, replaced atomically on its own: fingerprint it per kind
    "core.signal WHERE kind = 'vacancy'": "verblijfsobject_id, postcode, huisnummer, since",
    "core.signal WHERE kind = 'energy'": "verblijfsobject_id, postcode, huisnummer, value",
    "core.signal WHERE kind = 'establishments'": "verblijfsobject_id, postcode, huisnummer, value",
    "result.candidate": "candidate_key, area_m2, confidence",
    "result.score": "candidate_key, score, rank",
}


def fingerprint(engine) -> dict[str, str]:
    out = {}
    with engine.connect() as c:
        for table, cols in FINGERPRINTS.items():
            out[table] = c.execute(sa.text(
                f"SELECT count(*) || ':' || coalesce(md5(string_agg(r::text, ',' ORDER BY r::text)), '') "
                f"FROM (SELECT ({cols}) AS r FROM {table}) s")).scalar()  # internal constants only
    return out


def run_driver(config: Path, out: Path, env: dict | None = None, wait: bool = True) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, str(DRIVER), str(config), str(out)], cwd=REPO,
                         env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if wait:
        out_, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-3000:]
    return p


def published_ok(out: Path) -> dict:
    """Every file the latest summary names parses and has the number of features it claims."""
    summary = json.loads((out / "latest" / "summary.json").read_text())
    for name, n in summary["files"].items():
        fc = json.loads((out / "latest" / name).read_text())
        assert fc["type"] == "FeatureCollection" and len(fc["features"]) == n, name
    return summary
