"""PDOK download APIs (BGT, kadastrale kaart): ``full/custom`` → poll the status → download the zip.

Protocol (the APIs document themselves at ``{api}/ui/``; BGT ``api.pdok.nl/lv/bgt/download/v1_0``,
kadastrale kaart ``api.pdok.nl/kadaster/kadastralekaart/download/v5_0``):

1. ``POST {api}/full/custom`` with JSON ``{"featuretypes": [...], "format": "citygml"|"gml",
   "geofilter": "POLYGON((x y, ...))"}`` (WKT in RD New) → ``202 Accepted`` with
   ``{"downloadRequestId": "...", "_links": {"status": {"href": "/lv/bgt/download/v1_0/full/custom/<id>/status"}}}``.
2. ``GET`` the status href (relative to the API's host) until ``"status"`` is ``COMPLETED``;
   while ``PENDING`` / ``RUNNING`` it carries ``"progress"`` (percent). ``COMPLETED`` carries
   ``"_links": {"download": {"href": ".../<id>/download"}}``. Anything else (``FAILED``, an unknown
   value) ends this request; the whole request is then made again, up to ``fetch.retries`` times,
   and the last status is named: ``BGT download for GM0228 failed: status 'FAILED' after 3 tries``.
   A status that never completes ends after ``fetch.max_polls`` polls of ``fetch.poll_interval_s``.
3. ``GET`` the download href → a zip (BGT: ``bgt_<featuretype>.gml``; kadastrale kaart:
   ``kadastralekaart_<featuretype>.gml``), written through a part file and accepted only when
   ``zipfile.testzip`` passes (every member's CRC) and every member is a ``.gml`` — else retried.

Area. The services limit the area of one request, and a geofilter is a single polygon ring. The
area polygon is first made a little coarser and never smaller (``buffer(+5 m)`` then
``simplify(2 m)``, so coverage is kept and the WKT stays short), then, when its area exceeds
``fetch.max_request_km2``, cut along a square grid of that cell area (``tile_polygons``); every
non-empty piece (each part of a MultiPolygon separately, holes dropped — more is fetched, never
less) is one request. The tile zips are merged member by member into one zip (``merge_gml_zips``):
the features of each ``bgt_x.gml`` of every tile are concatenated inside the first tile's
FeatureCollection. Objects that cross a tile edge come twice; the loader drops the duplicates
(``meta.load`` counts them). Licences: BGT CC0 1.0; kadastrale kaart CC BY 4.0, both Kadaster.
"""
from __future__ import annotations

import io
import logging
import math
import os
import re
import time
import urllib.parse
import zipfile
from collections.abc import Callable
from pathlib import Path

import shapely
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from plekzoeker.errors import FetchError

from .http import FileInfo, Http, host_of

log = logging.getLogger(__name__)

BGT_LICENCE = ("CC0 1.0", "Kadaster / bronhouders, Basisregistratie Grootschalige Topografie (BGT, PDOK)")
BRK_LICENCE = ("CC BY 4.0", "Kadaster, Kadastrale kaart (BRK, PDOK)")
RUNNING = {"PENDING", "RUNNING", "QUEUED", "ACCEPTED"}


def request_polygon(area: BaseGeometry) -> BaseGeometry:
    """The area made slightly coarser but never smaller (+5 m, simplified by 2 m)."""
    return shapely.simplify(area.buffer(5.0, quad_segs=2), 2.0, preserve_topology=True)


