"""Constraints (scoring/constraints.py): zonal statistics on synthetic GeoTIFFs, vector context in PostGIS.

The raster is 2,000 x 2,000 cells of 10 m (20 x 20 km) with value ``row + col / 1000`` in every cell,
so the expected mean/max over any set of cells is plain arithmetic. Polygons are inset 0.5 m from
cell edges, so the cells they touch are exactly the ones the test names.
"""
from __future__ import annotations

import numpy as np
import pytest
import rasterio
import sqlalchemy as sa
from rasterio.io import DatasetReader
from rasterio.transform import from_origin
from shapely import box

from plekzoeker.scoring.constraints import vector_context, zonal_stats

X0, Y0, CELL, N = 150_000.0, 470_000.0, 10.0, 2000   # top-left corner, cell size, cells per side
NODATA = -9999.0


def cells_box(r0: int, c0: int, r1: int, c1: int):
    """Polygon over rows r0..r1-1 and columns c0..c1-1, inset 0.5 m."""
    return box(X0 + c0 * CELL + 0.5, Y0 - r1 * CELL + 0.5, X0 + c1 * CELL - 0.5, Y0 - r0 * CELL - 0.5)


def values(r0, c0, r1, c1) -> np.ndarray:
    rows, cols = np.mgrid[r0:r1, c0:c1]
    return (rows + cols / 1000.0).astype(np.float32).astype(float)


@pytest.fixture(scope="module")
def raster(tmp_path_factory):
    path = tmp_path_factory.mktemp("rasters") / "grid.tif"
    rows, cols = np.mgrid[0:N, 0:N]
    data = (rows + cols / 1000.0).astype(np.float32)
    data[105, 205] = NODATA                 # inside polygon "nodata"
    data[300:302, 300:302] = NODATA         # polygon "all_nodata" covers only these
    with rasterio.open(path, "w", driver="GTiff", width=N, height=N, count=1, dtype="float32", crs="EPSG:28992",
                       transform=from_origin(X0, Y0, CELL, CELL), nodata=NODATA, tiled=True, blockxsize=256,
                       blockysize=256) as dst:
        dst.write(data, 1)
    return path


def test_mean_max_exact_nodata_partly_outside(raster):
    geoms = [
        cells_box(10, 20, 13, 24),            # 3 x 4 cells
        cells_box(100, 200, 110, 210),        # 10 x 10 with one nodata cell
        cells_box(50, -5, 52, 3),             # partly west of the raster: only columns 0..2 count
        cells_box(-3, 1990, 2, 2010),         # over the north-east corner: rows 0..1, cols 1990..1999
        cells_box(300, 300, 302, 302),        # nodata only
        box(X0 - 500, Y0 - 500, X0 - 100, Y0 - 100),   # wholly outside
        None,
    ]
    zs = zonal_stats(str(raster), geoms, ("mean", "max", "min"))
    assert list(zs.columns) == ["mean", "max", "min"] and len(zs) == len(geoms)
    exp = [values(10, 20, 13, 24), values(100, 200, 110, 210), values(50, 0, 52, 3), values(0, 1990, 2, 2000)]
    exp[1] = np.delete(exp[1].ravel(), 5 * 10 + 5)          # cell (105, 205) is nodata
    for i, e in enumerate(exp):
        assert zs.loc[i, "mean"] == pytest.approx(e.mean(), abs=1e-9), i
        assert zs.loc[i, "max"] == pytest.approx(e.max(), abs=1e-9), i
        assert zs.loc[i, "min"] == pytest.approx(e.min(), abs=1e-9), i
    assert zs.loc[1, "min"] > NODATA                       # the nodata value never enters a statistic
    assert zs.iloc[4:].isna().all().all()                  # nodata only, outside, no geometry


def test_reads_only_windows_over_the_geometries(raster, monkeypatch):
    """A 20 x 20 km raster and two small polygons: every read is a window of a few cells."""
    reads: list[tuple[int, int]] = []
    real = DatasetReader.read

    def spy(self, *args, **kwargs):
        win = kwargs.get("window")
        assert win is not None, "zonal_stats read a whole band"
        reads.append((int(win.height), int(win.width)))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(DatasetReader, "read", spy)
    zs = zonal_stats(str(raster), [cells_box(10, 20, 13, 24), cells_box(1500, 1500, 1505, 1502)], ("max",))
    assert zs["max"].tolist() == pytest.approx([12.023, 1505.501])
    assert reads == [(3, 4), (5, 2)]
    assert sum(h * w for h, w in reads) < N * N / 100_000


