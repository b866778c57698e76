"""``plekzoeker fetch`` against a local stand-in of PDOK and Overpass (tests/fetch_server.py), on real files.

No internet: every service URL is a config key pointing at 127.0.0.1. Faults are injected per
request; each must end in one ``FetchError`` line with the cache as it was.
"""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from fetch_server import FetchServer
from shapely.geometry import shape

from plekzoeker.errors import ConfigError, FetchError
from plekzoeker.settings import load_config
from plekzoeker.sources.fetch import pdok_download
from plekzoeker.sources.fetch.run import Target, fetch_area

DATA = Path(__file__).parent / "data"
# a box over the three real sample sites: Delft (OSM), Otterlo (BGT, BRK), Doesburg (LVBAG)
SITES_BBOX = "70000,436000,208000,460000"


@pytest.fixture(scope="module")
def server():
    srv = FetchServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def cfg(server, tmp_path):
    server.faults.clear()
    server.page_size = 1
    return load_config(None, {"fetch": {"endpoints": server.endpoints(), "cache_dir": str(tmp_path / "data"),
                                        "timeout_s": 3, "retries": 3, "backoff_s": 0, "max_backoff_s": 0,
                                        "poll_interval_s": 0, "max_polls": 5, "max_request_km2": 400}})


def _fetch(cfg, spec: str = "GM9999", **kw):
    target = Target.parse(None, None, spec) if "," in spec else Target.parse(spec, None, None)
    return fetch_area(cfg, target, quiet=True, sleep=lambda s: None, **kw)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()} if folder.exists() else {}


def test_fetch_municipality_writes_cache_manifest_and_config(cfg, server, tmp_path):
    before = len(server.log)
    res = _fetch(cfg, "GM9999")
    folder = Path(res["folder"])
    assert folder.name == "GM9999"
    man = json.loads((folder / "manifest.json").read_text())["datasets"]
    assert set(man) == {"boundary", "bag", "brk", "bgt", "osm", "natura2000", "3dbag"}
    for name, e in man.items():
        p = folder / e["file"]
        assert p.stat().st_size == e["size"] and e["sha256"] and e["licence"] and e["attribution"], name
    assert man["osm"]["licence"] == "ODbL 1.0" and man["bgt"]["licence"] == "CC0 1.0"
    assert man["brk"]["licence"] == "CC BY 4.0"
    # BAG: the real Doesburg units, paged one per page, as a bag-light GeoPackage the reader takes
    import pandas as pd

    from plekzoeker.area import Area
    from plekzoeker.sources.bag_read import read_bag_pand, read_bag_verblijfsobject

    panden = pd.concat(read_bag_pand(folder / "bag.gpkg", area=Area(municipality="0221")))   # Doesburg's ids
    vbos = pd.concat(read_bag_verblijfsobject(folder / "bag.gpkg", area=Area(municipality="0221")))
    want_p = {f["properties"]["identificatie"] for f in server.bag["pand"]}
    assert set(panden.identificatie) == want_p and len(want_p) == 2
    assert set(vbos.identificatie) == {f["properties"]["identificatie"] for f in server.bag["verblijfsobject"]}
    assert sorted(map(tuple, vbos.pand_ids)) == sorted((f["properties"]["pand_identificatie"],)
                                                       for f in server.bag["verblijfsobject"])
    # the config points at the files and stores the polygon as the run area
    conf = load_config(res["config"])
    assert conf["area"]["municipality"] == "GM9999" and Path(conf["area"]["polygon"]).name == "boundary.geojson"
    assert all(Path(conf["inputs"][k]).exists() for k in ("bag", "brk", "bgt", "osm", "natura2000", "3dbag"))
    from plekzoeker.pipelines.stages import area_from_config

    a = area_from_config(conf)
    from shapely.geometry import shape

    assert a.polygon is not None and a.polygon.equals_exact(shape(server.municipalities[0]["geometry"]), 1e-6)
    # a second fetch asks nothing and changes nothing
    snap, n = _snapshot(folder), len(server.log)
    res2 = _fetch(cfg, "GM9999")
    assert all(v.get("skipped") == "fresh" for k, v in res2["datasets"].items() if k != "boundary")
    assert server.log[n:] == []  # not even the boundary: the folder is known from the code
    assert _snapshot(folder) == snap
    # --refresh fetches again
    _fetch(cfg, "GM9999", refresh=True)
    assert any(p.startswith("/bag/") for _m, p in server.log[n:])
    assert before < n


def test_fetch_by_name_and_unknown_name(cfg):
    res = _fetch_name(cfg, "proefdorp")
    assert res["area"] == "GM9999"
    with pytest.raises(FetchError, match="has no municipality 'Nergenshuizen'"):
        _fetch_name(cfg, "Nergenshuizen")


