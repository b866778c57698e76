"""Valid files with wrong data: refused with one line naming the file and what is wrong, nothing changed
(through the CLI and through the nightly flow); a few implausible rows are rejected with their reason.

Every wrong file is built here from the demo town (``plekzoeker demo-data``) or the real samples in
tests/data, the way such files come about: coordinates exported as lon/lat under an RD New label, an
export that stopped early but closed cleanly, one geometry written for every row, another
municipality's register, a raster georeferenced in degrees.
"""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import rasterio
import sqlalchemy as sa
import yaml
from rasterio.transform import from_origin
from rel_helpers import REPO, fingerprint, record

DATA = REPO / "tests" / "data"
RESULTS: dict[str, bool] = {}
LINES: dict[str, str] = {}  # case -> the error line the user saw (kept in the reliability artifact)


def cli(*args, config: Path | None = None, env: dict | None = None):
    cmd = [sys.executable, "-m", "plekzoeker.cli", "--quiet", *(["--config", str(config)] if config else []), *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env={**os.environ, **(env or {})})


def one_error_line(res) -> str:
    lines = res.stderr.strip().splitlines()
    assert res.returncode != 0, res.stderr[-1500:]
    assert "Traceback" not in res.stderr, res.stderr[-1500:]
    assert lines and lines[-1].startswith("error:"), res.stderr[-1500:]
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert len(errors) == 1, res.stderr[-1500:]
    return lines[-1]


def bag_layers(demo_dir: Path) -> dict[str, gpd.GeoDataFrame]:
    return {layer: gpd.read_file(demo_dir / "bag.gpkg", layer=layer) for layer in ("pand", "verblijfsobject")}


