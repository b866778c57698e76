"""OGC API Features at PDOK: the municipality boundary and the BAG of an area.

Protocol (OGC API - Features Part 1 and 2, https://docs.ogc.org/is/17-069r4/17-069r4.html, as
PDOK serves it — each API documents itself at ``{api}/ui/``):

* ``GET {api}/collections/{collection}/items?f=json&limit=N&crs=<uri>[&bbox=minx,miny,maxx,maxy&bbox-crs=<uri>]``
  answers a GeoJSON ``FeatureCollection`` (``type``, ``features``, ``numberReturned``, ``links``);
  the next page is the ``href`` of the link with ``"rel": "next"`` (PDOK pages by cursor, so the
  link is followed as given, never rebuilt from an offset); the last page has no such link.
  CRS URIs: ``http://www.opengis.net/def/crs/EPSG/0/28992`` (RD New; PDOK lists it in every
  collection's ``crs`` and it is the ``storageCrs``), and coordinates then come in RD New x, y.
* Boundary: ``api.pdok.nl/kadaster/brk-bestuurlijke-gebieden/ogc/v1`` (as pdok.nl lists it),
  collection ``gemeentegebied`` (Kadaster, CC BY 4.0), properties ``identificatie`` / ``code`` (the CBS code, seen both as
  ``GM0228`` and as ``0228`` — both are accepted, normalised to the 4 digits), ``naam``,
  ``ligt_in_provincie_code`` / ``ligt_in_provincie_naam``; geometry a (Multi)Polygon. The 342
  municipalities are fetched (a few pages) and matched here by code or by name (case and accents
  as given), so no server-side filter parameter is assumed.
* BAG: ``api.pdok.nl/kadaster/bag/ogc/v2`` (Kadaster, Public Domain Mark 1.0 per the API's own
  ``license`` link). Collection ``pand`` (schema at ``/collections/pand/schema``): ``identificatie``,
  ``bouwjaar``, ``status``, ``gebruiksdoel``, ``documentdatum``, ``aantal_verblijfsobjecten``,
  ``verblijfsobject`` (relation), polygon. Collection ``verblijfsobject``: ``identificatie``,
  ``oppervlakte``, ``status``, ``gebruiksdoel`` (comma-separated), ``huisnummer``,
  ``huisletter``, ``toevoeging``, ``postcode``, ``openbare_ruimte_naam``, ``woonplaats_naam``,
  ``pand_identificatie`` (as in PDOK's v1 BAG OGC API schema; a v2 ``pand`` relation — a list of
  ids, or of objects with ``identificatie``/``href`` — is read too), point.

The BAG features are written as a GeoPackage with ``bag-light``'s layer and column names (layers
``pand`` and ``verblijfsobject``), the format ``sources/bag_read.py`` already reads, through a
part file that is re-opened with pyogrio before the rename. Every page is checked: a body that is
not a FeatureCollection, a feature without ``identificatie`` and a ``next`` loop end in one
:class:`FetchError` line, nothing written.
"""
from __future__ import annotations

import logging
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from plekzoeker.errors import FetchError

from .http import Http, host_of

log = logging.getLogger(__name__)

RD_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"
BOUNDARY_LICENCE = ("CC BY 4.0", "Kadaster, Bestuurlijke gebieden (PDOK)")
BAG_LICENCE = ("Public Domain Mark 1.0 (CC0)", "Kadaster, Basisregistratie Adressen en Gebouwen (BAG, PDOK)")


def iter_features(http: Http, api: str, collection: str, *, what: str, params: dict | None = None,
                  limit: int = 1000, max_pages: int = 10_000,
                  on_page: Callable[[int], None] | None = None) -> Iterator[dict]:
    """Every feature of ``collection``, page after page by the ``next`` link."""
    url: str | None = f"{api.rstrip('/')}/collections/{collection}/items"
    query = {"f": "json", "limit": int(limit), "crs": RD_URI, **(params or {})}
    seen: set[str] = set()
    pages = 0
    while url:
        if url in seen:
            raise FetchError(f"{what}: {host_of(url)} sent a 'next' link back to a page already read")
        seen.add(url)
        body = http.get_json(url, what=what, params=query if pages == 0 else None)
        pages += 1
        if not isinstance(body, dict) or body.get("type") != "FeatureCollection" or not isinstance(body.get("features"), list):
            got = type(body).__name__ if not isinstance(body, dict) else f"keys {sorted(body)[:6]}"
            raise FetchError(f"{what}: {host_of(url)} answered something other than a GeoJSON FeatureCollection ({got})")
        for f in body["features"]:
            if not isinstance(f, dict) or not isinstance(f.get("properties"), dict):
                raise FetchError(f"{what}: {host_of(url)} sent a feature without properties")
            yield f
        if on_page:
            on_page(len(body["features"]))
        links = body.get("links") or []
        if not isinstance(links, list):
            raise FetchError(f"{what}: {host_of(url)} sent 'links' that is not a list ({type(links).__name__})")
        nxt = [lk.get("href") for lk in links if isinstance(lk, dict) and lk.get("rel") == "next"]
        if nxt and nxt[0] and not isinstance(nxt[0], str):
            raise FetchError(f"{what}: {host_of(url)} sent a 'next' link whose href is not a URL")
        url = nxt[0] if nxt and nxt[0] else None
        if pages >= max_pages and url:
            raise FetchError(f"{what}: more than {max_pages} pages (fetch.max_pages); narrow the area")


