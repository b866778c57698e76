"""Fixtures for the reliability tests: two versions of the demo town (old and new inputs)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("driver.py")
ARTIFACTS = REPO / "tests" / "artifacts"

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


@pytest.fixture(scope="session")
def town_versions(tmp_path_factory):
    """(old, new): the demo town with seed 7 and a changed one (seed 11), each with demo.yaml."""
    from plekzoeker.demo.config import write_demo_config
    from plekzoeker.demo.generate import generate_town

    dirs = []
    for seed in (7, 11):
        d = tmp_path_factory.mktemp(f"town{seed}")
        generate_town(d, seed=seed)
        write_demo_config(d)
        dirs.append(d)
    return dirs


def record(name: str, figures: dict) -> None:
    """Keep what a reliability test measured (tests/artifacts/reliability.json; RELIABILITY.md cites it)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "reliability.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = figures
    path.write_text(json.dumps(data, indent=2))
