"""plekzoeker.gpkg of a publish (demo town), read back with pyogrio and sqlite3: the layers, their
CRS and counts equal the GeoJSON files, the excluded places carry their reasons, and every layer has
one default style in QGIS's layer_styles schema. That QGIS really applies it is tests/test_qgis.py."""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pyogrio
import pytest
import sqlalchemy as sa
from db_helpers import detect_and_score

from plekzoeker.outputs.geopackage import STYLE_COLUMNS
from plekzoeker.outputs.publish import publish
from plekzoeker.outputs.qgis_style import graduated_qml

QGIS_STYLE_COLUMNS = {"id", "f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName",
                      "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time"}


@pytest.fixture(scope="module")
def published(engine, demo_dir, tmp_path_factory) -> tuple[Path, dict]:
    cfg, run_id, _ = detect_and_score(engine, demo_dir / "demo.yaml", day=dt.date(2026, 3, 2), reset=True)
    summary = publish(engine, cfg, tmp_path_factory.mktemp("out"), run_id)
    return Path(summary["dir"]), summary


def test_layers_equal_the_geojson_files(published):
    d, summary = published
    gpkg = d / "plekzoeker.gpkg"
    layers = {name: gtype for name, gtype in pyogrio.list_layers(gpkg)}
    assert layers == {"vacant_buildings": "MultiPolygon", "undeveloped_plots": "MultiPolygon",
                      "vacant_buildings_points": "Point", "undeveloped_plots_points": "Point",
                      "excluded_candidates": "MultiPolygon", "layer_styles": None}
    for stem in ("vacant_buildings", "undeveloped_plots"):
        gj = json.loads((d / f"{stem}.geojson").read_text())["features"]
        for name in (stem, f"{stem}_points"):
            info = pyogrio.read_info(gpkg, layer=name)
            assert info["crs"] == "EPSG:28992" and info["features"] == len(gj) == summary["geopackage"]["layers"][name]
        df = pyogrio.read_dataframe(gpkg, layer=stem)
        assert sorted(df["candidate_key"]) == sorted(f["properties"]["candidate_key"] for f in gj)
        by_key = {f["properties"]["candidate_key"]: f["properties"] for f in gj}
        for r in df.itertuples():
            assert r.rank == by_key[r.candidate_key]["rank"] and abs(r.score - by_key[r.candidate_key]["score"]) < 1e-9
        # RD New metres: the Dutch box, not degrees
        x0, y0, x1, y1 = df.total_bounds
        assert 0 < x0 < x1 < 300_000 and 300_000 < y0 < y1 < 625_000


def test_excluded_places_carry_their_reason(published, engine):
    d, summary = published
    ex = pyogrio.read_dataframe(d / "plekzoeker.gpkg", layer="excluded_candidates")
    with engine.connect() as conn:
        detect = dict(conn.execute(sa.text("SELECT candidate_key, reason FROM result.exclusion")).all())
        score = dict(conn.execute(sa.text("SELECT candidate_key, excluded_reason FROM result.score "
                                          "WHERE rank IS NULL AND excluded_reason IS NOT NULL")).all())
    assert detect or score, "the demo town should exclude something"
    got = {(r.candidate_key, r.stage): r.reason for r in ex.itertuples()}
    assert got == {**{(k, "detect"): v for k, v in detect.items()}, **{(k, "score"): v for k, v in score.items()}}
    assert ex["reason"].notna().all() and ex.geometry.notna().all()
    assert summary["geopackage"]["layers"]["excluded_candidates"] == len(ex)


def test_every_layer_has_one_default_style_in_qgis_schema(published):
    d, _ = published
    con = sqlite3.connect(d / "plekzoeker.gpkg")
    try:
        cols = {r[1] for r in con.execute("PRAGMA table_info(layer_styles)")}
        assert cols == QGIS_STYLE_COLUMNS and set(STYLE_COLUMNS) < cols
        assert con.execute("SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'").fetchone() == ("attributes",)
        geom_cols = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        rows = con.execute("SELECT f_table_name, f_geometry_column, useAsDefault, styleQML FROM layer_styles").fetchall()
    finally:
        con.close()
    assert sorted(r[0] for r in rows) == sorted(geom_cols)
    for table, geom_col, default, qml in rows:
        assert geom_col == geom_cols[table] and default == 1
        if table == "excluded_candidates":
            assert 'type="singleSymbol"' in qml and 'fieldName="reason"' in qml
        else:
            assert qml == graduated_qml("point" if table.endswith("_points") else "polygon")