def write_layers(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    for layer, gdf in layers.items():
        gdf.to_file(path, layer=layer, driver="GPKG")
    return path


def lonlat_labelled_rd(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The classic export mistake: the numbers are WGS84 lon/lat, the CRS still says EPSG:28992."""
    return gdf.to_crs(4326).set_crs(28992, allow_override=True)


def wrong_files(tmp: Path, demo_dir: Path) -> list[tuple[str, list[str], Path, list[str]]]:
    """(name, CLI args, file, texts the one error line must contain)."""
    bag = bag_layers(demo_dir)
    n_pand = len(bag["pand"])
    cases = []
    f = write_layers(tmp / "bag_lonlat.gpkg", {k: lonlat_labelled_rd(v) for k, v in bag.items()})
    cases.append(("BAG lon/lat labelled RD New", ["ingest", "bag"], f,
                  ["lon/lat degrees", "EPSG:28992", "nothing was changed"]))
    short = {k: v.iloc[: max(1, len(v) // 20)] for k, v in bag.items()}  # 5 %: a download that stopped early
    f = write_layers(tmp / "bag_5pct.gpkg", short)
    cases.append(("BAG with 5 % of the rows", ["ingest", "bag"], f,
                  [f"{n_pand:,} → {len(short['pand']):,}", "--allow-shrink", "core.pand"]))
    same = {**bag, "pand": bag["pand"].assign(geometry=[bag["pand"].geometry.iloc[0]] * n_pand)}
    f = write_layers(tmp / "bag_one_geometry.gpkg", same)
    cases.append(("BAG with one geometry for every building", ["ingest", "bag"], f,
                  ["same geometry", "pand"]))
    vbo = bag["verblijfsobject"].copy()
    vbo.loc[vbo.index[: int(len(vbo) * 0.8)], "oppervlakte"] = 0
    f = write_layers(tmp / "bag_area_zero.gpkg", {**bag, "verblijfsobject": vbo})
    cases.append(("BAG with floor area 0 for most units", ["ingest", "bag"], f, ["oppervlakte", "0"]))
    brk = gpd.read_file(demo_dir / "brk_percelen.gpkg", layer="perceel")
    f = tmp / "brk_lonlat.gpkg"
    lonlat_labelled_rd(brk).to_file(f, layer="perceel", driver="GPKG")
    cases.append(("BRK lon/lat labelled RD New", ["ingest", "brk"], f, ["lon/lat degrees", "EPSG:28992"]))
    # a real RD file of somewhere else: Otterlo's parcels loaded for Demodorp's area
    shutil.copy(DATA / "brk" / "kadastralekaart_perceel.gml", tmp / "otterlo_perceel.gml")
    f = tmp / "otterlo_perceel.gml"
    cases.append(("BRK of another place than the area bbox", ["ingest", "brk", "--area", _demo_bbox(demo_dir)], f,
                  ["no usable perceel rows"]))
    vac = pd.read_csv(DATA / "signals" / "vacancy.csv", dtype=str)
    other = vac.assign(verblijfsobject_id=[f"0221{i:012d}" for i in range(len(vac))])  # Otterlo's municipality
    f = tmp / "vacancy_other_municipality.csv"
    other.to_csv(f, index=False)
    cases.append(("vacancy register of another municipality", ["ingest", "signals", "vacancy"], f,
                  ["another municipality", "GM9999"]))
    f = tmp / "noise_degrees.tif"
    with rasterio.open(demo_dir / "noise_lden.tif") as src:
        profile = {**src.profile, "transform": from_origin(5.90, 52.10, 0.0001, 0.0001)}
        with rasterio.open(f, "w", **profile) as dst:
            dst.write(src.read())
    cases.append(("noise raster georeferenced in degrees", ["ingest", "raster", "noise_lden"], f,
                  ["lon/lat degrees", "nothing was registered"]))
    return cases


def _demo_bbox(demo_dir: Path) -> str:
    b = gpd.read_file(demo_dir / "bag.gpkg", layer="pand").total_bounds
    return ",".join(f"{v:.0f}" for v in b)


@pytest.fixture
def loaded(db, demo_dir):
    """The demo town loaded the way a user does it (demo.yaml: area GM9999)."""
    cfg = demo_dir / "demo.yaml"
    for args in (["ingest", "bag", str(demo_dir / "bag.gpkg")], ["ingest", "brk", str(demo_dir / "brk_percelen.gpkg")],
                 ["ingest", "signals", "vacancy", str(demo_dir / "vacancy.csv")],
                 ["ingest", "raster", "noise_lden", str(demo_dir / "noise_lden.tif")]):
        res = cli(*args, config=cfg)
        assert res.returncode == 0, res.stderr[-1500:]
    return db


def raster_state(engine):
    with engine.connect() as c:
        return c.execute(sa.text("SELECT kind, path, sha256 FROM meta.raster ORDER BY kind")).all()


def test_wrong_files_are_refused_with_one_line_and_change_nothing(loaded, demo_dir, tmp_path):
    before, rasters = fingerprint(loaded), raster_state(loaded)
    cases = wrong_files(tmp_path, demo_dir)
    for name, args, path, texts in cases:
        line = one_error_line(cli(*args, str(path), config=demo_dir / "demo.yaml"))
        assert path.name in line, (name, line)
        for t in texts:
            assert t in line, (name, t, line)
        assert fingerprint(loaded) == before, f"{name}: the database changed"
        assert raster_state(loaded) == rasters, f"{name}: the registered raster changed"
        RESULTS[f"cli: {name}"] = True
        LINES[f"cli: {name}"] = line.replace(str(tmp_path), "<tmp>")
    with loaded.connect() as c:
        statuses = [r[0] for r in c.execute(sa.text(
            "SELECT status FROM meta.input WHERE path LIKE :p ORDER BY input_id"), {"p": f"{tmp_path}%"})]
    assert statuses and set(statuses) == {"failed"}, statuses


def test_a_deliberately_smaller_file_loads_with_allow_shrink_and_growth_warns(loaded, demo_dir, tmp_path):
    cfg = demo_dir / "demo.yaml"
    bag = bag_layers(demo_dir)
    short = write_layers(tmp_path / "bag_5pct.gpkg", {k: v.iloc[: len(v) // 20] for k, v in bag.items()})
    res = cli("ingest", "bag", str(short), "--allow-shrink", config=cfg)
    assert res.returncode == 0, res.stderr[-1500:]
    assert "accepted with allow_shrink" in res.stderr
    with loaded.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM core.pand")).scalar() == len(bag["pand"]) // 20
    res = cli("ingest", "bag", str(demo_dir / "bag.gpkg"), "--force", config=cfg)  # back to the full town: 20x
    assert res.returncode == 0, res.stderr[-1500:]
    assert f"grows from {len(bag['pand']) // 20} to {len(bag['pand'])} rows" in res.stderr, res.stderr
    RESULTS["cli: --allow-shrink accepts a smaller file; growth warns"] = True


def test_a_few_implausible_rows_are_rejected_with_their_reason(loaded, demo_dir, tmp_path):
    bag = bag_layers(demo_dir)
    vbo, pand = bag["verblijfsobject"].copy(), bag["pand"].copy()
    vbo.loc[vbo.index[:3], "oppervlakte"] = 0
    vbo.loc[vbo.index[3], "oppervlakte"] = 5_000_000
    pand.loc[pand.index[:2], "documentdatum"] = pd.Timestamp("2999-01-01")
    f = write_layers(tmp_path / "bag_some_wrong.gpkg", {"pand": pand, "verblijfsobject": vbo})
    res = cli("ingest", "bag", str(f), config=demo_dir / "demo.yaml")
    assert res.returncode == 0, res.stderr[-1500:]
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["implausible"] == 6 and summary["rejected"] == 6, summary
    vac = pd.read_csv(demo_dir / "vacancy.csv", dtype=str)
    vac.loc[vac.index[0], "vacant_since"] = "2999-01-01"
    vac.loc[vac.index[1], "verblijfsobject_id"] = "0221010000000001"  # Otterlo: never a unit of GM9999
    fv = tmp_path / "vacancy_two_wrong.csv"
    vac.to_csv(fv, index=False)
    res = cli("ingest", "signals", "vacancy", str(fv), config=demo_dir / "demo.yaml")
    assert res.returncode == 0, res.stderr[-1500:]
    with loaded.connect() as c:
        reasons = sorted(r[0] for r in c.execute(sa.text("SELECT reason FROM meta.reject")))
        n_pand = c.execute(sa.text("SELECT count(*) FROM core.pand")).scalar()
        n_vac = c.execute(sa.text("SELECT count(*) FROM core.signal WHERE kind = 'vacancy'")).scalar()
    assert reasons == sorted(["pand: documentdatum in the future"] * 2
                             + ["verblijfsobject: floor area (oppervlakte) 0 or above 999,999 m² "
                                "(the BAG catalogue's range is 1..999,999)"] * 4
                             + ["signal: date (vacant_since / listed_since) in the future",
                                "signal: identifier of another municipality than the area GM9999"]), reasons
    assert n_pand == len(pand) - 2 and n_vac == len(vac) - 2
    RESULTS["cli: a few implausible rows rejected with reasons"] = True


def test_osm_outside_the_area_warns_with_the_share_dropped(db, demo_dir):
    b = [float(v) for v in _demo_bbox(demo_dir).split(",")]
    half = f"{b[0]:.0f},{b[1]:.0f},{(b[0] + b[2]) / 2:.0f},{b[3]:.0f}"
    res = cli("ingest", "osm", str(demo_dir / "town.osm.pbf"), "--area", half)
    assert res.returncode == 0, res.stderr[-1500:]
    assert "outside the area, dropped" in res.stderr and "street edges (" in res.stderr, res.stderr
    RESULTS["cli: OSM outside the area warns with the share"] = True


def test_bgt_sample_missing_most_layers_is_refused(db, tmp_path):
    """The real Otterlo BGT, then the same zip with only its two smallest surface layers (a download that
    stopped early): refused with the counts."""
    full = DATA / "bgt" / "otterlo-bgt.zip"
    assert cli("ingest", "bgt", str(full)).returncode == 0
    before = _bgt_state(db)
    short = tmp_path / "otterlo-bgt-partial.zip"
    with zipfile.ZipFile(full) as src, zipfile.ZipFile(short, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in ("bgt_ondersteunendwaterdeel.gml", "bgt_overbruggingsdeel.gml"):
            dst.writestr(name, src.read(name))
    line = one_error_line(cli("ingest", "bgt", str(short)))
    assert short.name in line and "core.bgt_vlak" in line and "--allow-shrink" in line, line
    assert _bgt_state(db) == before
    RESULTS["cli: real BGT sample missing most layers"] = True
    LINES["cli: real BGT sample missing most layers"] = line.replace(str(tmp_path), "<tmp>")


def _bgt_state(engine):
    with engine.connect() as c:
        return c.execute(sa.text("SELECT count(*), md5(string_agg(identificatie, ',' ORDER BY identificatie)) "
                                 "FROM core.bgt_vlak")).one()


def _prefect_env() -> dict:
    from prefect.settings import PREFECT_API_URL

    return {"PREFECT_API_URL": PREFECT_API_URL.value()} if PREFECT_API_URL.value() else {}


def _config_with(demo_dir: Path, tmp: Path, name: str, **inputs) -> Path:
    cfg = yaml.safe_load((demo_dir / "demo.yaml").read_text())
    cfg["inputs"] = {k: (str(demo_dir / v) if isinstance(v, str) else {kk: str(demo_dir / vv) for kk, vv in v.items()})
                     for k, v in cfg["inputs"].items()}
    cfg["inputs"].update({k: str(v) for k, v in inputs.items()})
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.prefect
def test_nightly_refuses_wrong_inputs_and_keeps_the_published_lists(db, demo_dir, prefect_server, tmp_path):
    """A good nightly run, then nightly runs whose BAG is lon/lat-labelled-RD or 5 % of the rows: each fails in
    ingest with the one line, the database and out/latest stay as they were; ingest.allow_shrink: true lets the
    smaller file through."""
    env = _prefect_env()
    out = tmp_path / "out"
    res = cli("nightly", "--out", str(out), config=demo_dir / "demo.yaml", env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    latest = (out / "latest").resolve()
    published = {p.name: p.read_bytes() for p in latest.iterdir() if p.is_file()}
    before = fingerprint(db)
    bag = bag_layers(demo_dir)
    lonlat = write_layers(tmp_path / "bag_lonlat.gpkg", {k: lonlat_labelled_rd(v) for k, v in bag.items()})
    short = write_layers(tmp_path / "bag_5pct.gpkg", {k: v.iloc[: len(v) // 20] for k, v in bag.items()})
    for name, f, text in (("nightly: BAG lon/lat labelled RD New", lonlat, "lon/lat degrees"),
                          ("nightly: BAG with 5 % of the rows", short, "ingest.allow_shrink")):
        line = one_error_line(cli("nightly", "--out", str(out), config=_config_with(demo_dir, tmp_path, f.stem, bag=f),
                                  env=env))
        assert f.name in line and text in line, line
        assert fingerprint(db) == before, f"{name}: the database changed"
        assert (out / "latest").resolve() == latest
        assert {p.name: p.read_bytes() for p in latest.iterdir() if p.is_file()} == published
        RESULTS[name] = True
        LINES[name] = line.replace(str(tmp_path), "<tmp>")
    with db.connect() as c:
        assert c.execute(sa.text("SELECT status FROM meta.run WHERE flow = 'nightly' ORDER BY run_id DESC LIMIT 1")
                         ).scalar() == "failed"
    cfg = _config_with(demo_dir, tmp_path, "allowed", bag=short)
    cfg.write_text(cfg.read_text() + "ingest: {allow_shrink: true}\n")
    res = cli("nightly", "--out", str(out), config=cfg, env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    with db.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM core.pand")).scalar() == len(bag["pand"]) // 20
    RESULTS["nightly: ingest.allow_shrink accepts the smaller file"] = True


def test_record_wrong_data_figures():
    """Runs last in this module: the figures for RELIABILITY.md (tests/artifacts/reliability.json)."""
    if not RESULTS:
        pytest.skip("no wrong-data case ran in this session")
    record("wrong_data_files", {"refused_or_handled": sum(RESULTS.values()), "tried": len(RESULTS),
                                "cases": sorted(RESULTS), "error_lines": LINES})