def _digits(value) -> str | None:
    m = re.search(r"(\d{4})$", str(value or "").strip())
    return m.group(1) if m else None


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().casefold().strip()


def find_municipality(http: Http, api: str, *, code: str | None = None, name: str | None = None,
                      limit: int = 1000) -> dict:
    """``{"code": "0228", "name": "Ede", "geometry": <RD New polygon>}`` for a code or a name."""
    want_code, want_name = (_digits(code) if code else None), (_fold(name) if name else None)
    names: list[str] = []
    hits = []
    for f in iter_features(http, api, "gemeentegebied", what="municipality boundary", limit=limit):
        p = f["properties"]
        fcode = _digits(p.get("code")) or _digits(p.get("identificatie")) or _digits(p.get("statcode"))
        fname = str(p.get("naam") or p.get("statnaam") or "")
        names.append(fname)
        if (want_code and fcode == want_code) or (want_name and _fold(fname) == want_name):
            hits.append((fcode, fname, f.get("geometry")))
    label = f"GM{want_code}" if want_code else repr(name)
    if not hits:
        near = [n for n in names if want_name and want_name[:3] in _fold(n)][:5]
        raise FetchError(f"municipality boundary: {host_of(api)} has no municipality {label}"
                         + (f" (did you mean {', '.join(near)}?)" if near else ""))
    if len(hits) > 1 and len({h[0] for h in hits}) > 1:
        raise FetchError(f"municipality boundary: the name {name!r} matches {len(hits)} municipalities "
                         f"({', '.join('GM' + str(h[0]) for h in hits)}); use the code")
    fcode, fname, geom = hits[0]
    try:
        g = shapely.make_valid(shape(geom))
    except Exception:  # noqa: BLE001 - any malformed GeoJSON geometry
        raise FetchError(f"municipality boundary: {host_of(api)} sent an unreadable geometry for {label}") from None
    if g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon"):
        raise FetchError(f"municipality boundary: the geometry of {label} is not a polygon ({g.geom_type})")
    if not _plausible_rd(g):
        raise FetchError(f"municipality boundary: the geometry of {label} is not in RD New (crs={RD_URI} ignored?)")
    return {"code": fcode, "name": fname, "geometry": g}


def _plausible_rd(g: BaseGeometry) -> bool:
    minx, miny, maxx, maxy = g.bounds
    return -10_000 <= minx and maxx <= 300_000 and 280_000 <= miny and maxy <= 640_000


def _ids_of(value) -> str | None:
    """A relation value (``"0228100000000001"``, a list of ids, or objects with identificatie/href) → comma list."""
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    out = []
    for it in items:
        if isinstance(it, dict):
            it = it.get("identificatie") or it.get("id") or it.get("title") or it.get("href")
        m = re.search(r"(\d{16})", str(it or ""))
        if m:
            out.append(m.group(1))
    return ",".join(out) or None


PAND_COLUMNS = ["identificatie", "bouwjaar", "status", "documentdatum"]
VBO_COLUMNS = ["identificatie", "pand_identificatie", "gebruiksdoel", "oppervlakte", "status",
               "openbare_ruimte_naam", "huisnummer", "huisletter", "toevoeging", "postcode", "woonplaats_naam",
               "documentdatum"]