def _fetch_name(cfg, name):
    return fetch_area(cfg, Target.parse(None, name, None), quiet=True, sleep=lambda s: None)


def test_bad_targets_are_config_errors():
    for args in ((None, None, None), ("GM12", None, None), (None, None, "1,2,3"), (None, None, "0,0,10,10"),
                 ("GM9999", "Ede", None)):
        with pytest.raises(ConfigError):
            Target.parse(*args)


def test_large_area_is_tiled_and_merged(cfg, server):
    """The sites box (~3,300 km²) becomes tiles of <= 400 km²; only tiles meeting Otterlo hold features."""
    n0 = len(server.jobs)
    res = _fetch(cfg, SITES_BBOX)
    folder = Path(res["folder"])
    tiles = res["datasets"]["bgt"]["tiles"]
    assert tiles >= 9 and len(server.jobs) - n0 == 2 * tiles
    from plekzoeker.sources.bgt_read import read_bgt
    from plekzoeker.sources.brk_read import read_perceel

    got = {f.identificatie for chunk in read_bgt(folder / "bgt.zip", layers=("waterdeel",)) for f in chunk.itertuples()}
    want = {f.identificatie for chunk in read_bgt(DATA / "bgt" / "otterlo-bgt.zip", layers=("waterdeel",))
            for f in chunk.itertuples()}
    assert got == want and want
    parcels = [r for chunk in read_perceel(folder / "brk.zip") for r in chunk.itertuples()]
    real = [r for chunk in read_perceel(DATA / "brk" / "kadastralekaart_perceel.gml") for r in chunk.itertuples()]
    meets = sum(1 for j in list(server.jobs.values())[n0:] if j["api"] == "brk" and j["meets"])
    assert len(parcels) == meets * len(real) and meets >= 1   # duplicates across tiles: the loader drops them
    # OSM: the Delft street network arrived through osmnx's queries as OSM XML the reader takes
    from plekzoeker.area import Area
    from plekzoeker.sources.osm_read import read_osm

    osm = read_osm(folder / "osm.osm")
    ref = read_osm(DATA / "osm" / "tudelft.osm.pbf", area=Area(bbox=tuple(map(float, SITES_BBOX.split(",")))))
    assert len(osm.edges) == len(ref.edges) and len(osm.pois) == len(ref.pois) and len(ref.edges) > 1000


def test_tile_polygons_cover_the_area():
    from shapely.geometry import box
    from shapely.ops import unary_union

    area = box(0, 300_000, 25_000, 310_000).union(box(40_000, 300_000, 41_000, 301_000))
    tiles = pdok_download.tile_polygons(area, 50)
    assert all(t.area <= 50e6 + 1 and len(t.interiors) == 0 for t in tiles)
    assert unary_union(tiles).buffer(0.01).contains(area)


# --- faults: one line each, nothing half-written -------------------------------------------------

def _good_then(cfg, server, pattern, *faults, spec="GM9999"):
    """A good first fetch, then a refresh with faults; returns (error, folder, snapshot before)."""
    res = _fetch(cfg, spec)
    folder = Path(res["folder"])
    snap = _snapshot(folder)
    server.fault(pattern, *faults)
    with pytest.raises(FetchError) as ei:
        _fetch(cfg, spec, refresh=True)
    return str(ei.value), folder, snap


def _unchanged_except_fresh(folder, snap, failed: str):
    """The failed dataset's file is byte-identical, no part files are left, the config is the old one."""
    now = _snapshot(folder)
    man = json.loads(snap["manifest.json"])["datasets"]
    assert now[man[failed]["file"]] == snap[man[failed]["file"]]
    assert now["plekzoeker.yaml"] == snap["plekzoeker.yaml"]
    assert not [n for n in now if ".part-" in n or ".tile" in n]
    assert set(now) == set(snap)


def test_5xx_is_retried_then_succeeds(cfg, server):
    server.fault(r"^/bag/collections/pand/items", "500", "503")
    res = _fetch(cfg, "GM9999")
    assert res["datasets"]["bag"]["pand"] == 2


def test_5xx_every_time_is_one_line_and_cache_untouched(cfg, server):
    msg, folder, snap = _good_then(cfg, server, r"^/bag/collections/pand/items", "503", "503", "503")
    assert msg == f"BAG pand: HTTP 503 from {server.url[7:]}: {{\"detail\": \"busy\"}} after 3 tries"
    assert "\n" not in msg
    _unchanged_except_fresh(folder, snap, "bag")


def test_4xx_is_not_retried(cfg, server):
    n = server.count("/bag/collections/pand/items")
    msg, folder, snap = _good_then(cfg, server, r"^/bag/collections/pand/items", "404", "404", "404")
    assert "refused the request: HTTP 404" in msg
    assert server.faults[r"^/bag/collections/pand/items"] and len(server.faults[r"^/bag/collections/pand/items"]) == 2
    _unchanged_except_fresh(folder, snap, "bag")
    assert server.count("/bag/collections/pand/items") > n


