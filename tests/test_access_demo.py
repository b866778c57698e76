"""Network access on the demo town's OSM against an independent networkx reference; the graph cache.

The reference shares nothing with scoring/access.py but the reader's edge table: it builds its own
networkx graph (walk: every edge both ways; bike: ``oneway_bike`` edges ``u -> v`` only; parallel
edges keep the shortest), keeps the largest strongly connected component, snaps by brute force
(nearest node by straight line, at most ``max_snap_m``) and runs one Dijkstra per candidate.
"""
from __future__ import annotations

import os
import time

import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import pytest
import sqlalchemy as sa

from plekzoeker.scoring.access import BEYOND_CAP, NO_SNAP, access_table, build_graph
from plekzoeker.scoring.graph_cache import cache_path, cached_graph, graph_key, load_graph, save_graph
from plekzoeker.settings import load_config
from plekzoeker.sources.osm_read import read_osm

MAX_SNAP = 250.0


@pytest.fixture(scope="module")
def town(demo_dir):
    """(osm data, 20 candidates: 18 BAG unit points + one next to the town + one far away, categories)."""
    osm = read_osm(demo_dir / "town.osm.pbf")
    units = pyogrio.read_dataframe(demo_dir / "bag.gpkg", layer="verblijfsobject")
    rng = np.random.default_rng(20)
    pick = units.iloc[np.sort(rng.choice(len(units), 18, replace=False))]
    x0, y0, x1, y1 = units.total_bounds
    xy = np.vstack([np.column_stack([pick.geometry.x, pick.geometry.y]), [[x1 + 150, y0 - 100], [x1 + 5000, y1]]])
    cands = pd.DataFrame({"candidate_key": [f"c{i:02d}" for i in range(len(xy))], "x": xy[:, 0], "y": xy[:, 1]})
    cfg = load_config()
    cats = {k: {"threshold_m": float(v["threshold_m"]), "cap_m": float(v["cap_m"])}
            for k, v in cfg["access"]["categories"].items()}
    cats["train_station"] = {"threshold_m": 300.0, "cap_m": 800.0}     # some candidates beyond the cap
    pois = pd.DataFrame({"category": osm.pois["category"].to_numpy(),
                         "x": osm.pois.geometry.x.to_numpy(), "y": osm.pois.geometry.y.to_numpy()})
    return osm, cands, pois, cats


def reference_graph(edges: pd.DataFrame, mode: str) -> nx.DiGraph:
    g = nx.DiGraph()
    for u, v, w, walk, bike, oneway in edges[["u", "v", "length_m", "walk", "bike", "oneway_bike"]].itertuples(index=False):
        if u == v or not (walk if mode == "walk" else bike):
            continue
        pairs = [(u, v)] if (mode == "bike" and oneway) else [(u, v), (v, u)]
        for a, b in pairs:
            if not g.has_edge(a, b) or g[a][b]["w"] > w:
                g.add_edge(a, b, w=float(w))
    return g.subgraph(max(nx.strongly_connected_components(g), key=len)).copy()


def brute_snap(ids: np.ndarray, nxy: np.ndarray, pts: np.ndarray) -> list[tuple[int, float] | None]:
    d = np.hypot(pts[:, None, 0] - nxy[None, :, 0], pts[:, None, 1] - nxy[None, :, 1])
    j = d.argmin(axis=1)
    return [(int(ids[k]), float(d[i, k])) if d[i, k] <= MAX_SNAP else None for i, k in enumerate(j)]


@pytest.mark.parametrize("mode", ["walk", "bike"])
def test_demo_town_matches_networkx(town, mode):
    osm, cands, pois, cats = town
    t = access_table(build_graph(osm.nodes, osm.edges, mode=mode), cands, pois, cats, max_snap_m=MAX_SNAP,
                     snap_to="node")   # the reference snaps to nodes (edge snapping: tests/test_snap_edges.py)
    t = t.set_index(["candidate_key", "category"])
    ref = reference_graph(osm.edges, mode)
    xy_of = osm.nodes.set_index("node_id")[["x", "y"]]
    ids = np.array(list(ref.nodes))
    nxy = xy_of.loc[ids].to_numpy()
    c_snap = brute_snap(ids, nxy, cands[["x", "y"]].to_numpy())
    assert c_snap[-1] is None and c_snap[0] is not None
    checked = beyond = 0
    for cat, spec in cats.items():
        p_snap = [s for s in brute_snap(ids, nxy, pois.loc[pois.category == cat, ["x", "y"]].to_numpy()) if s]
        for key, cs in zip(cands["candidate_key"], c_snap):
            row = t.loc[(key, cat)]
            if cs is None:
                assert row["reason"] == NO_SNAP and np.isnan(row["dist_m"])
                continue
            length = nx.single_source_dijkstra_path_length(ref, cs[0], weight="w")   # candidate -> POI
            totals = np.array([cs[1] + length[n] + ps for n, ps in p_snap if n in length])
            best = totals.min() if len(totals) else np.inf
            if best <= spec["cap_m"]:
                assert abs(row["dist_m"] - best) < 1.0, (key, cat, row["dist_m"], best)
                assert row["reason"] is None
                checked += 1
            else:
                assert np.isnan(row["dist_m"]) and row["reason"] == BEYOND_CAP, (key, cat)
                beyond += 1
    assert checked >= 19 * 6 and beyond >= 1


