"""The published layers, styles and project in real QGIS (scripts/qgis_check.py under the system Python).

Skipped only when PyQGIS cannot be imported by the system python3:
    apt-get install -y qgis python3-qgis
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from db_helpers import detect_and_score

from plekzoeker.outputs.publish import publish

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "qgis_check.py"
ARTIFACTS = REPO / "tests" / "artifacts" / "qgis"
QGIS_PYTHON = os.environ.get("QGIS_PYTHON", "/usr/bin/python3")


def _has_qgis() -> bool:
    if not Path(QGIS_PYTHON).exists():
        return False
    return subprocess.run([QGIS_PYTHON, "-c", "import qgis.core"], check=False, capture_output=True,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}).returncode == 0


pytestmark = pytest.mark.skipif(not _has_qgis(), reason=f"PyQGIS is not importable by {QGIS_PYTHON}: "
                                                        "apt-get install -y qgis python3-qgis")


def qgis_check(d: Path, png_dir: Path) -> tuple[int, dict, str]:
    res = subprocess.run([QGIS_PYTHON, str(SCRIPT), str(d), "--png-dir", str(png_dir)], check=False, capture_output=True,
                         text=True,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, timeout=180)
    try:
        report = json.loads(res.stdout)
    except ValueError:
        report = {}
    return res.returncode, report, res.stderr


@pytest.fixture(scope="module")
def published(engine, demo_dir, tmp_path_factory) -> Path:
    cfg, run_id, _ = detect_and_score(engine, demo_dir / "demo.yaml", day=dt.date(2026, 3, 2), reset=True)
    summary = publish(engine, cfg, tmp_path_factory.mktemp("out"), run_id, municipality_files=True)
    return Path(summary["dir"])


def test_layers_styles_and_project_open_in_qgis(published):
    code, report, err = qgis_check(published, ARTIFACTS)
    assert code == 0, (report.get("errors"), err[-2000:])
    summary = json.loads((published / "summary.json").read_text())
    layers = {layer["file"]: layer for layer in report["layers"]}
    # polygon, point and per-municipality files, each with its style
    assert set(layers) == {p.name for p in published.glob("*.geojson")}
    for name, n in summary["files"].items():
        assert n > 0 and layers[name]["features"] == n
        assert layers[name.replace(".geojson", "_points.geojson")]["features"] == n
    for layer in layers.values():
        assert layer["renderer"] == "graduatedSymbol" and layer["attribute"] == "score_relative" and layer["labels"]
        assert layer["render"]["style_pixels"] > 0 and Path(layer["render"]["png"]).stat().st_size > 1000
    project = report["project"]
    assert project["crs"] == "EPSG:3857"
    assert {k: (v["features"], v["visible"]) for k, v in project["layers"].items() if "features" in v} == {
        "Vacant buildings": (summary["files"]["vacant_buildings.geojson"], True),
        "Undeveloped plots": (summary["files"]["undeveloped_plots.geojson"], True),
        "Vacant buildings (points)": (summary["files"]["vacant_buildings.geojson"], False),
        "Undeveloped plots (points)": (summary["files"]["undeveloped_plots.geojson"], False)}
    assert project["layers"]["OpenStreetMap"]["provider"] == "wms"
    assert (ARTIFACTS / "project.png").stat().st_size > 1000


def test_geopackage_opens_styled_in_qgis(published):
    """plekzoeker.gpkg: QGIS applies the default style of layer_styles by itself (no .qml loaded)."""
    code, report, err = qgis_check(published, ARTIFACTS)
    assert code == 0, (report.get("errors"), err[-2000:])
    summary = json.loads((published / "summary.json").read_text())
    gpkg = report["geopackage"]["layers"]
    assert set(gpkg) == set(summary["geopackage"]["layers"]) == {
        "vacant_buildings", "undeveloped_plots", "vacant_buildings_points", "undeveloped_plots_points",
        "excluded_candidates"}
    for name, info in gpkg.items():
        assert info["features"] == summary["geopackage"]["layers"][name] and info["crs"] == "EPSG:28992", name
        if name == "excluded_candidates":
            assert info["renderer"] == "singleSymbol" and info["labels"]
        else:
            assert info["features"] > 0
            assert (info["renderer"], info["attribute"], info["classes"], info["labels"]) == \
                ("graduatedSymbol", "score_relative", 5, True), name
            assert info["render"]["style_pixels"] > 0 and Path(info["render"]["png"]).stat().st_size > 1000
    assert summary["geopackage"]["layers"]["vacant_buildings"] == summary["files"]["vacant_buildings.geojson"]


def test_geopackage_check_fails_without_a_stored_style(published, tmp_path):
    """The check can fail: without the layer's row in layer_styles QGIS opens it unstyled, and that is
    reported (so the styles the first test sees really come from the GeoPackage)."""
    import sqlite3

    d = tmp_path / "pub"
    shutil.copytree(published, d)
    con = sqlite3.connect(d / "plekzoeker.gpkg")
    with con:
        con.execute("DELETE FROM layer_styles WHERE f_table_name = 'undeveloped_plots'")
    con.close()
    code, report, _ = qgis_check(d, tmp_path / "png")
    assert code == 1
    errors = "\n".join(report["errors"])
    assert "layer 'undeveloped_plots' opens with renderer singleSymbol, expected graduatedSymbol" in errors, errors
    assert report["geopackage"]["layers"]["vacant_buildings"]["renderer"] == "graduatedSymbol"


def test_check_fails_on_a_wrong_style_or_count(published, tmp_path):
    """The check can fail: a single-symbol style and a count that disagrees with summary.json are reported."""
    d = tmp_path / "pub"
    shutil.copytree(published, d)
    qml = d / "vacant_buildings.qml"
    qml.write_text(qml.read_text().replace('type="graduatedSymbol"', 'type="singleSymbol"'))
    summary = json.loads((d / "summary.json").read_text())
    summary["files"]["undeveloped_plots.geojson"] += 1
    (d / "summary.json").write_text(json.dumps(summary))
    code, report, _ = qgis_check(d, tmp_path / "png")
    assert code == 1
    errors = "\n".join(report["errors"])
    assert "vacant_buildings.qml: renderer is singleSymbol, expected graduatedSymbol" in errors
    assert "undeveloped_plots.geojson: " in errors and "summary.json says" in errors