def test_stalled_download_times_out(cfg, server):
    msg, folder, snap = _good_then(cfg, server, r"^/bgt/.*/download$", "stall", "stall", "stall")
    assert "stalled" in msg and "after 3 tries" in msg and msg.startswith("BGT download for GM9999")
    _unchanged_except_fresh(folder, snap, "bgt")


def test_truncated_download(cfg, server):
    msg, folder, snap = _good_then(cfg, server, r"^/brk/.*/download$", "truncate", "truncate", "truncate")
    assert "truncated" in msg or "broke off" in msg, msg
    _unchanged_except_fresh(folder, snap, "brk")


def test_corrupt_zip_is_refused(cfg, server):
    msg, folder, snap = _good_then(cfg, server, r"^/bgt/.*/download$", "corrupt", "corrupt", "corrupt")
    assert "zip" in msg and "after 3 tries" in msg, msg
    _unchanged_except_fresh(folder, snap, "bgt")


def test_unexpected_json(cfg, server):
    msg, folder, snap = _good_then(cfg, server, r"^/bag/collections/verblijfsobject/items", "badjson")
    assert "other than a GeoJSON FeatureCollection" in msg
    _unchanged_except_fresh(folder, snap, "bag")


def test_download_status_failed(cfg, server):
    msg, folder, snap = _good_then(cfg, server, r"^/bgt/full/custom$", "status-failed", "status-failed", "status-failed")
    assert re.fullmatch(r"BGT download for GM9999 \(tile 1/\d+\) failed: status 'FAILED' after 3 tries", msg), msg
    _unchanged_except_fresh(folder, snap, "bgt")


def test_download_status_never_completes(cfg, server):
    msg, folder, snap = _good_then(cfg, server, r"^/brk/full/custom$", "never")
    assert re.fullmatch(r"kadastrale kaart download for GM9999 \(tile 1/\d+\): status still 'RUNNING' after 5 polls "
                        r"\(0 s; fetch.max_polls\)", msg), msg
    _unchanged_except_fresh(folder, snap, "brk")


def test_overpass_failure(cfg, server):
    # osmnx splits a large polygon into several queries: every one of them fails here
    msg, folder, snap = _good_then(cfg, server, r"^/overpass/interpreter$", *["500"] * 100)
    assert re.fullmatch(r"Overpass street network: 127\.0\.0\.1:\d+ answered without an 'elements' list "
                        r"\(\{'detail': 'internal error'\}\) after 3 tries", msg), msg
    _unchanged_except_fresh(folder, snap, "osm")


def test_unreachable_service(cfg, tmp_path):
    cfg = load_config(None, {"fetch": {**cfg["fetch"], "endpoints": {**cfg["fetch"]["endpoints"],
                                                                     "bestuurlijke_gebieden": "http://127.0.0.1:9/bg"}}})
    with pytest.raises(FetchError) as ei:
        _fetch(cfg, "GM9999")
    assert str(ei.value) == "cannot reach 127.0.0.1:9: connection refused (3 tries; municipality boundary)"
    assert not (tmp_path / "data" / "GM9999").exists()


def test_local_bag_gpkg_and_osm_pbf(cfg, server, tmp_path):
    """--bag-gpkg: a bbox read of a local bag-light file; --osm-pbf: a cut of a local extract."""
    first = Path(_fetch(cfg, "GM9999")["folder"])
    national = tmp_path / "national-bag.gpkg"
    national.write_bytes((first / "bag.gpkg").read_bytes())
    cfg2 = load_config(None, {"fetch": {**cfg["fetch"], "cache_dir": str(tmp_path / "other")}})
    n = len(server.log)
    res = _fetch(cfg2, SITES_BBOX, bag_gpkg=national, osm_pbf=DATA / "osm" / "tudelft.osm.pbf")
    folder = Path(res["folder"])
    assert res["datasets"]["bag"] == {"pand": 2, "verblijfsobject": 2}
    assert pyogrio.read_info(folder / "bag.gpkg", layer="pand")["features"] == 2
    from plekzoeker.sources.osm_read import read_osm

    cut = read_osm(folder / "osm.osm.pbf")
    ref = read_osm(DATA / "osm" / "tudelft.osm.pbf")
    assert len(cut.edges) == len(ref.edges)
    assert not [p for _m, p in server.log[n:] if p.startswith(("/bag/", "/overpass/"))]


def test_fetch_settings_are_validated():
    with pytest.raises(ConfigError, match="fetch.endpoints.bgt"):
        load_config(None, {"fetch": {"endpoints": {"bgt": "ftp://x"}}})
    with pytest.raises(ConfigError, match="fetch.retries"):
        load_config(None, {"fetch": {"retries": 0}})
    with pytest.raises(ConfigError, match="fetch.bgt_featuretypes"):
        load_config(None, {"fetch": {"bgt_featuretypes": ["Water'; drop"]}})


