"""Read zoning plans: IMRO2012 GML (Wro bestemmingsplannen) and Omgevingsplan (DSO) GeoJSON.

Both regimes become rows of one shape (core.zoning, see migration 0005): ``plan_id``, ``plan_status``,
``plan_date``, ``objecttype``, ``hoofdgroep``, ``naam``, ``waarde``/``waarde_type`` and a surface.

* **IMRO2012 GML** is read with GDAL's GML driver (pyogrio), one layer per feature type:
  ``Enkelbestemming`` and ``Dubbelbestemming`` (``bestemmingshoofdgroep``, ``naam``), ``Bouwvlak``,
  ``Functieaanduiding``, ``Maatvoering`` (``waarde``, ``waardeType``, e.g. *maximum aantal
  bouwlagen*) and ``Bestemmingsplangebied`` (the plan: its ``gml:id`` is the plan's IMRO idn, with
  ``planstatus``, ``datum``, ``naam``). The plan area is kept as objecttype ``plangebied`` so a newer
  plan can win where plans overlap (scoring/facts.py). GDAL linearises the curves real plans contain
  (``gml:Arc`` segments, CurvePolygon, MultiSurface) into polygons (``OGR_ARC_STEPSIZE``, default 4°
  per segment; a 30 m arc deviates < 2 cm), so every geometry arrives as a (Multi)Polygon; invalid
  ones are repaired by the loader (``ST_MakeValid``, counted) and what is not a surface at all
  (a point, a line) is kept with an empty geometry so the loader rejects it with the reason.
* **Omgevingsplan (DSO) GeoJSON**: a FeatureCollection of *functie* annotations (as the DSO
  "Ozon" presenteren API returns them, flattened): per feature ``identificatie``, ``naam``, ``groep``
  (the functiegroep, a label such as ``wonen`` or a concept URI ending in it), the plan as
  ``regeling`` (or ``plan_id``) with optional ``status`` and ``datum``. Objecttype ``functie``.

A directory or a ZIP is read file by file (``*.gml``, ``*.geojson``, ``*.json``), so several plans
load in one go. A file that GDAL cannot open, a GML without ``Bestemmingsplangebied`` (not an IMRO
plan) or a GeoJSON without the required properties raises one :class:`SourceError` naming the file.
A file without a CRS is refused; another CRS is reprojected to RD New.
"""
from __future__ import annotations

import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from plekzoeker.errors import SourceError

log = logging.getLogger(__name__)

COLUMNS = ["identificatie", "regime", "plan_id", "plan_name", "plan_status", "plan_date", "objecttype",
           "hoofdgroep", "naam", "waarde", "waarde_type", "source_file", "geometry"]
IMRO_LAYERS = {"Enkelbestemming": "enkelbestemming", "Dubbelbestemming": "dubbelbestemming",
               "Bouwvlak": "bouwvlak", "Functieaanduiding": "functieaanduiding", "Maatvoering": "maatvoering",
               "Bestemmingsplangebied": "plangebied"}
PLAN_LAYER = "Bestemmingsplangebied"
DSO_REQUIRED = ("identificatie", "groep")
SUFFIXES = (".gml", ".xml", ".geojson", ".json")


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _open(path: str, label: Path, layer: str | None = None) -> gpd.GeoDataFrame:
    try:
        return pyogrio.read_dataframe(path, layer=layer, WRITE_GFS="NO") if path.endswith((".gml", ".xml")) \
            else pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # noqa: BLE001 - GDAL raises several kinds; the user needs one line
        raise SourceError(label, f"cannot read as a zoning plan ({_one_line(exc)})") from None


def _layers(path: str, label: Path) -> list[str]:
    """The IMRO layers present (probed one by one with WRITE_GFS=NO: GDAL writes no .gfs beside the file)."""
    from pyogrio.errors import DataLayerError

    found = []
    for name in IMRO_LAYERS:
        try:
            pyogrio.read_info(path, layer=name, WRITE_GFS="NO")
            found.append(name)
        except DataLayerError:
            continue
        except Exception as exc:  # noqa: BLE001 - GDAL raises several kinds; the user needs one line
            raise SourceError(label, f"cannot read as a zoning plan ({_one_line(exc)})") from None
    return found


def _rd(gdf: gpd.GeoDataFrame, label: Path) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise SourceError(label, "declares no CRS (expected EPSG:28992 RD New)")
    return gdf if gdf.crs.to_epsg() == 28992 else gdf.to_crs(28992)


def _surfaces(geoms) -> list:
    """Polygons and multipolygons as they are (the loader repairs invalid ones); anything else None,
    so the loader rejects the row as 'no surface'."""
    out = []
    for g in geoms:
        if g is None or g.is_empty:
            out.append(None)
        elif g.geom_type in ("Polygon", "MultiPolygon"):
            out.append(g)
        elif g.geom_type == "GeometryCollection":
            polys = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
            out.append(shapely.union_all(polys) if polys else None)
        else:
            out.append(None)
    return out


