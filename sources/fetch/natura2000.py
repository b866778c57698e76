"""Natura 2000 sites of an area from PDOK's OGC API Features, as a GeoJSON the Natura 2000 reader loads.

Protocol: OGC API Features (as sources/fetch/ogcapi.py speaks it: RD New ``crs`` and ``bbox-crs``,
cursor paging by the ``next`` link, one FetchError line on any failure) at
``https://api.pdok.nl/rvo/natura2000/ogc/v1`` (``fetch.endpoints.natura2000``), collection
``natura2000`` (``fetch.natura2000_collection``): RVO / LNV, public domain — 209 features for 162 sites, a site
once per designation (Vogelrichtlijn, Habitatrichtlijn). The features meeting the area's bounding box
are written in RD New through a part file, renamed when whole; sources/natura2000.py reads it
(``naam_n2k`` / ``nummer`` or the other names it knows).
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from shapely.geometry import mapping, shape

from plekzoeker.errors import FetchError

from .http import Http
from .ogcapi import RD_URI, iter_features

log = logging.getLogger(__name__)
LICENCE = ("Public Domain Mark 1.0 (CC0)", "RVO / Ministerie van LNV, Natura 2000 (PDOK)")


def fetch_natura2000(http: Http, api: str, collection: str, bbox: tuple[float, float, float, float], dest: Path,
                     limit: int = 1000, max_pages: int = 10_000) -> dict:
    """Fetch the Natura 2000 features meeting ``bbox`` (RD New) into ``dest`` (GeoJSON, RD New)."""
    what = "Natura 2000"
    params = {"bbox": ",".join(f"{v:.3f}" for v in bbox), "bbox-crs": RD_URI}
    feats = []
    for f in iter_features(http, api, collection, what=what, params=params, limit=limit, max_pages=max_pages):
        try:
            geom = shape(f["geometry"]) if f.get("geometry") else None
        except (KeyError, TypeError, ValueError, AttributeError):
            raise FetchError(f"{what}: a feature with an unreadable geometry") from None
        feats.append({"type": "Feature", "properties": f["properties"], "geometry": mapping(geom) if geom else None})
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    part.write_text(json.dumps({"type": "FeatureCollection", "name": "natura2000",
                                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
                                "features": feats}), encoding="utf-8")
    os.replace(part, dest)
    log.info("natura2000: %d feature(s) written to %s", len(feats), dest)
    return {"features": len(feats)}