def _frame(features: list[dict], columns: list[str], polygon: BaseGeometry, what: str) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for f in features:
        p = f["properties"]
        ident = _digits_id(p.get("identificatie"))
        if ident is None:
            raise FetchError(f"{what}: a feature without a 16-digit identificatie ({str(p.get('identificatie'))[:40]!r})")
        try:
            g = shape(f["geometry"]) if f.get("geometry") else None
        except Exception:  # noqa: BLE001
            raise FetchError(f"{what}: feature {ident} has an unreadable geometry") from None
        row = {c: p.get(c) for c in columns}
        row["identificatie"] = ident
        if "pand_identificatie" in columns:
            row["pand_identificatie"] = _ids_of(p.get("pand_identificatie") or p.get("pand"))
        if isinstance(row.get("gebruiksdoel"), list):
            row["gebruiksdoel"] = ",".join(map(str, row["gebruiksdoel"]))
        rows.append(row)
        geoms.append(g)
    gdf = gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry=geoms, crs="EPSG:28992")
    if len(gdf):
        gdf = gdf[gdf.geometry.notna()].drop_duplicates("identificatie", keep="last")
        gdf = gdf[gdf.geometry.intersects(polygon)]
    for c in ("bouwjaar", "oppervlakte", "huisnummer"):
        if c in gdf:
            gdf[c] = pd.to_numeric(gdf[c], errors="coerce").astype("Int64")
    return gdf


def _digits_id(value) -> str | None:
    m = re.search(r"(\d{16})$", str(value or "").strip())
    return m.group(1) if m else None


def fetch_bag_gpkg(http: Http, api: str, polygon: BaseGeometry, dest: Path, *, limit: int = 1000,
                   max_pages: int = 10_000, on_page: Callable[[int], None] | None = None) -> dict:
    """Page through BAG ``pand`` and ``verblijfsobject`` in the polygon's box; write a bag-light GeoPackage."""
    bbox = ",".join(f"{v:.3f}" for v in polygon.bounds)
    params = {"bbox": bbox, "bbox-crs": RD_URI}
    panden = list(iter_features(http, api, "pand", what="BAG pand", params=params, limit=limit,
                                max_pages=max_pages, on_page=on_page))
    vbos = list(iter_features(http, api, "verblijfsobject", what="BAG verblijfsobject", params=params,
                              limit=limit, max_pages=max_pages, on_page=on_page))
    pand = _frame(panden, PAND_COLUMNS, polygon, "BAG pand")
    vbo = _frame(vbos, VBO_COLUMNS, polygon, "BAG verblijfsobject")
    if pand.empty:
        raise FetchError(f"BAG: {host_of(api)} returned no pand inside the area (bbox {bbox})")
    return write_bag_gpkg(pand, vbo, dest)


def write_bag_gpkg(pand: gpd.GeoDataFrame, vbo: gpd.GeoDataFrame, dest: Path) -> dict:
    """Write the two layers to ``dest`` atomically (part file, re-read check, rename)."""
    import pyogrio

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(f"{dest.name}.part-{os.getpid()}.gpkg")
    part.unlink(missing_ok=True)
    try:
        pyogrio.write_dataframe(pand.rename_geometry("geom"), part, layer="pand", driver="GPKG")
        pyogrio.write_dataframe(vbo.rename_geometry("geom"), part, layer="verblijfsobject", driver="GPKG", append=True)
        layers = {str(n): int(pyogrio.read_info(part, layer=str(n))["features"]) for n, _ in pyogrio.list_layers(part)}
        if layers.get("pand") != len(pand) or layers.get("verblijfsobject") != len(vbo):
            raise FetchError(f"{dest}: the written GeoPackage does not read back ({layers})")
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)
    return {"pand": len(pand), "verblijfsobject": len(vbo)}


def cut_bag_gpkg(src: Path, polygon: BaseGeometry, dest: Path) -> dict:
    """A bbox read of a local national ``bag-light.gpkg`` (``--bag-gpkg``), kept where it meets the polygon."""
    import pyogrio

    from plekzoeker.errors import SourceError

    src = Path(src)
    if not src.exists():
        raise SourceError(src, "file not found")
    try:
        layers = {str(n).lower(): str(n) for n, _ in pyogrio.list_layers(src)}
    except Exception as exc:  # noqa: BLE001 - GDAL's message, one line
        raise SourceError(src, f"not a GeoPackage: {str(exc).splitlines()[0]}") from None
    for want in ("pand", "verblijfsobject"):
        if want not in layers:
            raise SourceError(src, f"has no '{want}' layer (a bag-light.gpkg has pand and verblijfsobject)")
    out = {}
    for want in ("pand", "verblijfsobject"):
        gdf = pyogrio.read_dataframe(src, layer=layers[want], bbox=tuple(polygon.bounds))
        if gdf.crs is None:
            raise SourceError(src, f"layer '{want}' declares no CRS")
        gdf = gdf.to_crs("EPSG:28992") if gdf.crs.to_epsg() != 28992 else gdf
        out[want] = gdf[gdf.geometry.intersects(polygon)]
    if out["pand"].empty:
        raise SourceError(src, "has no pand inside the area")
    return write_bag_gpkg(out["pand"], out["verblijfsobject"], dest)
