"""Ranked GeoJSON for planners (RFC 7946), written atomically.

- EPSG:4326 lon/lat, 7 decimals, polygons with right-hand-rule (counter-clockwise) exterior rings,
  a plain ``FeatureCollection`` with no ``crs`` member;
- one file per kind (``vacant_buildings.geojson``, ``undeveloped_plots.geojson``) plus a compact
  point version of each (``*_points.geojson``), optionally one per municipality;
- flat properties (QGIS shows nested objects badly): see ``PROPERTY_DOCS`` and the README.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from .facts_columns import DOCS as FACT_DOCS
from .ranking_columns import LAYER_PROPERTY_DOCS

KIND_FILES = {"vacant_building": "vacant_buildings", "undeveloped_plot": "undeveloped_plots"}
BAG_VIEWER = "https://bagviewer.kadaster.nl/lvbag/bag-viewer/?objectId={}"

PROPERTY_DOCS = {
    "rank": "rank within this run over all candidates of both kinds (1 = best)",
    "rank_municipality": "rank within the municipality",
    "score": "composite score in [0, 1]: weighted mean of the score_* sub-scores",
    "kind": "vacant_building or undeveloped_plot",
    "candidate_key": "stable key across runs: pand:<BAG pand id> or perceel:<kadastrale aanduiding>",
    "label": "address of the main vacant unit, or the kadastrale aanduiding of the parcel",
    "municipality": "municipality code GMxxxx",
    "area_m2": "vacant floor area (buildings) or usable plot area after exclusions (plots), m²",
    "confidence": "vacancy confidence in [0, 1] (buildings only): a candidate to verify, never a verdict",
    "evidence": "vacancy evidence (buildings) or what was removed from the plot, in words",
    "why": "the criteria that add most to the score, in words (as in the coordinator lists)",
    "dist_<category>_m": "walking distance over the street network to the nearest POI of the category (m); empty = none within the cap",
    "transit_<category>_min": "median door-to-door time by public transport (walk, ride, change, walk) to the nearest POI "
                              "of the category over the departure window (min); empty = no connection (only with GTFS)",
    "transit_<category>_best_min": "the best of those times over the window (min)",
    "transit_<category>_within": "POIs of the category with a median transit time within transit.count_within_min",
    "score_<criterion>": "sub-score in [0, 1] of one criterion",
    "first_seen": "date this place was first found",
    "outreach_status": "status a coordinator recorded (new, contacted, in talks, declined, suitable, unsuitable)",
    "bag_viewer": "link to the building in the Kadaster BAG viewer",
    **FACT_DOCS,
    **LAYER_PROPERTY_DOCS,
}


def _round_coords(geoms: np.ndarray, nd: int = 7) -> np.ndarray:
    return shapely.transform(geoms, lambda c: np.round(c, nd))


def to_rfc7946(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject to EPSG:4326, orient polygons counter-clockwise and round to 7 decimals."""
    out = gdf.to_crs(4326)
    geoms = shapely.orient_polygons(out.geometry.to_numpy(), exterior_cw=False)
    geoms = _round_coords(geoms)
    return out.set_geometry(list(geoms), crs=4326)


def _clean(v):
    if v is None:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(float(v)) else float(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def feature_collection(gdf: gpd.GeoDataFrame, properties: list[str]) -> dict:
    """A FeatureCollection dict with the given flat properties (no crs member)."""
    feats = []
    geoms = gdf.geometry.to_numpy()
    records = gdf[properties].to_dict("records")
    for g, props in zip(geoms, records):
        feats.append({"type": "Feature", "geometry": json.loads(shapely.to_geojson(g)) if g is not None else None,
                      "properties": {k: _clean(v) for k, v in props.items()}})
    return {"type": "FeatureCollection", "features": feats}


PUBLIC_MODE = 0o644  # published files are for readers; mkstemp would leave them 0600


def write_json_atomic(path: Path, obj: dict) -> None:
    """Write JSON to a temp file beside ``path`` and rename it into place (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, PUBLIC_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, ensure_ascii=False, separators=(",", ":"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_geojson_files(ranked: gpd.GeoDataFrame, outdir: Path, municipality_files: bool = False) -> dict[str, int]:
    """Write per-kind polygon and point files (and per municipality on request); returns counts per file."""
    props = [c for c in ranked.columns if c != ranked.geometry.name]
    counts: dict[str, int] = {}
    wgs = to_rfc7946(ranked) if len(ranked) else ranked
    for kind, stem in KIND_FILES.items():
        part = wgs[wgs["kind"] == kind] if len(wgs) else wgs
        groups = [(stem, part)]
        if municipality_files and len(part):
            groups += [(f"{stem}_{gm}", g) for gm, g in part.groupby("municipality")]
        for name, g in groups:
            write_json_atomic(outdir / f"{name}.geojson", feature_collection(g, props))
            pts = g.set_geometry(list(_round_coords(shapely.point_on_surface(g.geometry.to_numpy())))) if len(g) else g
            write_json_atomic(outdir / f"{name}_points.geojson", feature_collection(pts, props))
            counts[f"{name}.geojson"] = len(g)
    return counts
