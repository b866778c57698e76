"""Streaming BGT reader: surfaces of a BGT GML delivery → canonical ``core.bgt_vlak`` chunks.

``read_bgt(path, layers=BGT_LAYERS, area=None, chunk_size=100_000)`` yields GeoDataFrames with
exactly the columns identificatie, laag, klasse, geometry ((Multi)Polygon, EPSG:28992, 2D).

Input: a BGT zip as PDOK delivers it (members ``bgt_<laag>.gml``, in any folder of the zip), a
folder of such files, or one ``bgt_<laag>.gml``. Both PDOK encodings work: CityGML/IMGeo 2.1
(``<cityObjectMember><imgeo:Waterdeel>`` …, the test fixture) and "GML light"
(``<gml:featureMember><imgeo-s:Wegdeel>`` …, flat ``identificatie.lokaalID``,
``bgt-fysiekVoorkomen``, ``geometrie2d``). Each layer file is read by GDAL's GML driver with a
GFS template built from the file's first feature (feature element and its ``geometrie2d…``
property), which selects the surface geometry (the ``pand`` layer's label points in
``nummeraanduidingreeks`` and the ``kruinlijn…`` lines of road/terrain layers are ignored),
linearises the arcs (``gml:Arc``) used in BGT polygons, streams without a pre-scan and never
writes or downloads anything.

Mapping per record:

* identificatie = ``identificatie/NEN3610ID/lokaalID`` (CityGML) or ``identificatie.lokaalID``
  (GML light), e.g. ``P0025.25caa2577dd048f79a73a0ed11d268fa``; ``gml:id`` as a last resort.
* laag = the file's layer name (``bgt_wegdeel.gml`` → ``wegdeel``).
* klasse = the first present of: ``bgt-fysiekVoorkomen`` (onbegroeidterreindeel, GML light);
  ``surfaceMaterial`` (CityGML wegdeel / ondersteunendwegdeel: their fysiekVoorkomen, e.g.
  "gesloten verharding"); ``class`` (CityGML begroeidterreindeel: fysiekVoorkomen, e.g.
  "grasland overig"; waterdeel / ondersteunendwaterdeel: bgt-type, e.g. "waterloop");
  ``bgt-type``. The function (``function`` / ``bgt-functie``, e.g. "rijbaan lokale weg") and the
  IMGeo-plus refinements are not used. ``pand`` has no class: None.

Kept: current, existing surfaces only — records with ``eindRegistratie`` (a superseded version),
``terminationDate`` / ``objectEindTijd`` (object ended) or a ``bgt-status`` other than
``bestaand`` (e.g. planned buildings) are skipped, as are records whose geometry is not a
(Multi)Polygon.

CRS: the ``srsName`` of the first geometry. A layer file without any ``srsName`` (the fixture's
``bgt_pand.gml`` has none) is read as RD New — the CRS the BGT is defined in — provided its
first coordinates lie in the RD New extent of the Netherlands; otherwise ``SourceError``.

Area: ``bbox`` / ``polygon`` filter while reading (pyogrio ``bbox=`` / ``mask=``) and exactly
per chunk (geometry intersects ``area.mask()``). A municipality-only ``Area`` filters nothing:
BGT records carry a ``bronhouder`` (the maintaining body, which may be a water board or the
province), not the municipality — pass a polygon or bbox. Broken input raises
``SourceError(path, problem)``; a requested layer missing from the delivery is skipped.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from plekzoeker.area import Area
from plekzoeker.errors import SourceError
from plekzoeker.paths import gdal_safe
from plekzoeker.sources._columns import as_text, finish_frame
from plekzoeker.sources._gdal import (
    check_xml_complete,
    open_source,
    rd_crs_or_error,
    zip_entries,
)
from plekzoeker.sources._gml import gfs_template, gml_crs, gml_frames, polygons_only, read_head, srs_name

log = logging.getLogger(__name__)

BGT_LAYERS = ("waterdeel", "wegdeel", "begroeidterreindeel", "onbegroeidterreindeel", "pand",
              "ondersteunendwegdeel", "ondersteunendwaterdeel")
BGT_COLUMNS = ["identificatie", "laag", "klasse", "geometry"]

# template field name -> GML element path (absent elements simply stay empty)
_FIELDS = {
    "lokaalid_citygml": "identificatie|NEN3610ID|lokaalID",
    "lokaalid_light": "identificatie.lokaalID",
    "eind_registratie": "eindRegistratie",
    "termination_date": "terminationDate",
    "object_eind_tijd": "objectEindTijd",
    "bgt_status": "bgt-status",
    "bgt_fysiek_voorkomen": "bgt-fysiekVoorkomen",
    "surface_material": "surfaceMaterial",
    "class": "class",
    "bgt_type": "bgt-type",
}
_KLASSE_ORDER = ("bgt_fysiek_voorkomen", "surface_material", "class", "bgt_type")

_MEMBER_RE = re.compile(
    rb"<(?:[\w.-]+:)?(?:cityObjectMember|featureMember|member)\b[^>]*>\s*(?:<!--.*?-->\s*)*<(?:[\w.-]+:)?([\w.-]+)[\s>/]",
    re.S)
_GEOM_RE = re.compile(rb"<(?:[\w.-]+:)?(geometrie2d[\w.-]*)[\s>]")


@gdal_safe
def read_bgt(path: str | Path, layers: Sequence[str] = BGT_LAYERS, area: Area | None = None,
             chunk_size: int = 100_000) -> Iterator[gpd.GeoDataFrame]:
    """Yield current BGT surfaces (core.bgt_vlak columns, EPSG:28992) of the requested layers."""
    wanted = [str(lyr).lower() for lyr in layers]
    kind, chunk_size = open_source(path, "a BGT GML zip, folder or bgt_<layer>.gml file", chunk_size)
    sources: list[tuple[str, str, str | None]] = []  # (laag, gdal path, zip member)
    if kind == "zip":
        entries = zip_entries(path)
        outer = Path(path).resolve().as_posix()
        by_layer = {_layer_of(e): e for e in sorted(entries) if _layer_of(e) and not e.startswith("__MACOSX/")}
        sources = [(lyr, f"/vsizip/{outer}/{by_layer[lyr]}", by_layer[lyr]) for lyr in wanted if lyr in by_layer]
    elif kind == "dir":
        by_layer = {_layer_of(p.name): p for p in sorted(Path(path).iterdir()) if p.is_file() and _layer_of(p.name)}
        sources = [(lyr, str(by_layer[lyr]), None) for lyr in wanted if lyr in by_layer]
    elif kind == "xml":
        lyr = _layer_of(Path(path).name)
        if lyr is None:
            raise SourceError(path, "is not a BGT layer file (expected a name like bgt_wegdeel.gml)")
        sources = [(lyr, str(path), None)] if lyr in wanted else []
    else:
        raise SourceError(path, "is not a BGT GML zip, folder or bgt_<layer>.gml file")
    if not sources:
        raise SourceError(path, f"contains none of the BGT layers {', '.join(wanted)} (files bgt_<layer>.gml)")
    found = {s[0] for s in sources}
    for lyr in wanted:
        if lyr not in found and kind != "xml":
            log.warning("%s: no bgt_%s.gml, layer skipped", path, lyr)
    for laag, gdal_path, member in sources:
        src = Path(path) if member is not None else Path(gdal_path)
        if member is None:
            if src.stat().st_size == 0:
                raise SourceError(src, "file is empty (0 bytes)")
            check_xml_complete(src)
        yield from _read_layer(src, gdal_path, member, laag, area, chunk_size)


RD_SRS = "urn:ogc:def:crs:EPSG::28992"
_COORDS_RE = re.compile(rb"<(?:[\w.-]+:)?(?:posList|pos)\b[^>]*>\s*([-\d.eE\s]+)<")


def _looks_rd(head: bytes) -> bool:
    """The first coordinates in ``head`` lie in the RD New extent of the Netherlands."""
    m = _COORDS_RE.search(head)
    if m is None:
        return False
    try:
        nums = [float(v) for v in m.group(1).split()[:2]]
    except ValueError:
        return False
    return len(nums) == 2 and -7_000 <= nums[0] <= 300_000 and 289_000 <= nums[1] <= 629_000


def _layer_of(name: str) -> str | None:
    m = re.search(r"(?:^|/)bgt_([a-z]+)\.gml$", name, re.IGNORECASE)
    return m.group(1).lower() if m else None


def _read_layer(src: Path, gdal_path: str, member: str | None, laag: str, area: Area | None,
                chunk_size: int) -> Iterator[gpd.GeoDataFrame]:
    where = f"{src}:{member}" if member else src
    head = read_head(src, member)
    m = _MEMBER_RE.search(head)
    if m is None:
        if re.search(rb"<(?:[\w.-]+:)?(?:CityModel|FeatureCollection)\b", head):
            return  # a layer file without features
        raise SourceError(where, "is not a BGT GML layer file (no feature members found)")
    feature = m.group(1).decode()
    g = _GEOM_RE.search(head, m.end())
    if g is None:
        raise SourceError(where, f"has no geometrie2d… surface property in its first {feature} feature")
    if srs_name(head) is None:
        # BGT is defined in RD New; PDOK files can omit srsName altogether (the fixture's
        # bgt_pand.gml does). Accept that only when the coordinates are plausible RD New.
        if not _looks_rd(head):
            raise SourceError(where, "declares no coordinate reference system (no srsName) and its "
                                     "coordinates are not in the RD New range")
        srs, crs = RD_SRS, rd_crs_or_error(where, RD_SRS)
    else:
        srs, crs = gml_crs(where, head)
    template = gfs_template(feature, g.group(1).decode(), srs, _FIELDS)
    for attrs, geoms in gml_frames(where, gdal_path, template, crs, area, chunk_size):
        n = len(attrs)
        text = {name: as_text(attrs[name]) for name in _FIELDS}
        status = text["bgt_status"]
        current = (text["eind_registratie"].isna() & text["termination_date"].isna()
                   & text["object_eind_tijd"].isna() & (status.isna() | (status == "bestaand")))
        ident = text["lokaalid_citygml"].fillna(text["lokaalid_light"])
        if "gml_id" in attrs:
            ident = ident.fillna(as_text(attrs["gml_id"]))
        klasse = pd.Series([None] * n, dtype="str")
        for name in _KLASSE_ORDER:
            klasse = klasse.fillna(text[name])
        frame = pd.DataFrame({"identificatie": ident, "laag": laag, "klasse": klasse}, index=range(n))
        keep = current.to_numpy(dtype=bool)
        frame = frame[keep].reset_index(drop=True)
        out = finish_frame(frame, polygons_only(np.asarray(geoms, dtype=object)[keep]), area, BGT_COLUMNS, by_id=False)
        if len(out):
            yield out
