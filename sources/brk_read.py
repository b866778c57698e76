"""Streaming BRK kadastrale kaart reader: parcels (GML v5 or GeoPackage) → canonical ``core.perceel`` chunks.

``read_perceel(path, area=None, chunk_size=100_000)`` yields GeoDataFrames with exactly the
columns identificatie, kadastrale_gemeente_code, kadastrale_gemeente, sectie, perceelnummer,
kadastrale_aanduiding, kadastrale_grootte, geometry ((Multi)Polygon, EPSG:28992, 2D).

Accepted input
--------------
* Kadastrale kaart v5 GML (``kadastralekaart_perceel.gml``), plain, in a folder, or inside a zip
  (the member whose name contains ``perceel`` and ends in ``.gml``). GDAL's GML driver is driven
  by a GFS template written to a private temporary folder, so it (a) reads the parcel polygon
  ``begrenzingPerceel`` — without a template GDAL picks the label point ``plaatscoordinaten``
  as the geometry (and a stray ``.gfs`` beside the file is ignored), (b) linearises arcs, (c)
  streams without a schema pre-scan, never writes a ``.gfs`` next to the data
  (``WRITE_GFS=NO``) and never downloads a schema (``DOWNLOAD_SCHEMA=NO``).
  Mapping: ``identificatie`` (``NL.IMKAD.KadastraalObject.`` prefix stripped) → identificatie;
  ``aKRKadastraleGemeenteCode/waarde`` ("OTL02") → kadastrale_gemeente_code;
  ``kadastraleGemeente/waarde`` ("Otterlo") → kadastrale_gemeente; ``sectie``;
  ``perceelnummer``; ``kadastraleGrootte/waarde`` (m²) → kadastrale_grootte.
* A GeoPackage with a ``perceel`` layer. Column names are matched case-insensitively ignoring
  ``_`` and ``.``, so PDOK's camelCase and snake_case variants both work:

  ========================  ==================================================================
  canonical                 GeoPackage column (first one present wins)
  ========================  ==================================================================
  identificatie             identificatie, identificatieLokaalID, lokaalID
  kadastrale_gemeente_code  AKRKadastraleGemeenteCodeWaarde, AKRKadastraleGemeenteCode,
                            kadastraleGemeenteCode (taken as the AKR code when no AKR
                            column exists; PDOK's numeric code, e.g. 761, then stays as is)
  kadastrale_gemeente       kadastraleGemeenteWaarde, kadastraleGemeente, kadastraleGemeenteNaam
  sectie                    sectie
  perceelnummer             perceelnummer
  kadastrale_grootte        kadastraleGrootteWaarde, kadastraleGrootte
  ========================  ==================================================================

  Required: identificatie, a gemeente code, sectie, perceelnummer and a geometry.

kadastrale_aanduiding = "<kadastrale_gemeente_code> <sectie> <perceelnummer>", e.g.
"OTL02 B 2298" (None when a part is missing).

Area: ``bbox`` / ``polygon`` filter while reading (pyogrio ``bbox=`` / ``mask=``) and exactly
per chunk (geometry intersects ``area.mask()``). A municipality-only ``Area`` filters nothing:
parcels carry a *kadastrale* gemeente, not the municipality — pass a polygon or bbox.
Broken input raises ``SourceError(path, problem)``.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from plekzoeker.area import Area
from plekzoeker.errors import SourceError
from plekzoeker.paths import gdal_safe
from plekzoeker.sources._columns import as_int, as_text, find_columns, finish_frame
from plekzoeker.sources._gdal import (
    RD_NEW,
    arrow_batches,
    batch_table,
    check_gpkg,
    check_xml_complete,
    is_rd,
    ogr_spatial_filter,
    open_source,
    rd_crs_or_error,
    source_errors,
    wkb_geoms,
    zip_entries,
)
from plekzoeker.sources._gml import gfs_template, gml_crs, gml_frames, polygons_only, read_head

PERCEEL_COLUMNS = ["identificatie", "kadastrale_gemeente_code", "kadastrale_gemeente", "sectie", "perceelnummer",
                   "kadastrale_aanduiding", "kadastrale_grootte", "geometry"]

_AANDUIDING = "kadastraleAanduiding|TypeKadastraleAanduiding"
_GML_FIELDS = {
    "identificatie": "identificatie",
    "gemeente_code": f"{_AANDUIDING}|kadastraleGemeente|KadastraleGemeente|code",
    "gemeente": f"{_AANDUIDING}|kadastraleGemeente|KadastraleGemeente|waarde",
    "akr_code": f"{_AANDUIDING}|aKRKadastraleGemeenteCode|AKRKadastraleGemeenteCode|waarde",
    "sectie": f"{_AANDUIDING}|sectie",
    "perceelnummer": f"{_AANDUIDING}|perceelnummer",
    "grootte": "kadastraleGrootte|TypeOppervlak|waarde",
}

_GPKG_PERCEEL = {
    "identificatie": ("identificatie", "identificatielokaalid", "identificatie_lokaal_id", "lokaalid"),
    "code": ("akrkadastralegemeentecodewaarde", "akr_kadastrale_gemeente_code_waarde",
             "akrkadastralegemeentecode", "akrcode", "kadastralegemeentecode"),
    "gemeente": ("kadastralegemeentewaarde", "kadastralegemeente", "kadastralegemeentenaam"),
    "sectie": ("sectie",),
    "perceelnummer": ("perceelnummer",),
    "grootte": ("kadastralegroottewaarde", "kadastralegrootte"),
}


# --------------------------------------------------------------------------- GML helpers (shared with bgt_read)


# --------------------------------------------------------------------------- public reader

@gdal_safe
def read_perceel(path: str | Path, area: Area | None = None,
                 chunk_size: int = 100_000) -> Iterator[gpd.GeoDataFrame]:
    """Yield BRK parcels (core.perceel columns, EPSG:28992) from a kadastrale kaart GML or GeoPackage."""
    kind, chunk_size = open_source(path, "a BRK kadastrale kaart GML, GeoPackage or zip", chunk_size)
    if kind == "gpkg":
        yield from _gpkg_perceel(path, area, chunk_size)
        return
    if kind == "xml":
        check_xml_complete(path)
        yield from _gml_perceel(path, str(path), None, area, chunk_size)
        return
    if kind == "dir":
        files = sorted(p for p in Path(path).iterdir() if p.is_file() and re.search(r"perceel.*\.gml$", p.name, re.I))
        if not files:
            raise SourceError(path, "contains no parcel GML (a file named like kadastralekaart_perceel.gml)")
        for f in files:
            check_xml_complete(f)
            yield from _gml_perceel(f, str(f), None, area, chunk_size)
        return
    entries = zip_entries(path)
    members = sorted(e for e in entries if re.search(r"perceel[^/]*\.gml$", e, re.I) and not e.startswith("__MACOSX/"))
    if not members:
        raise SourceError(path, "contains no parcel GML (a member named like kadastralekaart_perceel.gml)")
    outer = Path(path).resolve().as_posix()
    for m in members:
        yield from _gml_perceel(path, f"/vsizip/{outer}/{m}", m, area, chunk_size)


def _aanduiding(code: pd.Series, sectie: pd.Series, nummer: pd.Series) -> pd.Series:
    text = code.str.cat([sectie, nummer.astype("str")], sep=" ")
    return text.mask(code.isna() | sectie.isna() | nummer.isna())


def _gml_perceel(src: str | Path, gdal_path: str, member: str | None, area: Area | None,
                 chunk_size: int) -> Iterator[gpd.GeoDataFrame]:
    head = read_head(src, member)
    if not re.search(rb"<(?:[\w-]+:)?Perceel[\s>]", head):
        if re.search(rb"kadastralekaart|<(?:[\w-]+:)?DKK[\s>]", head, re.I) and not re.search(rb"Member>", head):
            return  # a kadastrale kaart document without parcels
        raise SourceError(src, "is not a BRK kadastrale kaart parcel GML (no <Perceel> features found)")
    srs, crs = gml_crs(src, head)
    template = gfs_template("Perceel", "begrenzingPerceel", srs, _GML_FIELDS)
    for attrs, geoms in gml_frames(src, gdal_path, template, crs, area, chunk_size):
        n = len(attrs)
        code = as_text(attrs["akr_code"]).fillna(as_text(attrs["gemeente_code"]))
        sectie = as_text(attrs["sectie"])
        nummer = as_int(attrs["perceelnummer"])
        frame = pd.DataFrame({
            "identificatie": as_text(attrs["identificatie"]).str.replace(r"^.*\.", "", regex=True),
            "kadastrale_gemeente_code": code,
            "kadastrale_gemeente": as_text(attrs["gemeente"]),
            "sectie": sectie,
            "perceelnummer": nummer,
            "kadastrale_aanduiding": _aanduiding(code, sectie, nummer),
            "kadastrale_grootte": as_int(attrs["grootte"]),
        }, index=range(n))
        out = finish_frame(frame, polygons_only(geoms), area, PERCEEL_COLUMNS, by_id=False)
        if len(out):
            yield out


def _gpkg_perceel(path: str | Path, area: Area | None, chunk_size: int) -> Iterator[gpd.GeoDataFrame]:
    check_gpkg(path)
    with source_errors(path, "a GeoPackage"):
        layers = [str(name) for name, _ in pyogrio.list_layers(str(path))]
        layer = next((name for name in layers if name.lower() == "perceel"), None)
        if layer is None:
            raise SourceError(path, f"has no 'perceel' layer (layers: {', '.join(layers) or 'none'})")
        info = pyogrio.read_info(str(path), layer=layer)
    cols = find_columns([str(f) for f in info["fields"]], _GPKG_PERCEEL)
    missing = [_GPKG_PERCEEL[c][0] for c in ("identificatie", "code", "sectie", "perceelnummer") if cols[c] is None]
    if info.get("geometry_type") is None:
        missing.append("geometry")
    if missing:
        raise SourceError(path, f"layer '{layer}' lacks required column(s): {', '.join(missing)}")
    crs = rd_crs_or_error(path, info.get("crs"))
    spatial = ogr_spatial_filter(area, crs)
    with source_errors(path, "a GeoPackage"):
        for meta, batch in arrow_batches(str(path), layer, columns=[c for c in cols.values() if c], chunk_size=chunk_size,
                                    **spatial):
            table = batch_table(batch)
            geom_col = meta["geometry_name"] or "wkb_geometry"
            geoms = wkb_geoms(table, geom_col)
            if not is_rd(crs):
                geoms = np.asarray(gpd.GeoSeries(geoms, crs=crs).to_crs(RD_NEW).array, dtype=object)
            n = table.num_rows

            def col(name: str, table=table, n: int = n) -> pd.Series:
                return table.column(cols[name]).to_pandas() if cols[name] else pd.Series([None] * n, dtype="str")

            code = as_text(col("code"))
            sectie = as_text(col("sectie"))
            nummer = as_int(col("perceelnummer"))
            frame = pd.DataFrame({
                "identificatie": as_text(col("identificatie")).str.replace(r"^.*\.", "", regex=True),
                "kadastrale_gemeente_code": code,
                "kadastrale_gemeente": as_text(col("gemeente")),
                "sectie": sectie,
                "perceelnummer": nummer,
                "kadastrale_aanduiding": _aanduiding(code, sectie, nummer),
                "kadastrale_grootte": as_int(col("grootte")) if cols["grootte"] else pd.Series(pd.NA, index=range(n),
                                                                                              dtype="Int64"),
            }, index=range(n))
            out = finish_frame(frame, polygons_only(geoms), area, PERCEEL_COLUMNS, by_id=False)
            if len(out):
                yield out
