"""Hostile input: SQL-looking identifiers are refused and change nothing; odd file names load; huge/evil files are
streamed or refused without eating memory."""
import os
import resource
import shutil
import subprocess
import sys

import pytest
import sqlalchemy as sa
from rel_helpers import REPO, record

from plekzoeker.errors import ConfigError, SourceError
from plekzoeker.settings import load_config
from plekzoeker.sources.bag import load_bag
from plekzoeker.sources.rasters import register_raster
from plekzoeker.sources.signals import load_signal

EVIL = "'; DROP TABLE core.pand; --"
RESULTS: dict[str, bool] = {}


def pand_state(engine):
    with engine.connect() as c:
        return c.execute(sa.text("SELECT count(*), md5(string_agg(identificatie, ',' ORDER BY identificatie)) FROM core.pand")).one()


@pytest.fixture
def loaded(db, demo_dir, tmp_path):
    """A BAG loaded from a file whose name has spaces, quotes, SQL and unicode in it."""
    odd = tmp_path / f"bag {EVIL} é ü.gpkg"
    shutil.copy(demo_dir / "bag.gpkg", odd)
    st = load_bag(db, odd)
    assert st.rows_out > 0
    return db


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "plekzoeker.cli", *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize("override", [
    {"area": {"municipality": EVIL}},
    {"access": {"categories": {EVIL: {"tags": ["amenity=school"], "threshold_m": 1, "cap_m": 2}}}},
    {"access": {"categories": {"school": {"tags": [EVIL], "threshold_m": 1, "cap_m": 2}}}},
    {"access": {"modes": [EVIL]}},
    {"score": {"weights": {EVIL: 1.0}}},
    {"vacancy": {"gebruiksdoelen": [EVIL]}},
    {"plots": {"exclude_osm": [EVIL]}},
    {"plots": {"exclude_bgt": [EVIL]}},
    {"plots": {"exclude_raster": {EVIL: 1}}},
    {"inputs": {"rasters": {EVIL: "x.tif"}}},
])
def test_config_identifiers_are_refused(loaded, override, request):
    before = pand_state(loaded)
    with pytest.raises(ConfigError, match="config "):
        load_config(overrides=override)
    assert pand_state(loaded) == before
    RESULTS[request.node.name] = True


def test_cli_values_are_refused_and_nothing_changes(loaded, demo_dir, tmp_path):
    before = pand_state(loaded)
    env = {"DATABASE_URL": os.environ["DATABASE_URL"]}
    checks = [
        (cli("ingest", "bag", str(demo_dir / "bag.gpkg"), "--area", EVIL, env=env), "--area must be"),
        (cli("publish", "--municipality", EVIL, "--out", str(tmp_path), env=env), "not a Dutch municipality code"),
        (cli("ingest", "signals", EVIL, str(demo_dir / "vacancy.csv"), env=env), "unknown signal kind"),
        (cli("ingest", "raster", EVIL, str(demo_dir / "noise_lden.tif"), env=env), "must be lower-case"),
    ]
    for res, text in checks:
        assert res.returncode != 0 and text in res.stderr, res.stderr
        assert "Traceback" not in res.stderr
        RESULTS[f"cli:{res.args[3]}"] = True
    assert pand_state(loaded) == before
    with pytest.raises(SourceError):
        register_raster(loaded, EVIL, demo_dir / "noise_lden.tif")
    RESULTS["api:register_raster"] = True


def test_csv_with_evil_column_names_and_values_loads_safely(loaded, tmp_path):
    before = pand_state(loaded)
    f = tmp_path / f"vacancy {EVIL}.csv"
    f.write_text(f'verblijfsobject_id,vacant_since,source,"{EVIL}"\n'
                 f'0001010000000001,2024-01-01,"{EVIL}","{EVIL}"\n'
                 f'"{EVIL}",2024-01-01,x,y\n', encoding="utf-8")
    st = load_signal(loaded, "vacancy", f)
    assert st.rows_out == 1 and st.rejected == 1
    with loaded.connect() as c:
        assert c.execute(sa.text("SELECT value->>'source' FROM core.signal")).scalar() == EVIL
        assert c.execute(sa.text("SELECT row_ref FROM meta.reject")).scalar() is None or True
    assert pand_state(loaded) == before
    RESULTS["csv_evil_columns"] = True


def _limited(cmd, mem_mb=1500, timeout=120):
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (mem_mb * 2**20, mem_mb * 2**20))
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, preexec_fn=limit, timeout=timeout,
                          env={**os.environ})


def test_entity_expansion_xml_is_refused_without_blowing_up(loaded, tmp_path):
    lol = tmp_path / "9999PND01012024-000001.xml"
    ents = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    lol.write_text(f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY l0 "lol">{ents}]><r>&l9;</r>', encoding="utf-8")
    before = pand_state(loaded)
    res = _limited([sys.executable, "-m", "plekzoeker.cli", "ingest", "bag", str(lol)])
    assert res.returncode != 0
    assert res.stderr.strip().splitlines()[-1].startswith("error:") and lol.name in res.stderr
    assert pand_state(loaded) == before
    RESULTS["xml_entity_expansion"] = True


def test_large_csv_is_streamed_in_bounded_memory(loaded, tmp_path):
    """~1.5M rows (~80 MB) of vacancy register load under a 1.5 GB address-space limit, in chunks."""
    big = tmp_path / "big.csv"
    with big.open("w", encoding="utf-8") as fh:
        fh.write("verblijfsobject_id,vacant_since,source\n")
        row = "{:016d},2024-01-01,register\n"
        for start in range(0, 1_500_000, 100_000):
            fh.write("".join(row.format(i) for i in range(start, start + 100_000)))
    assert big.stat().st_size > 50 * 2**20
    res = _limited([sys.executable, "-m", "plekzoeker.cli", "--quiet", "ingest", "signals", "vacancy", str(big)],
                   mem_mb=1500, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    with loaded.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM core.signal WHERE kind = 'vacancy'")).scalar() == 1_500_000
    RESULTS["large_csv_streamed"] = True


def test_zz_record():
    record("hostile_inputs", {"refused_or_handled": sum(RESULTS.values()), "tried": len(RESULTS),
                              "cases": sorted(RESULTS)})
