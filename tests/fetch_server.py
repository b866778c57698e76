"""A local stand-in for PDOK and Overpass (127.0.0.1, threaded ``http.server``) serving real files.

It speaks each protocol as the services document it (see ``sources/fetch/*.py``):

* ``/bg/collections/gemeentegebied/items`` and ``/bag/collections/{pand,verblijfsobject}/items``:
  OGC API Features — GeoJSON FeatureCollections, ``limit``, ``bbox`` + ``bbox-crs``, pages linked
  by ``rel: next`` (a cursor, as PDOK does). BAG features are the real LVBAG sample of Doesburg
  (tests/data/lvbag, CC0) read with the project's LVBAG reader and given PDOK's property names.
  The municipality boundaries are stand-ins (the real gemeentegrenzen are not in tests/data):
  ``GM9999 Proefdorp`` (the code Kadaster uses for test data) = a box over the three real sample
  sites (Delft, Otterlo, Doesburg), ``GM0221 Doesburg`` = the Doesburg sample's extent + 500 m,
  ``GM0228 Ede`` = the Otterlo sample's.
* ``/bgt`` and ``/brk``: download APIs — ``POST full/custom`` → 202 + ``_links.status`` → status
  ``PENDING`` (with ``progress``) then ``COMPLETED`` + ``_links.download`` → the zip. The zip is the
  real Otterlo BGT delivery (tests/data/bgt) or a zip of the real Otterlo kadastrale kaart GML
  (tests/data/brk) when the geofilter meets the Otterlo extent, else the same members with no
  features (the service answers an area without objects so). Not clipped to the geofilter.
* ``/n2k/collections/natura2000/items``: OGC API Features as above, one stand-in site with PDOK's
  Natura 2000 property names (``naam_n2k`` Veluwe, ``nr`` 57, ``bescherming``, ``sitecode_h``)
  north of the Otterlo sample (the real Veluwe is not in tests/data), honouring ``bbox``.
* ``/3dbag/tile_index.fgb`` and ``/3dbag/tiles/<id>.gpkg[.zip]``: the 3DBAG download layout — a
  FlatGeobuf tile index (``tile_id``, ``gpkg_download``, ``gpkg_sha256``) and one GeoPackage per
  tile with the layers ``pand`` (``identificatie``, ``b3_h_maaiveld``, ``b3_bouwlagen``,
  ``b3_opp_grond``) and ``lod22_2d`` (roof parts: ``identificatie``, ``b3_h_dak_70p``), built on
  the real Doesburg panden (ids and footprints real, heights invented: ``BAG3D_TRUTH``); the second
  tile is served zipped, a third tile lies outside every test area.
* ``/overpass/interpreter`` (POST ``data=``) and ``/overpass/status``: Overpass JSON of the real
  Delft extract (tests/data/osm/tudelft.osm.pbf, ODbL): every node inside the query's ``poly:``
  polygons, every way with such a node (and all its nodes), every relation with a kept member.
  Tag filters in the query are not evaluated (the reader selects what it needs).

Faults are queued per path regex (``server.fault(r"^/bgt/.*/download$", "500", "503", ...)``), one per request:
``500``, ``503`` (with ``Retry-After: 1``), ``404``, ``stall`` (headers, then silence past the
client's timeout), ``truncate`` (fewer bytes than ``Content-Length``), ``corrupt`` (a zip with a
broken member), ``badjson`` (a JSON body of the wrong shape), ``status-failed`` (the download
status says FAILED), ``never`` (the status stays RUNNING).
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import tempfile
import threading
import time
import urllib.parse
import zipfile
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import box, mapping, shape

DATA = Path(__file__).parent / "data"
OTTERLO = box(180_500, 456_000, 183_000, 458_500)   # the Otterlo BGT/BRK samples lie inside
SITES = box(70_000, 436_000, 208_000, 460_000)      # a box over Delft (OSM), Otterlo (BGT, BRK) and Doesburg (BAG)
DELFT_OSM = DATA / "osm" / "tudelft.osm.pbf"


def _bag_features() -> dict[str, list[dict]]:
    from plekzoeker.sources.bag_read import read_bag_pand, read_bag_verblijfsobject

    pand = next(read_bag_pand(DATA / "lvbag" / "0221PND15092020-000001.xml"))
    vbo = next(read_bag_verblijfsobject(DATA / "lvbag" / "0221VBO15092020-000001.xml"))
    out = {"pand": [], "verblijfsobject": []}
    for r in pand.itertuples():
        out["pand"].append({"type": "Feature", "id": r.identificatie, "geometry": mapping(r.geometry), "properties": {
            "identificatie": r.identificatie, "bouwjaar": None if r.bouwjaar != r.bouwjaar else int(r.bouwjaar),
            "status": r.status, "documentdatum": str(r.documentdatum.date()) if r.documentdatum == r.documentdatum else None,
            "gebruiksdoel": None}})
    for r in vbo.itertuples():
        def s(v):
            return None if v is None or v != v else v
        out["verblijfsobject"].append({"type": "Feature", "id": r.identificatie, "geometry": mapping(r.geometry), "properties": {
            "identificatie": r.identificatie, "oppervlakte": int(r.oppervlakte), "status": r.status,
            "gebruiksdoel": ",".join(r.gebruiksdoelen), "huisnummer": int(r.huisnummer), "huisletter": s(r.huisletter),
            "toevoeging": s(r.toevoeging), "postcode": s(r.postcode), "openbare_ruimte_naam": s(r.openbare_ruimte),
            "woonplaats_naam": s(r.woonplaats), "pand_identificatie": ",".join(r.pand_ids),
            "documentdatum": str(r.documentdatum.date()) if r.documentdatum == r.documentdatum else None}})
    return out


NATURA2000 = [{"type": "Feature", "id": "57", "geometry": mapping(box(180_500, 458_600, 183_000, 459_900)),
               "properties": {"naam_n2k": "Veluwe", "nr": 57, "bescherming": "VR+HR", "sitecode_h": "NL1000017",
                              "status": "Aangewezen"}}]
# per Doesburg pand: ground, the two roof parts' 70th percentiles, floors, footprint (invented, known answer)
BAG3D_HEIGHTS = [(9.5, (16.0, 21.5), 5, 410.0), (10.1, (13.2, 12.0), 3, 95.0)]


def _bag3d(bag: dict, url: str) -> tuple[bytes, dict[str, bytes], dict[str, tuple]]:
    """The tile index (FlatGeobuf bytes), the tiles by file name, and the truth per pand id."""
    import geopandas as gpd
    import pyogrio

    tiles, truth, rows = {}, {}, []
    with tempfile.TemporaryDirectory() as tmp:
        for i, f in enumerate(bag["pand"][:2]):
            pid, geom = f["properties"]["identificatie"], shape(f["geometry"])
            ground, roofs, floors, foot = BAG3D_HEIGHTS[i]
            truth[pid] = (ground, max(roofs), floors, foot)
            path = Path(tmp) / f"t{i}.gpkg"
            gpd.GeoDataFrame({"identificatie": [f"NL.IMBAG.Pand.{pid}"], "b3_h_maaiveld": [ground],
                              "b3_bouwlagen": [floors], "b3_opp_grond": [foot], "status": ["Pand in gebruik"]},
                             geometry=[geom], crs=28992).to_file(path, layer="pand", driver="GPKG")
            c = geom.centroid
            halves = [geom.intersection(box(c.x - 1e4, c.y - 1e4, c.x, c.y + 1e4)),
                      geom.intersection(box(c.x, c.y - 1e4, c.x + 1e4, c.y + 1e4))]
            gpd.GeoDataFrame({"identificatie": [f"NL.IMBAG.Pand.{pid}"] * 2, "b3_h_dak_70p": list(roofs)},
                             geometry=halves, crs=28992).to_file(path, layer="lod22_2d", driver="GPKG")
            data = path.read_bytes()
            name = f"9-{440 + i}-728.gpkg"
            if i == 1:  # served as a zip, as 3DBAG serves some downloads
                buf = io.BytesIO()
                with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                    z.writestr(name, data)
                data, name = buf.getvalue(), name + ".zip"
            tiles[name] = data
            rows.append({"tile_id": f"9/{440 + i}/728", "gpkg_download": f"{url}/3dbag/tiles/{name}",
                         "gpkg_sha256": hashlib.sha256(data).hexdigest(), "geometry": geom.envelope.buffer(20)})
        rows.append({"tile_id": "9/999/999", "gpkg_download": f"{url}/3dbag/tiles/absent.gpkg", "gpkg_sha256": None,
                     "geometry": box(250_000, 600_000, 251_000, 601_000)})  # outside every test area
        idx = Path(tmp) / "tile_index.fgb"
        pyogrio.write_dataframe(gpd.GeoDataFrame(rows, crs=28992), idx, driver="FlatGeobuf")
        index = idx.read_bytes()
    return index, tiles, truth


def _municipalities(bag: dict) -> list[dict]:
    from shapely.ops import unary_union

    doesburg = unary_union([shape(f["geometry"]) for fs in bag.values() for f in fs]).envelope.buffer(500)
    feats = []
    for code, name, geom in (("9999", "Proefdorp", SITES), ("0221", "Doesburg", doesburg), ("0228", "Ede", OTTERLO)):
        feats.append({"type": "Feature", "id": f"GM{code}", "geometry": mapping(geom), "properties": {
            "code": code, "identificatie": f"GM{code}", "naam": name, "ligt_in_provincie_code": "PV25",
            "ligt_in_provincie_naam": "Gelderland"}})
    return feats


class _Osm:
    """The Delft extract in memory, answerable by polygon."""

    def __init__(self, path: Path):
        import osmium

        ids, lon, lat, tags = [], [], [], {}
        self.ways, self.rels = [], []
        for o in osmium.FileProcessor(str(path)):
            if o.is_node():
                ids.append(o.id)
                lon.append(o.location.lon)
                lat.append(o.location.lat)
                if len(o.tags):
                    tags[o.id] = {t.k: t.v for t in o.tags}
            elif o.is_way():
                self.ways.append((o.id, [n.ref for n in o.nodes], {t.k: t.v for t in o.tags}))
            else:
                self.rels.append((o.id, [(m.type, m.ref, m.role) for m in o.members], {t.k: t.v for t in o.tags}))
        self.ids, self.lon, self.lat, self.tags = np.asarray(ids), np.asarray(lon), np.asarray(lat), tags
        self.index = {int(i): k for k, i in enumerate(ids)}

    def answer(self, polys: list) -> dict:
        inside = np.zeros(len(self.ids), dtype=bool)
        for p in polys:
            inside |= shapely.contains_xy(p, self.lon, self.lat)
        keep = set(self.ids[inside].tolist())
        ways = [w for w in self.ways if any(n in keep for n in w[1])]
        wids = {w[0] for w in ways}
        nodes = keep | {n for w in ways for n in w[1]}
        rels = [r for r in self.rels if any((t == "n" and ref in keep) or (t == "w" and ref in wids) for t, ref, _ in r[1])]
        tmap = {"n": "node", "w": "way", "r": "relation"}
        els = []
        for n in sorted(nodes):
            k = self.index.get(n)
            if k is None:
                continue
            e = {"type": "node", "id": int(n), "lat": float(self.lat[k]), "lon": float(self.lon[k])}
            if n in self.tags:
                e["tags"] = self.tags[n]
            els.append(e)
        els += [{"type": "way", "id": w[0], "nodes": w[1], "tags": w[2]} for w in ways]
        els += [{"type": "relation", "id": r[0], "members": [{"type": tmap[t], "ref": ref, "role": role} for t, ref, role in r[1]],
                 "tags": r[2]} for r in rels]
        return {"version": 0.6, "generator": "plekzoeker test server", "elements": els}


def _empty_members(zip_bytes: bytes) -> bytes:
    from plekzoeker.sources.fetch.pdok_download import _split_gml

    src = zipfile.ZipFile(io.BytesIO(zip_bytes))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for n in src.namelist():
            head, _m, tail = _split_gml(src.read(n))
            out.writestr(n, head + tail)
    return buf.getvalue()


def _brk_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(DATA / "brk" / "kadastralekaart_perceel.gml", "kadastralekaart_perceel.gml")
    return buf.getvalue()


class FetchServer:
    def __init__(self):
        self.bag = _bag_features()
        self.municipalities = _municipalities(self.bag)
        self.zips = {"bgt": (DATA / "bgt" / "otterlo-bgt.zip").read_bytes(), "brk": _brk_zip()}
        self.empty = {k: _empty_members(v) for k, v in self.zips.items()}
        self.osm = _Osm(DELFT_OSM)
        self.osm_answers: dict[tuple, bytes] = {}
        self.faults: dict[str, deque] = defaultdict(deque)
        self.log: list[tuple[str, str]] = []
        self.jobs: dict[str, dict] = {}
        self.page_size = 1
        self.stall_s = 5.0
        self.lock = threading.Lock()
        handler = type("H", (_Handler,), {"srv": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.natura2000 = NATURA2000
        self.bag3d_index, self.bag3d_tiles, self.bag3d_truth = _bag3d(self.bag, self.url)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def endpoints(self) -> dict:
        return {"bestuurlijke_gebieden": f"{self.url}/bg", "bag": f"{self.url}/bag", "kadastralekaart": f"{self.url}/brk",
                "bgt": f"{self.url}/bgt", "overpass": f"{self.url}/overpass", "natura2000": f"{self.url}/n2k",
                "bag3d_tile_index": f"{self.url}/3dbag/tile_index.fgb"}

    def fault(self, prefix: str, *kinds: str) -> None:
        with self.lock:
            self.faults[prefix].extend(kinds)

    def take_fault(self, path: str) -> str | None:
        with self.lock:
            for pattern, q in self.faults.items():
                if q and re.search(pattern, path):
                    return q.popleft()
        return None

    def count(self, prefix: str) -> int:
        return sum(1 for _m, p in self.log if p.startswith(prefix))

    def start(self) -> FetchServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    srv: FetchServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json", headers: dict | None = None,
              length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _json(self, obj, status: int = 200) -> None:
        self._send(status, json.dumps(obj).encode())

    def _fault(self, path: str, kind: str | None, body: bytes = b"{}") -> bool:
        if kind in (None, "status-failed", "never", "corrupt"):
            return False
        if kind == "500":
            self._send(500, b'{"detail": "internal error"}')
        elif kind == "503":
            self._send(503, b'{"detail": "busy"}', headers={"Retry-After": "1"})
        elif kind == "404":
            self._send(404, b'{"detail": "not found"}')
        elif kind == "badjson":
            self._json({"unexpected": True, "items": []})
        elif kind == "stall":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 3])
            self.wfile.flush()
            time.sleep(self.srv.stall_s)
            self.close_connection = True
        elif kind == "truncate":
            self._send(200, body[: len(body) // 2], ctype="application/zip", length=len(body))
            self.close_connection = True
        return True

    def do_GET(self) -> None:  # noqa: N802
        self._handle("GET", b"")

    def do_POST(self) -> None:  # noqa: N802
        n = int(self.headers.get("Content-Length") or 0)
        self._handle("POST", self.rfile.read(n) if n else b"")

    def _handle(self, method: str, body: bytes) -> None:
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        path = u.path
        self.srv.log.append((method, path))
        kind = self.srv.take_fault(path)
        try:
            if path.startswith("/bg/collections/gemeentegebied/items"):
                if not self._fault(path, kind):
                    self._items(self.srv.municipalities, q, "/bg/collections/gemeentegebied/items")
            elif m := re.match(r"^/bag/collections/(pand|verblijfsobject)/items$", path):
                if not self._fault(path, kind):
                    feats = self.srv.bag[m.group(1)]
                    if "bbox" in q:
                        b = box(*map(float, q["bbox"].split(",")))
                        feats = [f for f in feats if shape(f["geometry"]).intersects(b)]
                    self._items(feats, q, path)
            elif path == "/n2k/collections/natura2000/items":
                if not self._fault(path, kind):
                    feats = self.srv.natura2000
                    if "bbox" in q:
                        b = box(*map(float, q["bbox"].split(",")))
                        feats = [f for f in feats if shape(f["geometry"]).intersects(b)]
                    self._items(feats, q, path)
            elif path == "/3dbag/tile_index.fgb":
                if not self._fault(path, kind, self.srv.bag3d_index):
                    self._send(200, self.srv.bag3d_index, ctype="application/octet-stream")
            elif m := re.match(r"^/3dbag/tiles/([\w.-]+)$", path):
                data = self.srv.bag3d_tiles.get(m.group(1))
                if data is None:
                    self._send(404, b'{"detail": "no such tile"}')
                elif kind == "corrupt":
                    self._send(200, data[: len(data) // 2] + b"\x00" * (len(data) - len(data) // 2),
                               ctype="application/geopackage+sqlite3")
                elif not self._fault(path, kind, data):
                    self._send(200, data, ctype="application/zip" if m.group(1).endswith(".zip")
                               else "application/geopackage+sqlite3")
            elif m := re.match(r"^/(bgt|brk)/full/custom(?:/([\w-]+)/(status|download))?$", path):
                self._download_api(m.group(1), m.group(2), m.group(3), method, body, kind)
            elif path == "/overpass/status":
                self._send(200, b"Connected as: 1\nCurrent time: 2026-01-01T00:00:00Z\nAnnounced endpoint: none\n"
                                b"Rate limit: 2\n2 slots available now.\nCurrently running queries (pid, space limit, time limit, start time):\n",
                           ctype="text/plain")
            elif path == "/overpass/interpreter":
                if not self._fault(path, kind):
                    form = urllib.parse.parse_qs(body.decode() if method == "POST" else u.query)
                    query = (form.get("data") or [""])[0]
                    key = tuple(re.findall(r"poly:'([^']*)'", query))
                    cached = self.srv.osm_answers.get(key)
                    if cached is not None:
                        return self._send(200, cached)
                    polys = []
                    for s in re.findall(r"poly:'([^']*)'|poly:\"([^\"]*)\"", query):
                        vals = [float(v) for v in (s[0] or s[1]).split()]
                        polys.append(shapely.Polygon(list(zip(vals[1::2], vals[0::2]))))
                    data = json.dumps(self.srv.osm.answer(polys)).encode()
                    self.srv.osm_answers[key] = data
                    self._send(200, data)
            else:
                self._send(404, b'{"detail": "no such path"}')
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _items(self, feats: list[dict], q: dict, path: str) -> None:
        start = int(q.get("cursor", 0))
        size = min(int(q.get("limit", 10)), self.srv.page_size)
        page = feats[start:start + size]
        links = [{"rel": "self", "href": f"{self.srv.url}{path}?{urllib.parse.urlencode(q)}"}]
        if start + size < len(feats):
            nq = {**q, "cursor": start + size}
            links.append({"rel": "next", "type": "application/geo+json", "href": f"{self.srv.url}{path}?{urllib.parse.urlencode(nq)}"})
        self._json({"type": "FeatureCollection", "numberReturned": len(page), "features": page, "links": links})

    def _download_api(self, api: str, job: str | None, step: str | None, method: str, body: bytes, kind: str | None) -> None:
        srv = self.srv
        if job is None:
            if method != "POST":
                return self._send(405, b'{"detail": "POST only"}')
            if self._fault("", kind):
                return
            req = json.loads(body or b"{}")
            if not isinstance(req.get("featuretypes"), list) or req.get("format") not in ("gml", "citygml", "gmllight"):
                return self._send(400, b'{"detail": "featuretypes and format required"}')
            geom = shapely.from_wkt(req["geofilter"])
            jid = f"{api}{len(srv.jobs) + 1}"
            srv.jobs[jid] = {"api": api, "polls": 0, "meets": geom.intersects(OTTERLO), "fault": kind,
                             "featuretypes": req["featuretypes"]}
            return self._json({"downloadRequestId": jid, "_links": {"status": {"href": f"/{api}/full/custom/{jid}/status"}}}, 202)
        j = srv.jobs.get(job)
        if j is None:
            return self._send(404, b'{"detail": "unknown request"}')
        if step == "status":
            if self._fault("", kind):
                return
            j["polls"] += 1
            if j["fault"] == "never" or j["polls"] < 2:
                return self._json({"downloadRequestId": job, "status": "RUNNING" if j["fault"] == "never" else "PENDING",
                                   "progress": 50})
            if j["fault"] == "status-failed":
                return self._json({"downloadRequestId": job, "status": "FAILED"})
            return self._json({"downloadRequestId": job, "status": "COMPLETED", "progress": 100,
                               "_links": {"download": {"href": f"/{api}/full/custom/{job}/download"}}})
        data = srv.zips[api] if j["meets"] else srv.empty[api]
        if kind == "corrupt" or j["fault"] == "corrupt":
            j["fault"] = None
            bad = bytearray(data)
            mid = len(bad) // 2
            bad[mid:mid + 64] = b"\x00" * 64
            return self._send(200, bytes(bad), ctype="application/zip")
        if self._fault("", kind, data):
            return
        self._send(200, data, ctype="application/zip")
