"""GeoJSON writer: RFC 7946 on synthetic data with a known answer (no database)."""
import json

import geopandas as gpd
import pytest
from geojson_checks import check_rfc7946
from shapely.geometry import Polygon, box

from plekzoeker.outputs.geojson import write_geojson_files, write_json_atomic
from plekzoeker.outputs.publish import _swap_symlink


def frame():
    cw = Polygon([(155000, 463000), (155000, 463050), (155050, 463050), (155050, 463000)])  # clockwise exterior
    assert not cw.exterior.is_ccw
    holed = Polygon(box(155100, 463000, 155200, 463100).exterior.coords[::-1],
                    [box(155140, 463040, 155160, 463060).exterior.coords])
    return gpd.GeoDataFrame({
        "rank": [1, 2], "score": [0.9, 0.5], "kind": ["vacant_building", "undeveloped_plot"],
        "municipality": ["GM0001", "GM0002"], "label": ["Kerkstraat 1", "ABC01 A 12"], "area_m2": [2500.0, 10000.0],
    }, geometry=[cw, holed], crs=28992)


def test_rfc7946_orientation_precision_and_split_by_kind(tmp_path):
    counts = write_geojson_files(frame(), tmp_path, municipality_files=True)
    assert counts == {"vacant_buildings.geojson": 1, "vacant_buildings_GM0001.geojson": 1,
                      "undeveloped_plots.geojson": 1, "undeveloped_plots_GM0002.geojson": 1}
    fc = check_rfc7946(tmp_path / "vacant_buildings.geojson")
    ring = fc["features"][0]["geometry"]["coordinates"][0]
    lon, lat = ring[0]
    assert 5.0 < lon < 5.5 and 52.0 < lat < 52.3  # RD (155000, 463000) is near Amersfoort
    plots = check_rfc7946(tmp_path / "undeveloped_plots.geojson")
    assert len(plots["features"][0]["geometry"]["coordinates"]) == 2  # exterior + hole kept
    pts = check_rfc7946(tmp_path / "undeveloped_plots_points.geojson")
    assert pts["features"][0]["geometry"]["type"] == "Point"
    assert not list(tmp_path.glob(".*.tmp"))  # no temp files left


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "x.geojson"
    write_json_atomic(target, {"ok": 1})

    class Boom:
        pass

    with pytest.raises(TypeError):
        write_json_atomic(target, {"bad": Boom()})
    assert json.loads(target.read_text()) == {"ok": 1}
    assert not list(tmp_path.glob(".*.tmp"))


def test_latest_symlink_swap(tmp_path):
    (tmp_path / "runs" / "a").mkdir(parents=True)
    (tmp_path / "runs" / "b").mkdir(parents=True)
    _swap_symlink(tmp_path / "latest", "runs/a")
    assert (tmp_path / "latest").resolve().name == "a"
    _swap_symlink(tmp_path / "latest", "runs/b")
    assert (tmp_path / "latest").resolve().name == "b"