def test_merge_keeps_every_member():
    import io

    a = (DATA / "bgt" / "otterlo-bgt.zip").read_bytes()
    z = zipfile.ZipFile(io.BytesIO(a))
    head, members, tail = pdok_download._split_gml(z.read("bgt_waterdeel.gml"))
    assert members.count(b"cityObjectMember>") >= 2 and tail.strip().endswith(b">")


def test_extras_natura2000_and_3dbag_tiles(cfg, server):
    """Natura 2000 from the OGC API, 3DBAG from its tile index: the files the readers load, with the truth."""
    from plekzoeker.sources.bag3d import read_3dbag
    from plekzoeker.sources.natura2000 import read_natura2000

    res = _fetch(cfg, "GM9999")
    folder = Path(res["folder"])
    assert res["datasets"]["natura2000"] == {"features": 1}
    assert res["datasets"]["3dbag"] == {"tiles": 2, "fetched": 2, "panden": 2}  # the third tile lies elsewhere
    n2k = next(read_natura2000(folder / "natura2000.geojson"))
    assert list(n2k["naam"]) == ["Veluwe"] and n2k["identificatie"].iloc[0].startswith("57#")
    assert n2k.geometry.iloc[0].equals_exact(shape(server.natura2000[0]["geometry"]), 1e-6)
    rows = pd.concat(read_3dbag(folder / "3dbag.csv"))
    got = {r.pand_id: (r.h_maaiveld, r.h_dak_70p, r.bouwlagen, r.opp_grond) for r in rows.itertuples()}
    assert got == server.bag3d_truth  # the roof is the highest part's (lod22_2d), one plain and one zipped tile
    man = json.loads((folder / "manifest.json").read_text())["datasets"]
    assert man["3dbag"]["licence"] == "CC BY 4.0" and "3DBAG" in man["3dbag"]["attribution"]
    assert man["natura2000"]["url"].endswith("/n2k/collections/natura2000/items")
    # a refresh reads the index again but not the tiles whose checksum still matches
    n = server.count("/3dbag/tiles/")
    again = _fetch(cfg, "GM9999", refresh=True)
    assert again["datasets"]["3dbag"]["fetched"] == 0 and server.count("/3dbag/tiles/") == n
    # a smaller area meets fewer tiles: the index is cut exactly, not by its bounding box alone
    from plekzoeker.sources.fetch.bag3d_tiles import tiles_in

    first = shape(server.bag["pand"][0]["geometry"])
    assert list(tiles_in(folder / "3dbag-tiles" / "tile_index.fgb", first.buffer(1))["tile_id"]) == ["9/440/728"]
    # extras are optional
    none = _fetch(load_config(None, {"fetch": {**cfg["fetch"], "extras": [], "cache_dir": str(folder.parent / "x")}}),
                  "GM9999")
    assert "3dbag" not in none["datasets"] and "natura2000" not in none["datasets"]
    assert load_config(none["config"])["inputs"]["3dbag"] is None  # the default: no file


def test_3dbag_tile_faults(cfg, server):
    # a tile corrupt in transit once: the checksum catches it, the retry gets a good copy
    server.fault(r"^/3dbag/tiles/9-440", "corrupt")
    assert _fetch(cfg, "GM9999")["datasets"]["3dbag"]["panden"] == 2
    # corrupt every time (a tile not in the cache yet): one line naming 3DBAG and the tile; the old 3dbag.csv
    # and config untouched
    folder = Path(_fetch(cfg, "GM9999")["folder"])
    (folder / "3dbag-tiles" / "9-441-728.gpkg.zip").unlink()
    snap = _snapshot(folder)
    server.fault(r"^/3dbag/tiles/9-441", "corrupt", "corrupt", "corrupt")
    with pytest.raises(FetchError) as ei:
        _fetch(cfg, "GM9999", refresh=True)
    msg = str(ei.value)
    assert msg.startswith("3DBAG tile 9/441/728:") and "checksum" in msg and "\n" not in msg, msg
    _unchanged_except_fresh(folder, snap, "3dbag")
    msg, folder, snap = _good_then(cfg, server, r"^/3dbag/tile_index", "404", "404", "404")
    assert msg.startswith("3DBAG tile index:") and "404" in msg, msg
    _unchanged_except_fresh(folder, snap, "3dbag")


def test_natura2000_fault_is_one_line(cfg, server):
    msg, folder, snap = _good_then(cfg, server, r"^/n2k/", "503", "503", "503")
    assert msg.startswith("Natura 2000: HTTP 503") and "after 3 tries" in msg, msg
    _unchanged_except_fresh(folder, snap, "natura2000")