def _text(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df.columns:
        return pd.Series([None] * len(df), index=df.index, dtype=object)
    s = df[col].astype(object)
    return s.where(s.notna(), None).map(lambda v: None if v is None else str(v).strip() or None)


def _date(value) -> object:
    d = pd.to_datetime(value, errors="coerce")
    return None if pd.isna(d) else d.date()


def read_imro(path: str, label: Path) -> gpd.GeoDataFrame:
    """One IMRO2012 GML plan as rows of core.zoning."""
    layers = _layers(path, label)
    if PLAN_LAYER not in layers:
        raise SourceError(label, f"no {PLAN_LAYER} in the file: not an IMRO2012 plan "
                                 f"(IMRO layers found: {', '.join(layers) or 'none'})")
    plan = _open(path, label, PLAN_LAYER)
    if plan.empty or "gml_id" not in plan.columns:
        raise SourceError(label, f"{PLAN_LAYER} without a plan identifier (gml:id)")
    p = plan.iloc[0]
    plan_id = str(p["gml_id"])
    meta = {"plan_id": plan_id, "plan_name": p.get("naam"), "plan_status": (str(p.get("planstatus") or "").lower() or None),
            "plan_date": _date(p.get("datum"))}
    parts = []
    for layer, objecttype in IMRO_LAYERS.items():
        if layer not in layers:
            continue
        df = _rd(_open(path, label, layer), label)
        if df.empty:
            continue
        ids = _text(df, "gml_id").fillna(pd.Series([f"{layer}#{i}" for i in range(len(df))], index=df.index))
        out = pd.DataFrame({
            "identificatie": plan_id + ":" + ids, "regime": "imro", **{k: [v] * len(df) for k, v in meta.items()},
            "objecttype": objecttype,
            "hoofdgroep": _text(df, "bestemmingshoofdgroep").str.lower() if objecttype != "plangebied" else None,
            "naam": _text(df, "naam"), "waarde": _text(df, "waarde"), "waarde_type": _text(df, "waardeType"),
            "source_file": label.name}, index=df.index)
        parts.append(gpd.GeoDataFrame(out, geometry=_surfaces(df.geometry), crs=28992))
    gdf = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=28992)
    log.info("zoning: %s (%s, %s): %s", plan_id, meta["plan_status"], meta["plan_date"],
             ", ".join(f"{k} {v}" for k, v in gdf["objecttype"].value_counts().sort_index().items()))
    return gdf[COLUMNS]


def _group(value: str | None) -> str | None:
    """'wonen' or 'http://standaarden.omgevingswet.overheid.nl/functie/id/concept/Wonen' -> 'wonen'."""
    if value is None:
        return None
    return value.rstrip("/").rsplit("/", 1)[-1].strip().lower() or None


def read_dso(path: str, label: Path) -> gpd.GeoDataFrame:
    """Omgevingsplan functie annotations (GeoJSON) as rows of core.zoning."""
    df = _rd(_open(path, label), label)
    missing = [c for c in DSO_REQUIRED if c not in df.columns]
    plan_col = next((c for c in ("regeling", "plan_id") if c in df.columns), None)
    if plan_col is None:
        missing.append("regeling (or plan_id)")
    if missing:
        raise SourceError(label, f"missing propert{'y' if len(missing) == 1 else 'ies'} {', '.join(missing)}; "
                                 f"found {', '.join(c for c in df.columns if c != 'geometry') or 'none'}")
    plan = _text(df, plan_col).fillna("unknown-plan")
    out = pd.DataFrame({
        "identificatie": plan + ":" + _text(df, "identificatie").fillna(pd.Series(
            [f"functie#{i}" for i in range(len(df))], index=df.index)),
        "regime": "dso", "plan_id": plan, "plan_name": _text(df, "regeling_naam"),
        "plan_status": _text(df, "status").str.lower(), "plan_date": [_date(v) for v in _text(df, "datum")],
        "objecttype": "functie", "hoofdgroep": _text(df, "groep").map(_group), "naam": _text(df, "naam"),
        "waarde": None, "waarde_type": None, "source_file": label.name}, index=df.index)
    return gpd.GeoDataFrame(out, geometry=_surfaces(df.geometry), crs=28992)[COLUMNS]


def _members(path: Path) -> Iterator[tuple[str, Path]]:
    """(GDAL path, label) of every plan file in a file, directory or ZIP."""
    if path.is_dir():
        files = sorted(q for q in path.rglob("*") if q.is_file() and q.suffix.lower() in SUFFIXES)
        if not files:
            raise SourceError(path, f"no zoning files ({', '.join(SUFFIXES)}) in the directory")
        for q in files:
            yield str(q), q
    elif path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                names = sorted(n for n in zf.namelist() if n.lower().endswith(SUFFIXES))
        except zipfile.BadZipFile:
            raise SourceError(path, "not a valid ZIP file") from None
        if not names:
            raise SourceError(path, f"no zoning files ({', '.join(SUFFIXES)}) in the ZIP")
        for n in names:
            yield f"/vsizip/{path.resolve()}/{n}", Path(f"{path}!{n}")
    else:
        yield str(path), path


def read_zoning(path: str | Path, chunk_size: int = 100_000) -> Iterator[gpd.GeoDataFrame]:
    """Yield the zoning objects of every plan in ``path`` (a .gml, .geojson, a directory or a ZIP)."""
    path = Path(path)
    if not path.exists():
        raise SourceError(path, "file not found")
    for gdal_path, label in _members(path):
        gdf = read_dso(gdal_path, label) if label.suffix.lower() in (".geojson", ".json") else read_imro(gdal_path, label)
        for start in range(0, len(gdf), chunk_size):
            yield gdf.iloc[start:start + chunk_size]