def test_demo_bike_graph_is_directed(town):
    osm, cands, pois, cats = town
    assert osm.edges["oneway_bike"].any()
    bike = build_graph(osm.nodes, osm.edges, mode="bike")
    assert bike.directed and (bike.csr != bike.csr.T).nnz > 0


# ---- graph cache --------------------------------------------------------------------------------------


def _same_graph(a, b) -> None:
    assert a.mode == b.mode and a.directed == b.directed and a.stats == b.stats
    np.testing.assert_array_equal(a.node_ids, b.node_ids)
    np.testing.assert_array_equal(a.xy, b.xy)
    assert (a.csr != b.csr).nnz == 0 and (a.reverse() != b.reverse()).nnz == 0
    assert a.kdtree.query([a.xy[3]])[1][0] == b.kdtree.query([a.xy[3]])[1][0]


@pytest.mark.parametrize("mode", ["walk", "bike"])
def test_cache_round_trip_gives_the_same_answers(town, tmp_path, mode):
    osm, cands, pois, cats = town
    g = build_graph(osm.nodes, osm.edges, mode=mode)
    path = save_graph(tmp_path, g, "k1")
    assert path == cache_path(tmp_path, mode, "k1") and path.exists()
    assert not list(tmp_path.glob(".*tmp*"))
    back = load_graph(tmp_path, mode, "k1")
    _same_graph(g, back)
    pd.testing.assert_frame_equal(access_table(back, cands, pois, cats, MAX_SNAP), access_table(g, cands, pois, cats, MAX_SNAP))
    assert load_graph(tmp_path, mode, "k2") is None                 # another key: a miss
    assert load_graph(tmp_path, "bike" if mode == "walk" else "walk", "k1") is None


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "wrong_key"])
def test_corrupt_cache_file_is_ignored(town, tmp_path, damage):
    osm = town[0]
    g = build_graph(osm.nodes, osm.edges, mode="walk")
    path = save_graph(tmp_path, g, "k1")
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip":                       # one byte inside the stored arrays: the zip CRC catches it
        i = raw.index(b"xy.npy") + 400
        path.write_bytes(raw[:i] + bytes([raw[i] ^ 0xFF]) + raw[i + 1:])
    elif damage == "garbage":
        path.write_bytes(b"not a cache file")
    else:
        os.replace(path, cache_path(tmp_path, "walk", "k9"))
        path = cache_path(tmp_path, "walk", "k9")
    assert load_graph(tmp_path, "walk", path.stem.rsplit("-", 1)[1]) is None
    assert not path.exists()                      # removed, so the next store replaces it


def test_stale_files_are_removed(town, tmp_path):
    g = build_graph(town[0].nodes, town[0].edges, mode="walk")
    for i, key in enumerate(["k1", "k2", "k3"]):
        save_graph(tmp_path, g, key, keep=2)
        os.utime(cache_path(tmp_path, "walk", key), (time.time() - 100 + i, time.time() - 100 + i))
    bike = build_graph(town[0].nodes, town[0].edges, mode="bike")
    save_graph(tmp_path, bike, "k1", keep=1)
    old_tmp = tmp_path / ".graph-walk-k0.npz.tmp-1"
    old_tmp.write_bytes(b"half")
    os.utime(old_tmp, (time.time() - 7200, time.time() - 7200))
    save_graph(tmp_path, g, "k4", keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph-bike-k1.npz", "graph-walk-k3.npz", "graph-walk-k4.npz"]


def test_cached_graph_keys_on_the_osm_input(db, town, tmp_path):
    osm = town[0]
    builds = []

    def build():
        builds.append(1)
        return build_graph(osm.nodes, osm.edges, mode="walk")

    with db.connect() as conn:
        g, how = cached_graph(conn, "walk", build, tmp_path)
        assert how == "uncached" and not list(tmp_path.iterdir())     # no OSM load recorded: nothing to key on

    def record(sha: str, options: str, status: str = "done"):
        with db.begin() as conn:
            conn.execute(sa.text("INSERT INTO meta.input (kind, path, sha256, size_bytes, options, status) "
                                 "VALUES ('osm', 'town.osm.pbf', :s, 1, CAST(:o AS jsonb), :st)"),
                         {"s": sha, "o": options, "st": status})

    record("a" * 64, '{"area": null}')
    with db.connect() as conn:
        assert cached_graph(conn, "walk", build, tmp_path)[1] == "built"
        g2, how = cached_graph(conn, "walk", build, tmp_path)
        assert how == "cached" and len(builds) == 2
        _same_graph(g, g2)
        key_a = graph_key({"sha256": "a" * 64, "options": {"area": None}}, "walk")
        assert cache_path(tmp_path, "walk", key_a).exists()
    record("b" * 64, '{"area": null}', status="failed")               # a failed load changes nothing
    with db.connect() as conn:
        assert cached_graph(conn, "walk", build, tmp_path)[1] == "cached"
    record("a" * 64, '{"area": {"bbox": [0, 0, 1, 1]}}')               # same file, other options: rebuild
    with db.connect() as conn:
        assert cached_graph(conn, "walk", build, tmp_path)[1] == "built" and len(builds) == 3
    cache_path(tmp_path, "walk", key_a).write_bytes(b"corrupt")
    record("a" * 64, '{"area": null}')                                 # back to the first input, file damaged
    with db.connect() as conn:
        g3, how = cached_graph(conn, "walk", build, tmp_path)
    assert how == "built" and len(builds) == 4
    _same_graph(g, g3)