def tile_polygons(area: BaseGeometry, max_km2: float) -> list[Polygon]:
    """Single-ring polygons covering ``area``, each at most ``max_km2`` of grid cell (see module doc)."""
    area = request_polygon(area)
    minx, miny, maxx, maxy = area.bounds
    side = math.sqrt(max_km2) * 1000.0
    pieces: list[BaseGeometry] = []
    if area.area <= max_km2 * 1e6:
        pieces = [area]
    else:
        nx, ny = max(1, math.ceil((maxx - minx) / side)), max(1, math.ceil((maxy - miny) / side))
        for i in range(nx):
            for j in range(ny):
                cell = box(minx + i * side, miny + j * side, min(maxx, minx + (i + 1) * side), min(maxy, miny + (j + 1) * side))
                piece = area.intersection(cell)
                if not piece.is_empty:
                    pieces.append(piece)
    out: list[Polygon] = []
    for p in pieces:
        for part in getattr(p, "geoms", [p]):
            if isinstance(part, Polygon) and part.area > 1.0:
                out.append(Polygon(part.exterior))
    return out


def wkt(poly: Polygon) -> str:
    return shapely.to_wkt(poly, rounding_precision=2, output_dimension=2)


def _href(api: str, link: str) -> str:
    return urllib.parse.urljoin(api if api.endswith("/") else api + "/", link)


def _link(body: dict, name: str) -> str | None:
    lk = (body.get("_links") or {}).get(name) if isinstance(body.get("_links"), dict) else None
    if isinstance(lk, dict) and isinstance(lk.get("href"), str):
        return lk["href"]
    if isinstance(lk, list) and lk and isinstance(lk[0], dict):
        return lk[0].get("href")
    return None


def check_zip(path: Path, what: str) -> list[str]:
    """The members of a valid zip of GML files; FetchError for a corrupt or foreign zip."""
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
            names = [n for n in z.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile) as exc:
        raise FetchError(f"{what}: the download is not a readable zip ({exc})") from None
    if bad:
        raise FetchError(f"{what}: the zip member {bad} fails its CRC check (corrupt download)")
    if not names or not all(n.lower().endswith((".gml", ".xml", ".xsd", ".txt")) for n in names):
        raise FetchError(f"{what}: the zip holds no GML files ({', '.join(names[:5]) or 'empty'})")
    return names


def custom_download(http: Http, api: str, featuretypes: list[str], fmt: str, polygon: Polygon, dest: Path, *,
                    what: str, poll_interval_s: float = 5.0, max_polls: int = 360,
                    sleep: Callable[[float], None] = time.sleep,
                    progress: Callable[[int, int | None], None] | None = None) -> FileInfo:
    """One ``full/custom`` request for one polygon, polled and downloaded to ``dest`` (see module doc)."""
    tries = max(1, http.policy.retries)
    last = "none"
    body_req = {"featuretypes": list(featuretypes), "format": fmt, "geofilter": wkt(polygon)}
    for attempt in range(tries):
        resp = http.request("POST", f"{api.rstrip('/')}/full/custom", what=what, json_body=body_req)
        if resp.status not in (200, 201, 202):
            raise FetchError(f"{what}: {host_of(api)} answered HTTP {resp.status} to the request, expected 202")
        started = resp.json(what)
        status_href = _link(started, "status") if isinstance(started, dict) else None
        if not status_href:
            raise FetchError(f"{what}: {host_of(api)} accepted the request but sent no _links.status.href "
                             f"(got {str(started)[:80]})")
        status_url = _href(api, status_href)
        download_href = None
        for _poll in range(max_polls):
            st = http.get_json(status_url, what=f"{what} status")
            if not isinstance(st, dict) or not isinstance(st.get("status"), str):
                raise FetchError(f"{what}: the status answer has no 'status' field (got {str(st)[:80]})")
            last = st["status"]
            if last.upper() == "COMPLETED":
                download_href = _link(st, "download")
                if not download_href:
                    raise FetchError(f"{what}: status COMPLETED without _links.download.href")
                break
            if last.upper() not in RUNNING:
                break
            log.debug("%s: %s %s%%", what, last, st.get("progress", "?"))
            sleep(poll_interval_s)
        else:
            raise FetchError(f"{what}: status still {last!r} after {max_polls} polls "
                             f"({max_polls * poll_interval_s:.0f} s; fetch.max_polls)")
        if download_href:
            return http.download(_href(api, download_href), dest, what=what,
                                 verify=lambda p: check_zip(p, what) and None, progress=progress)
        log.info("%s: status %r, request %d/%d", what, last, attempt + 1, tries)
        if attempt + 1 < tries:
            sleep(min(http.policy.backoff_s * 2 ** attempt, http.policy.max_backoff_s))
    raise FetchError(f"{what} failed: status {last!r} after {tries} tries")


