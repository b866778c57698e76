"""End to end on real files: ``fetch`` (local stand-in of PDOK/Overpass) → ``nightly`` → publish.

The area is the box over the three real sample sites (Delft OSM, Otterlo BGT + kadastrale kaart,
Doesburg LVBAG; see tests/fetch_server.py). The published plots are checked against the real
parcel GML: each is a real perceel, lies inside it, and keeps clear of the real BGT water.
"""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import sqlalchemy as sa
from fetch_server import FetchServer

from plekzoeker.settings import load_config

DATA = Path(__file__).parent / "data"
pytestmark = pytest.mark.prefect


def test_fetch_then_nightly_publishes_real_parcels(engine, prefect_server, tmp_path):
    from db_helpers import TRUNCATE

    from plekzoeker.pipelines.flows import nightly
    from plekzoeker.sources.bgt_read import read_bgt
    from plekzoeker.sources.brk_read import read_perceel

    srv = FetchServer().start()
    try:
        base = tmp_path / "base.yaml"
        base.write_text(json.dumps({"fetch": {"endpoints": srv.endpoints(), "cache_dir": str(tmp_path / "data"),
                                              "timeout_s": 5, "backoff_s": 0, "max_backoff_s": 0, "poll_interval_s": 0,
                                              "max_request_km2": 400}}))
        with engine.begin() as conn:
            conn.execute(sa.text(TRUNCATE))
        res = nightly(config_path=str(base), out_dir=str(tmp_path / "out"), fetch="70000,436000,208000,460000")
    finally:
        srv.stop()
    assert res["fetch"]["config"].endswith("plekzoeker.yaml")
    latest = tmp_path / "out" / "latest"
    summary = json.loads((latest / "summary.json").read_text())
    assert {s["dataset"] for s in summary["sources"]} == {"boundary", "bag", "brk", "bgt", "osm", "natura2000", "3dbag"}
    with engine.connect() as conn:  # the extras were loaded by the nightly run: 3DBAG for both real panden, one site
        pand_3d = dict(conn.execute(sa.text("SELECT pand_id, bouwlagen FROM core.pand_3d")).all())
        sites = conn.execute(sa.text("SELECT naam FROM core.protected_area")).scalars().all()
    assert pand_3d == {pid: t[2] for pid, t in srv.bag3d_truth.items()} and sites == ["Veluwe"]
    assert {s["licence"] for s in summary["sources"]} >= {"ODbL 1.0", "CC0 1.0", "CC BY 4.0"}
    plots = gpd.read_file(latest / "undeveloped_plots.geojson").to_crs(28992)
    assert len(plots) >= 1
    real = pd.concat(read_perceel(DATA / "brk" / "kadastralekaart_perceel.gml"))
    by_key = {f"perceel:{a}": g for a, g in zip(real.kadastrale_aanduiding, real.geometry)}
    water = pd.concat(read_bgt(DATA / "bgt" / "otterlo-bgt.zip", layers=("waterdeel",))).union_all()
    for r in plots.itertuples():
        assert r.candidate_key in by_key, r.candidate_key
        parcel = by_key[r.candidate_key]
        assert parcel.buffer(1.0).contains(r.geometry)
        assert r.geometry.intersection(water).area < 1.0
        assert r.area_m2 <= parcel.area + 1.0
    cfg = load_config(res["fetch"]["config"])
    assert Path(cfg["area"]["polygon"]).exists()
