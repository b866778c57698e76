"""``plekzoeker.gpkg``: the publish as one GeoPackage that QGIS opens styled by a double-click.

Layers, all in EPSG:28992 (RD New, as Dutch planners work):

- ``vacant_buildings`` / ``undeveloped_plots``: the ranked candidates (MultiPolygon), with the same
  flat properties as the GeoJSON files (``outputs.geojson.PROPERTY_DOCS``);
- ``vacant_buildings_points`` / ``undeveloped_plots_points``: one point on each candidate's surface;
- ``excluded_candidates``: places that are not ranked, each with its ``reason`` and ``stage``
  (``detect``: result.exclusion, e.g. a demolition permit; ``score``: a hard exclusion of scoring).

Styles live in the ``layer_styles`` table with the columns QGIS itself uses when it saves a style
into a GeoPackage (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName,
styleQML, styleSLD, useAsDefault, description, owner, ui, update_time), one default style per layer,
registered in ``gpkg_contents`` as an attributes table as QGIS does. QGIS's OGR provider looks up the
row with ``useAsDefault`` for the layer's table and geometry column and applies it on load; the
QML is the very text ``outputs.qgis_style`` writes beside the GeoJSON files, so the two agree by
construction. The file is written to a temp name and renamed, so a reader never opens half of it.
"""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
import sqlalchemy as sa

from .geojson import KIND_FILES, PUBLIC_MODE
from .qgis_style import graduated_qml, single_qml

GPKG_NAME = "plekzoeker.gpkg"
EXCLUDED_LAYER = "excluded_candidates"
EXCLUDED_SQL = (Path(__file__).with_name("sql") / "excluded.sql").read_text(encoding="utf-8")
EXCLUDED_COLOUR = "120,120,120,255"
STYLE_NAME = "plekzoeker"

# QGIS's own layer_styles table for GeoPackage (QgsOgrProviderUtils, via OGR: FID column "id")
LAYER_STYLES_DDL = """
CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256),
    styleName TEXT(30), styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30),
    ui TEXT(30), update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)
"""
STYLE_COLUMNS = ("f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName", "styleQML",
                 "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time")


def excluded_frame(conn: sa.Connection, municipality: str | None = None) -> gpd.GeoDataFrame:
    """The excluded places with their reason (geometry may be empty when the footprint is unknown)."""
    return gpd.read_postgis(sa.text(EXCLUDED_SQL), conn, geom_col="geom", params={"gm": municipality}, crs=28992)


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Columns OGR writes as plain fields: nullable ints as int64 or float, no pandas NA objects."""
    out = df.copy()
    for c in out.columns:
        if c == out.geometry.name:
            continue
        s = out[c]
        if isinstance(s.dtype, pd.Int64Dtype):
            out[c] = s.astype("int64") if not s.isna().any() else s.astype("float64")
        elif s.dtype == object or pd.api.types.is_string_dtype(s):
            out[c] = s.astype(object).where(s.notna(), None)
    return out


def candidate_layers(ranked: gpd.GeoDataFrame) -> dict[str, tuple[gpd.GeoDataFrame, str]]:
    """layer name -> (frame in EPSG:28992, OGR geometry type) for both kinds, polygons and points."""
    layers = {}
    for kind, stem in KIND_FILES.items():
        part = ranked[ranked["kind"] == kind] if len(ranked) else ranked
        part = _plain(part.to_crs(28992)) if len(part) else part
        layers[stem] = (part, "MultiPolygon")
        pts = part.set_geometry(list(shapely.point_on_surface(part.geometry.to_numpy())), crs=28992) if len(part) else part
        layers[f"{stem}_points"] = (pts, "Point")
    return layers


def _register_styles(path: Path, styles: dict[str, str], now: dt.datetime) -> None:
    """Create layer_styles (QGIS's schema), register it in gpkg_contents, one default style per layer."""
    stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    con = sqlite3.connect(path)
    try:
        with con:
            geom_cols = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
            con.execute(LAYER_STYLES_DDL)
            con.execute("INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description, "
                        "last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', "
                        "'QGIS layer styles (default style per layer)', ?)", (stamp,))
            rows = [("", "", layer, geom_cols[layer], STYLE_NAME, qml, "", 1,
                     f"plekzoeker default style of {layer}", "plekzoeker", None, stamp)
                    for layer, qml in styles.items()]
            con.executemany(f"INSERT INTO layer_styles ({', '.join(STYLE_COLUMNS)}) VALUES "
                            f"({', '.join('?' * len(STYLE_COLUMNS))})", rows)
            has_ogr_contents = con.execute("SELECT 1 FROM sqlite_master WHERE name = 'gpkg_ogr_contents'").fetchone()
            if has_ogr_contents:
                con.execute("INSERT OR REPLACE INTO gpkg_ogr_contents (table_name, feature_count) VALUES (?, ?)",
                            ("layer_styles", len(rows)))
    finally:
        con.close()


def write_geopackage(outdir: Path, ranked: gpd.GeoDataFrame, excluded: gpd.GeoDataFrame,
                     now: dt.datetime | None = None, name: str = GPKG_NAME) -> dict[str, int]:
    """Write ``plekzoeker.gpkg`` into ``outdir`` (temp file + rename); returns features per layer."""
    now = now or dt.datetime.now().astimezone()
    final = outdir / name
    tmp = outdir / f".{Path(name).stem}.tmp.gpkg"  # GDAL wants the .gpkg extension
    tmp.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    styles: dict[str, str] = {}
    try:
        layers = candidate_layers(ranked)
        layers[EXCLUDED_LAYER] = (_plain(excluded) if len(excluded) else excluded, "MultiPolygon")
        for layer, (gdf, gtype) in layers.items():
            pyogrio.write_dataframe(gdf, tmp, layer=layer, driver="GPKG", geometry_type=gtype,
                                    promote_to_multi=gtype == "MultiPolygon", append=tmp.exists(),
                                    # GeoPackage 1.2: what the GDAL of QGIS 3.22 (Debian 12) reads without a warning
                                    dataset_options=None if tmp.exists() else {"VERSION": "1.2"})
            counts[layer] = int(len(gdf))
            geom = "point" if gtype == "Point" else "polygon"
            styles[layer] = single_qml(EXCLUDED_COLOUR, label_field="reason") if layer == EXCLUDED_LAYER \
                else graduated_qml(geom)
        _register_styles(tmp, styles, now)
        os.chmod(tmp, PUBLIC_MODE)
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return counts