def test_raster_in_another_crs(tmp_path):
    """Geometries (RD New) are reprojected to the raster's CRS (UTM 31N here)."""
    from pyproj import Transformer

    x, y = Transformer.from_crs(28992, 25831, always_xy=True).transform(155_000.0, 465_000.0)
    path = tmp_path / "utm.tif"
    data = np.zeros((100, 100), dtype=np.float32)
    data[40:60, 40:60] = 7.0                  # a 200 m block around the point
    with rasterio.open(path, "w", driver="GTiff", width=100, height=100, count=1, dtype="float32", crs="EPSG:25831",
                       transform=from_origin(x - 500, y + 500, 10, 10)) as dst:
        dst.write(data, 1)
    zs = zonal_stats(str(path), [box(154_980, 464_980, 155_020, 465_020), box(155_300, 465_300, 155_340, 465_340)])
    assert zs.loc[0, "mean"] == 7.0 and zs.loc[0, "max"] == 7.0
    assert zs.loc[1, "max"] == 0.0


def test_unknown_statistic(raster):
    with pytest.raises(ValueError, match="median"):
        zonal_stats(str(raster), [cells_box(0, 0, 1, 1)], ("median",))


def _candidate(conn, key: str, geom_wkt: str) -> None:
    conn.execute(sa.text(
        "INSERT INTO result.candidate (candidate_key, kind, source_ids, area_m2, geom, access_point) "
        "VALUES (:k, 'undeveloped_plot', ARRAY[:k], 100, ST_GeomFromText(:g, 28992), "
        "ST_PointOnSurface(ST_GeomFromText(:g, 28992)))"), {"k": key, "g": geom_wkt})


def test_vector_context(db):
    with db.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO core.landuse (osm_id, key, value, geom) VALUES "
            "('w1', 'landuse', 'residential', ST_Multi(ST_MakeEnvelope(0, 0, 100, 100, 28992))), "
            "('w2', 'landuse', 'residential', ST_Multi(ST_MakeEnvelope(1000, 0, 1100, 100, 28992))), "
            "('w3', 'landuse', 'cemetery', ST_Multi(ST_MakeEnvelope(150, 0, 250, 100, 28992)))"))
        _candidate(conn, "inside", "POLYGON((10 10, 20 10, 20 20, 10 20, 10 10))")
        _candidate(conn, "east", "POLYGON((400 0, 420 0, 420 20, 400 20, 400 0))")      # 300 m from w1
        _candidate(conn, "north", "POLYGON((1050 400, 1060 400, 1060 410, 1050 410, 1050 400))")  # 300 m from w2
        _candidate(conn, "near_east", "POLYGON((430 0, 440 0, 440 10, 430 10, 430 0))")   # 10 m from "east"
    with db.connect() as conn:
        vc = vector_context(conn, radius_m=50).set_index("candidate_key")
        wide = vector_context(conn, radius_m=2000).set_index("candidate_key")
    assert vc.loc["inside", "dist_residential_m"] == 0.0
    assert vc.loc["east", "dist_residential_m"] == pytest.approx(300.0)     # not the cemetery at 150 m
    assert vc.loc["north", "dist_residential_m"] == pytest.approx(300.0)
    assert vc["candidates_nearby"].to_dict() == {"inside": 0, "east": 1, "north": 0, "near_east": 1}
    assert wide["candidates_nearby"].to_dict() == {"inside": 3, "east": 3, "north": 3, "near_east": 3}


def test_vector_context_without_residential_areas(db):
    with db.begin() as conn:
        _candidate(conn, "a", "POLYGON((10 10, 20 10, 20 20, 10 20, 10 10))")
    with db.connect() as conn:
        vc = vector_context(conn)
    assert vc["dist_residential_m"].isna().all() and vc["candidates_nearby"].tolist() == [0]
