"""Streaming BAG readers: PDOK's BAG GeoPackage or an LVBAG XML extract → canonical chunks.

``read_bag_pand(path, area=None, chunk_size=100_000)`` and
``read_bag_verblijfsobject(path, area=None, chunk_size=100_000)`` are generators of
GeoDataFrames with exactly the columns of ``core.pand`` / ``core.verblijfsobject``
(docs/CONTRACTS.md), geometry column ``geometry``, CRS EPSG:28992, geometries 2D.
They never touch the database and never download anything.

Delivery forms (detected from the path's content, not its name)
----------------------------------------------------------------
GeoPackage (PDOK ``bag-light.gpkg``), layers ``pand`` and ``verblijfsobject``. Column mapping
(file column names are matched case-insensitively, ignoring ``_``; ``documentDatum`` works too):

    core.pand                  ← layer ``pand``
    identificatie              ← identificatie (text; a ``NL.IMBAG.Pand.``-style prefix is
                                 stripped, integers are zero-padded back to 16 digits)
    status                     ← status
    bouwjaar                   ← bouwjaar (9999 = unknown → NA)
    documentdatum              ← documentdatum when present, else NaT
    begingeldigheid            ← begingeldigheid when present, else NaT
    geometry                   ← geom
    (not used)                   gebruiksdoel, oppervlakte_min, oppervlakte_max,
                                 aantal_verblijfsobjecten, rdf_seealso

    core.verblijfsobject       ← layer ``verblijfsobject``
    identificatie              ← identificatie
    pand_ids                   ← pand_identificatie as a list; a unit delivered as several rows
                                 (one per building) becomes one row with all building ids; a
                                 comma-separated value is split too
    gebruiksdoelen             ← gebruiksdoel split on ``,`` ("kantoorfunctie,winkelfunctie" →
                                 ["kantoorfunctie", "winkelfunctie"]; empty → [])
    oppervlakte                ← oppervlakte
    status                     ← status
    openbare_ruimte            ← openbare_ruimte_naam
    huisnummer, huisletter     ← huisnummer, huisletter
    toevoeging                 ← toevoeging
    postcode                   ← postcode ("1234 ab" → "1234AB")
    woonplaats                 ← woonplaats_naam
    documentdatum, begingeldigheid ← as for pand (optional)
    geometry                   ← geom (a non-point geometry becomes its point on surface)
    (not used)                   bouwjaar, pandstatus, rdf_seealso

Required: pand ``identificatie, status, bouwjaar``; verblijfsobject ``identificatie, status,
gebruiksdoel, oppervlakte, pand_identificatie``; the address columns are optional (None).

LVBAG XML extract (read by GDAL's LVBAG driver, identifiers requested with ``LEGACY_ID=YES``
and any ``NL.IMBAG.<Type>.`` prefix stripped): a single ``0221PND15092020-000001.xml`` file
(when the file holds another object type, its siblings of the wanted type in the same folder
are used), a folder of such files (or of per-type zips), a per-type zip, or the national zip of
zips (``BAGNLDL-15092020.zip`` ⊃ ``9999PND15092020.zip`` ⊃ XMLs, read through a
``/vsizip//vsizip/`` chain; an inner zip GDAL cannot open that way is extracted to a temporary
folder that is removed afterwards). ``InOnderzoek``, ``Inactief`` and ``NietBag`` parts are not
read. Mapping: ``oorspronkelijkBouwjaar`` → bouwjaar (9999 → NA), ``documentDatum``,
``beginGeldigheid``, ``pandRef`` → pand_ids, ``gebruiksdoel`` → gebruiksdoelen. Address fields
are joined from the NUM (``hoofdadresNummeraanduidingRef`` → huisnummer, huisletter,
``huisnummerToevoeging`` → toevoeging, postcode), OPR (street name) and WPL (place name; the
NUM's own ``woonplaatsRef`` wins over the street's) files of the same extract when present,
else they are None. Extracts carry every historic version (voorkomen) of an object: only the
current one is kept (``eindGeldigheid`` empty; for an object without such a version the
latest ``voorkomenIdentificatie`` / ``beginGeldigheid``), tracked across chunks with a sorted
int64 array of the identifiers already emitted (so versions need not be adjacent).

Area filtering while reading: GeoPackage → ``bbox=``/``mask=`` (in the layer's CRS; the
R-tree does the work) plus a ``where`` on the identifier prefix for a municipality; LVBAG →
the municipality as a ``where`` on the identifier (all versions share it; the NUM address
records are limited the same way), the spatial filter on each chunk *after* picking the current
version (filtering first would drop the current version of an object that moved out of the area
and then emit an old version that lies inside it as if it were current). Every chunk is finally filtered
exactly: geometry intersects ``area.mask()`` and the identifier starts with the municipality
code (the contract's approximation: BAG ids keep the code of the municipality that created
them, also after municipal mergers).

Errors (missing, empty, truncated or corrupt file, wrong kind of file, missing layer or
columns, no CRS) raise ``SourceError(path, problem)``. GDAL's Arrow stream ends *silently* at a
read error, so truncation is checked up front, in O(1): a GeoPackage's size against the page
count in its SQLite header, an XML file's tail against its root element's closing tag, a zip's
central directory against the file start.

Dates are ``datetime64[ms]`` at midnight (NaT when unknown); integers are nullable ``Int64``;
text is pandas' string dtype (missing = NaN); ``pand_ids`` / ``gebruiksdoelen`` are Python lists.

The GeoPackage units are read with Arrow end to end (``gpkg_vbo_arrow``: pyarrow.compute for the
cleaning, numpy for the bookkeeping, shapely only for geometries that are not plain RD points).
``read_bag_verblijfsobject_arrow`` hands those tables straight to the loader (binary COPY);
``read_bag_verblijfsobject`` converts the same tables to the GeoDataFrames above.

Modules: this one is the contract and the dispatch on the delivery form; ``bag_gpkg`` reads the
GeoPackage, ``bag_lvbag`` the LVBAG extract, ``bag_common`` holds what both share; the GDAL
toolkit (``_gdal``) and the column coercion (``_columns``) are shared with the BRK and BGT readers.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pyarrow as pa

from plekzoeker.area import Area
from plekzoeker.paths import gdal_safe
from plekzoeker.sources._gdal import open_source
from plekzoeker.sources.bag_common import PAND_COLUMNS, VBO_COLUMNS
from plekzoeker.sources.bag_gpkg import gpkg_pand, gpkg_vbo_arrow, vbo_frame
from plekzoeker.sources.bag_lvbag import lvbag_pand, lvbag_vbo

__all__ = ["PAND_COLUMNS", "VBO_COLUMNS", "read_bag_pand", "read_bag_verblijfsobject", "read_bag_verblijfsobject_arrow"]


# --------------------------------------------------------------------------- public readers

@gdal_safe
def read_bag_pand(path: str | Path, area: Area | None = None,
                  chunk_size: int = 100_000) -> Iterator[gpd.GeoDataFrame]:
    """Yield BAG buildings (core.pand columns, EPSG:28992) from a BAG GeoPackage or LVBAG extract."""
    kind, chunk_size = open_source(path, "a BAG GeoPackage, LVBAG XML file, LVBAG folder or LVBAG zip", chunk_size)
    if kind == "gpkg":
        yield from gpkg_pand(path, area, chunk_size)
    else:
        yield from lvbag_pand(path, kind, area, chunk_size)


@gdal_safe
def read_bag_verblijfsobject(path: str | Path, area: Area | None = None,
                             chunk_size: int = 100_000) -> Iterator[gpd.GeoDataFrame]:
    """Yield BAG units (core.verblijfsobject columns, EPSG:28992) from a BAG GeoPackage or LVBAG extract."""
    kind, chunk_size = open_source(path, "a BAG GeoPackage, LVBAG XML file, LVBAG folder or LVBAG zip", chunk_size)
    if kind == "gpkg":
        for table in gpkg_vbo_arrow(path, area, chunk_size):
            yield vbo_frame(table)
    else:
        yield from lvbag_vbo(path, kind, area, chunk_size)


@gdal_safe
def read_bag_verblijfsobject_arrow(path: str | Path, area: Area | None = None,
                                   chunk_size: int = 100_000) -> Iterator[pa.Table | gpd.GeoDataFrame]:
    """The loader's form of ``read_bag_verblijfsobject``: the same rows, from a GeoPackage as Arrow
    tables (``geometry`` as 2D WKB in RD New, lists as list<string>, dates date32; see
    ``gpkg_vbo_arrow``) that go to COPY without pandas; an LVBAG extract still yields GeoDataFrames."""
    kind, chunk_size = open_source(path, "a BAG GeoPackage, LVBAG XML file, LVBAG folder or LVBAG zip", chunk_size)
    if kind == "gpkg":
        yield from gpkg_vbo_arrow(path, area, chunk_size)
    else:
        yield from lvbag_vbo(path, kind, area, chunk_size)




# The loader takes these Arrow tables as they are (no pandas, no Python lists, no shapely for plain
# points): ``read_bag_verblijfsobject`` converts the same tables to the GeoDataFrames of the contract.






