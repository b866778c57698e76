"""Bad input through the CLI: exit != 0, one line naming the file and the problem, no traceback, nothing changed."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa
from db_helpers import record
from shapely.geometry import Point

from plekzoeker.sources.bag import load_bag
from plekzoeker.sources.signals import load_signal

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


def state(engine):
    with engine.connect() as c:
        return tuple(c.execute(sa.text(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {table} t")).one()
            for table in ("core.pand", "core.verblijfsobject", "core.signal", "core.network_edge"))


@pytest.fixture
def loaded(db, demo_dir):
    load_bag(db, demo_dir / "bag.gpkg")
    load_signal(db, "vacancy", demo_dir / "vacancy.csv")
    return db


def run(*args, debug=False):
    cmd = [sys.executable, "-m", "plekzoeker.cli", "--quiet", *(["--debug"] if debug else []), *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env={**os.environ})


def bad_files(tmp: Path, demo_dir: Path) -> list[tuple[list[str], Path, str]]:
    gpkg = (demo_dir / "bag.gpkg").read_bytes()
    (tmp / "truncated.gpkg").write_bytes(gpkg[: len(gpkg) // 3])
    (tmp / "garbage.gpkg").write_bytes(b"SQLite format 3\x00" + os.urandom(5000))
    zipped = (DATA / "lvbag" / "BAGNLDL-15092020-small.zip").read_bytes()
    (tmp / "truncated.zip").write_bytes(zipped[: len(zipped) // 2])
    pbf = (demo_dir / "town.osm.pbf").read_bytes()
    (tmp / "truncated.osm.pbf").write_bytes(pbf[: len(pbf) // 2])
    (tmp / "empty.gpkg").write_bytes(b"")
    shutil.copy(demo_dir / "vacancy.csv", tmp / "vacancy_as_bag.csv")
    (tmp / "wrong_columns.csv").write_text("id,naam\n1,x\n", encoding="utf-8")
    (tmp / "latin1.csv").write_bytes("verblijfsobject_id,vacant_since,source\n9999010000000001,2024-01-01,Gemeente \xe9\n"
                                     .encode("latin-1"))
    nocrs = gpd.GeoDataFrame({"identificatie": ["9999100000000001"], "status": ["Pand in gebruik"], "bouwjaar": [2000]},
                             geometry=[Point(1, 1).buffer(5)], crs=None)
    nocrs.to_file(tmp / "nocrs.gpkg", layer="pand", driver="GPKG")
    return [
        (["ingest", "bag"], tmp / "truncated.gpkg", ""),
        (["ingest", "bag"], tmp / "garbage.gpkg", ""),
        (["ingest", "bag"], tmp / "truncated.zip", ""),
        (["ingest", "osm"], tmp / "truncated.osm.pbf", ""),
        (["ingest", "bag"], tmp / "empty.gpkg", "empty"),
        (["ingest", "bag"], tmp / "vacancy_as_bag.csv", ""),
        (["ingest", "signals", "vacancy"], tmp / "wrong_columns.csv", "missing column"),
        (["ingest", "signals", "vacancy"], tmp / "latin1.csv", "not UTF-8"),
        (["ingest", "bag"], tmp / "nocrs.gpkg", "CRS"),
        (["ingest", "brk"], tmp / "does_not_exist.gml", "not found"),
    ]


def test_bad_inputs_fail_cleanly_and_change_nothing(loaded, demo_dir, tmp_path):
    before = state(loaded)
    cases = bad_files(tmp_path, demo_dir)
    for cmd, path, text in cases:
        res = run(*cmd, str(path))
        lines = res.stderr.strip().splitlines()
        assert res.returncode != 0, (cmd, path)
        assert len(lines) == 1 and lines[0].startswith("error:"), (path.name, res.stderr[-1500:])
        assert path.name in lines[0] and text in lines[0], lines[0]
        assert "Traceback" not in res.stderr
        assert state(loaded) == before, f"{path.name} changed the database"
    res = run("ingest", "bag", str(tmp_path / "truncated.gpkg"), debug=True)
    assert res.returncode != 0 and "Traceback" in res.stderr
    record("bad_input_files", {"refused_cleanly": len(cases), "tried": len(cases),
                               "cases": [f"{' '.join(c)} {p.name}" for c, p, _ in cases]})


def test_rejected_rows_are_kept_with_reason_and_the_rest_loads(loaded, tmp_path):
    f = tmp_path / "mixed.csv"
    f.write_text("verblijfsobject_id,vacant_since,source\n9999010000000001,2024-01-01,a\nABC,2024-01-01,b\n", encoding="utf-8")
    res = run("ingest", "signals", "vacancy", str(f))
    assert res.returncode == 0, res.stderr
    with loaded.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM core.signal WHERE kind = 'vacancy'")).scalar() == 1
        reason = c.execute(sa.text("SELECT reason FROM meta.reject ORDER BY input_id DESC LIMIT 1")).scalar()
    assert "verblijfsobject_id" in reason


def test_units_and_buildings_without_an_id_are_rejected_and_the_rest_loads(db, demo_dir, tmp_path):
    """A BAG GeoPackage row with an empty identificatie is a reject with its reason, not a failed load."""
    f = tmp_path / "bag_missing_ids.gpkg"
    for layer in ("pand", "verblijfsobject"):
        gdf = gpd.read_file(demo_dir / "bag.gpkg", layer=layer)
        gdf.loc[gdf.index[:2], "identificatie"] = None
        gdf.to_file(f, layer=layer, driver="GPKG")
        expected = len(gdf) - 2
    res = run("ingest", "bag", str(f))
    assert res.returncode == 0, res.stderr
    with db.connect() as c:
        counts = {t: c.execute(sa.text(f"SELECT count(*) FROM core.{t}")).scalar() for t in ("pand", "verblijfsobject")}
        reasons = [r[0] for r in c.execute(sa.text("SELECT reason FROM meta.reject ORDER BY reason"))]
    assert counts["verblijfsobject"] == expected
    assert counts["pand"] == len(gpd.read_file(demo_dir / "bag.gpkg", layer="pand")) - 2
    assert reasons == ["pand: no identificatie"] * 2 + ["verblijfsobject: no identificatie"] * 2, reasons