_MEMBER_OPEN = re.compile(rb"<(?:[\w.-]+:)?(?:cityObjectMember|featureMember|featureMembers|member)\b")
_MEMBER_CLOSE = re.compile(rb"</(?:[\w.-]+:)?(?:cityObjectMember|featureMember|featureMembers|member)>")


def _split_gml(data: bytes) -> tuple[bytes, bytes, bytes]:
    """(head, members, tail) of a GML FeatureCollection; members empty when it has none."""
    m = _MEMBER_OPEN.search(data)
    if not m:
        close = data.rfind(b"</")
        return (data[:close], b"", data[close:]) if close > 0 else (data, b"", b"")
    last = None
    for match in _MEMBER_CLOSE.finditer(data):
        last = match
    if last is None or last.end() < m.start():
        raise FetchError("a GML member in the download is not closed (truncated file)")
    return data[:m.start()], data[m.start():last.end()], data[last.end():]


def merge_gml_zips(parts: list[Path], dest: Path) -> dict:
    """Merge tile zips member by member (features concatenated) into ``dest``, atomically."""
    by_name: dict[str, list[bytes]] = {}
    for p in parts:
        with zipfile.ZipFile(p) as z:
            for name in z.namelist():
                if name.endswith("/"):
                    continue
                by_name.setdefault(Path(name).name, []).append(z.read(name))
    dest = Path(dest)
    part = dest.with_name(f"{dest.name}.part-{os.getpid()}")
    counts = {}
    try:
        with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as out:
            for name, blobs in sorted(by_name.items()):
                if not name.lower().endswith(".gml") or len(blobs) == 1:
                    out.writestr(name, blobs[0])
                    counts[name] = 1
                    continue
                head, members, tail = _split_gml(blobs[0])
                buf = io.BytesIO()
                buf.write(head)
                buf.write(members)
                for b in blobs[1:]:
                    buf.write(_split_gml(b)[1])
                buf.write(tail)
                out.writestr(name, buf.getvalue())
                counts[name] = len(blobs)
        check_zip(part, str(dest))
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)
    return counts


def download_area(http: Http, api: str, featuretypes: list[str], fmt: str, area: BaseGeometry, dest: Path, *,
                  what: str, max_km2: float, poll_interval_s: float, max_polls: int,
                  sleep: Callable[[float], None] = time.sleep,
                  progress: Callable[[int, int | None], None] | None = None) -> dict:
    """The whole area, tiled when needed, as one zip at ``dest``; ``{"tiles": n, "members": {...}}``."""
    tiles = tile_polygons(area, max_km2)
    if not tiles:
        raise FetchError(f"{what}: the area is empty")
    dest = Path(dest)
    if len(tiles) == 1:
        custom_download(http, api, featuretypes, fmt, tiles[0], dest, what=what, poll_interval_s=poll_interval_s,
                        max_polls=max_polls, sleep=sleep, progress=progress)
        return {"tiles": 1}
    tmp = [dest.with_name(f"{dest.name}.tile{i}-{os.getpid()}.zip") for i in range(len(tiles))]
    try:
        for i, (t, p) in enumerate(zip(tiles, tmp)):
            custom_download(http, api, featuretypes, fmt, t, p, what=f"{what} (tile {i + 1}/{len(tiles)})",
                            poll_interval_s=poll_interval_s, max_polls=max_polls, sleep=sleep, progress=progress)
        members = merge_gml_zips(tmp, dest)
    finally:
        for p in tmp:
            p.unlink(missing_ok=True)
    return {"tiles": len(tiles), "members": members}
