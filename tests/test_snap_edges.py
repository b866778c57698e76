"""Snapping onto the nearest point of the nearest edge (the virtual split), against oracles that share
nothing with scoring/access.py but the reader's edge table:

* a brute-force snap: the distance from each point to the nearest point of *every* edge segment
  (numpy, no spatial index), over the edges of the largest strongly connected component (networkx);
* a networkx router on the real Delft extract: its own split of the snapped edges into two pieces
  (``along`` and ``length - along``; both ways on foot, ``u -> v`` only on a one-way bike edge), one
  multi-source Dijkstra from a super source joined to each POI's foot by its snap offset.
"""
from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from plekzoeker.scoring.access import access_table, build_graph, nearest_distances, snap_to_edges
from plekzoeker.settings import load_config
from plekzoeker.sources.osm import categories_from_config
from plekzoeker.sources.osm_read import read_osm

DELFT = Path(__file__).resolve().parent / "data" / "osm" / "tudelft.osm.pbf"
MAX_SNAP = 250.0


def grid(oneway_row: bool = False):
    """3 x 3 nodes 100 m apart, straight edges of 100 m; optionally the bottom row one-way east for bikes."""
    nodes = pd.DataFrame({"node_id": np.arange(1, 10), "x": [0.0, 100, 200] * 3, "y": [0.0] * 3 + [100.0] * 3 + [200.0] * 3})
    e = [(1 + r * 3 + c, 2 + r * 3 + c) for r in range(3) for c in range(2)] + \
        [(1 + r * 3 + c, 4 + r * 3 + c) for r in range(2) for c in range(3)]
    edges = pd.DataFrame(e, columns=["u", "v"]).assign(length_m=100.0, walk=True, bike=True, oneway_bike=False)
    if oneway_row:
        edges.loc[(edges.u <= 3) & (edges.v <= 3), "oneway_bike"] = True
    return nodes, edges


def test_grid_distances_use_the_foot_on_the_edge():
    g = build_graph(*grid(), mode="walk")
    poi = np.array([[50.0, 5.0]])                               # foot (50, 0), 5 m off
    r = nearest_distances(g, poi, np.array([[30.0, -10.0], [150.0, 95.0], [0.0, 300.0], [100.0, 0.0]]),
                          cap_m=1000, max_snap_m=MAX_SNAP)
    # same edge: 10 + 20 + 5; (150, 95): 5 + 50 + 100 + 50 + 5; (0, 300): 100 + 200 + 50 + 5; on a node: 50 + 5
    assert r.dist_m.tolist() == pytest.approx([35.0, 210.0, 355.0, 55.0])
    node = nearest_distances(g, poi, np.array([[30.0, -10.0]]), cap_m=1000, max_snap_m=MAX_SNAP, snap_to="node")
    assert node.dist_m[0] == pytest.approx(np.hypot(30, 10) + np.hypot(50, 5))   # both to junction (0, 0): 47 m more
    # max_snap_m still applies: 60 m off the nearest street does not snap with a 50 m limit
    far = nearest_distances(g, poi, np.array([[260.0, 50.0]]), cap_m=1000, max_snap_m=50.0)
    assert np.isnan(far.dist_m[0]) and far.reason[0] == "no_snap"


def test_grid_one_way_edge_is_split_one_way():
    g = build_graph(*grid(oneway_row=True), mode="bike")
    kw = dict(cap_m=2000, max_snap_m=MAX_SNAP)
    # on the one-way bottom row (east only): from x=30 to a POI at x=70 ahead: 40 m along it
    assert nearest_distances(g, np.array([[70.0, 0.0]]), np.array([[30.0, 0.0]]), **kw).dist_m[0] == pytest.approx(40)
    # the POI behind (x=30, from x=70): on to (100, 0), up, west, down: 30 + 100 + 100 + 100 + 30
    assert nearest_distances(g, np.array([[30.0, 0.0]]), np.array([[70.0, 0.0]]), **kw).dist_m[0] == pytest.approx(360)
    # several feet on one edge chain in order: the nearest is the next foot ahead
    r = nearest_distances(g, np.array([[20.0, 0.0], [40.0, 0.0], [90.0, 0.0]]), np.array([[10.0, 0.0]]), **kw)
    assert r.dist_m[0] == pytest.approx(10)
    # a foot behind on the one-way row: on to (100, 0), round the block, back along the row: 90 + 300 + 5
    r = nearest_distances(g, np.array([[5.0, 0.0]]), np.array([[10.0, 0.0]]), **kw)
    assert r.dist_m[0] == pytest.approx(90 + 100 + 100 + 100 + 5)


def brute_snap(segs: np.ndarray, seg_edge: np.ndarray, seg_start: np.ndarray, pts: np.ndarray):
    """Per point: (edge, along the polyline, distance) of the nearest point over all segments (numpy)."""
    a, b = segs[:, :2], segs[:, 2:]
    ab = b - a
    ll = (ab ** 2).sum(axis=1)
    out = []
    for p in pts:
        t = np.clip(((p - a) * ab).sum(axis=1) / np.where(ll > 0, ll, 1.0), 0.0, 1.0)
        foot = a + t[:, None] * ab
        d = np.hypot(*(p - foot).T)
        i = int(np.argmin(d))
        d2 = np.partition(d, 1)[1] if len(d) > 1 else np.inf
        out.append((int(seg_edge[i]), float(seg_start[i] + t[i] * np.sqrt(ll[i])), float(d[i]),
                    float(d2 - d[i])))
    return out


@pytest.fixture(scope="module")
def delft():
    return read_osm(DELFT, categories=categories_from_config(load_config()))


def scc_edges(edges: pd.DataFrame, mode: str) -> pd.DataFrame:
    g = nx.DiGraph()
    for u, v, ok, one in edges[["u", "v", mode, "oneway_bike"]].itertuples(index=False):
        if ok and u != v:
            g.add_edge(u, v)
            if not (mode == "bike" and one):
                g.add_edge(v, u)
    big = max(nx.strongly_connected_components(g), key=len)
    return edges[edges[mode] & edges.u.isin(big) & edges.v.isin(big) & (edges.u != edges.v)].reset_index(drop=True)


def segments(e: pd.DataFrame):
    coords = [np.asarray(g.coords) for g in e.geometry]
    segs = np.vstack([np.hstack([c[:-1], c[1:]]) for c in coords])
    seg_edge = np.concatenate([np.full(len(c) - 1, i) for i, c in enumerate(coords)])
    seg_start = np.concatenate([np.r_[0.0, np.cumsum(np.hypot(*np.diff(c, axis=0).T))[:-1]] for c in coords])
    return segs, seg_edge, seg_start


def sample_points(e: pd.DataFrame, n: int, seed: int) -> np.ndarray:
    """Random points up to 300 m (each axis) off random places of random edges: some farther than the snap limit."""
    rng = np.random.default_rng(seed)
    lines = e.geometry.to_numpy()[rng.integers(0, len(e), n)]
    at = shapely.get_coordinates(shapely.line_interpolate_point(lines, rng.uniform(0, 1, n), normalized=True))
    return at + rng.uniform(-300, 300, (n, 2)) * (rng.uniform(0, 1, (n, 1)) < 0.2) + rng.uniform(-40, 40, (n, 2))


@pytest.mark.parametrize("mode", ["walk", "bike"])
def test_snap_matches_brute_force_on_every_edge(delft, mode):
    e = scc_edges(delft.edges, mode)
    g = build_graph(delft.nodes, delft.edges, mode=mode)
    pts = sample_points(e, 200, 5)
    ei, along, dist = snap_to_edges(g, pts, MAX_SNAP)
    segs, seg_edge, seg_start = segments(e)
    ref = brute_snap(segs, seg_edge, seg_start, pts)
    ab = g.node_ids[g.edges.ab]
    n_checked = 0
    for i, (re_, ralong, rd, gap) in enumerate(ref):
        if rd > MAX_SNAP:
            assert ei[i] == -1 and np.isnan(dist[i])
            continue
        assert dist[i] == pytest.approx(rd, abs=1e-6), i
        if gap < 1e-6:
            continue                     # two edges equally near (e.g. the foot on a shared node)
        u, v = e.loc[re_, ["u", "v"]]
        assert set(ab[ei[i]]) == {u, v}, i
        L = e.loc[re_, "length_m"]
        got = along[i] if tuple(ab[ei[i]]) == (u, v) else L - along[i]
        assert got == pytest.approx(ralong, abs=1e-6), i
        n_checked += 1
    assert n_checked > 100


def nx_split_distances(e: pd.DataFrame, mode: str, cands: np.ndarray, pois: np.ndarray, cap: float):
    """The oracle's network distance candidate -> nearest POI with both snapped onto edges (NaN when none)."""
    segs, seg_edge, seg_start = segments(e)
    snap_c = brute_snap(segs, seg_edge, seg_start, cands)
    snap_p = brute_snap(segs, seg_edge, seg_start, pois)
    G = nx.DiGraph()

    def add(a, b, w):
        if not G.has_edge(a, b) or G[a][b]["w"] > w:
            G.add_edge(a, b, w=w)

    feet: dict[int, list] = {}
    for k, (ei, al, d, _) in enumerate(snap_c + snap_p):
        if d <= MAX_SNAP:
            geo_len = e.geometry.iloc[ei].length
            feet.setdefault(ei, []).append((al * e.length_m.iloc[ei] / geo_len if geo_len else 0.0, ("p", k)))
    for i, (u, v, L, one) in enumerate(e[["u", "v", "length_m", "oneway_bike"]].itertuples(index=False)):
        one = bool(one) and mode == "bike"
        chain = [(0.0, u)] + sorted(feet.get(i, []), key=lambda f: f[0]) + [(L, v)]
        for (t0, a), (t1, b) in zip(chain[:-1], chain[1:]):
            add(a, b, t1 - t0)
            if not one:
                add(b, a, t1 - t0)
    nc = len(cands)
    R = G.reverse(copy=True)                       # search POI -> candidate on the reversed graph = to_poi
    for k, (_, _, d, _) in enumerate(snap_p):
        if d <= MAX_SNAP:
            R.add_edge("S", ("p", nc + k), w=d)
    if "S" not in R:
        return np.full(nc, np.nan)
    dist = nx.single_source_dijkstra_path_length(R, "S", cutoff=cap, weight="w")
    out = np.full(nc, np.nan)
    for k, (_, _, d, _) in enumerate(snap_c):
        node = ("p", k)
        if d <= MAX_SNAP and node in dist and dist[node] + d <= cap:
            out[k] = dist[node] + d
    return out


@pytest.mark.parametrize("mode", ["walk", "bike"])
def test_delft_distances_match_networkx_with_its_own_split(delft, mode):
    cfg = load_config()
    e = scc_edges(delft.edges, mode)
    cands_xy = sample_points(e, 25, 11)
    cands = pd.DataFrame({"candidate_key": [f"c{i:02d}" for i in range(len(cands_xy))],
                          "x": cands_xy[:, 0], "y": cands_xy[:, 1]})
    pois = pd.DataFrame({"category": delft.pois["category"], "x": delft.pois.geometry.x, "y": delft.pois.geometry.y})
    cats = {k: {"threshold_m": float(v["threshold_m"]), "cap_m": float(v["cap_m"])}
            for k, v in cfg["access"]["categories"].items()}
    cats["stop"]["cap_m"] = 800.0                     # some candidates beyond the cap
    g = build_graph(delft.nodes, delft.edges, mode=mode)
    t = access_table(g, cands, pois, cats, max_snap_m=MAX_SNAP).set_index(["candidate_key", "category"])
    checked = finite = 0
    for cat, spec in cats.items():
        pxy = pois.loc[pois.category == cat, ["x", "y"]].to_numpy()
        ref = nx_split_distances(e, mode, cands_xy, pxy, spec["cap_m"]) if len(pxy) else np.full(len(cands), np.nan)
        for k, key in enumerate(cands.candidate_key):
            got = t.loc[(key, cat), "dist_m"]
            if np.isnan(ref[k]):
                assert np.isnan(got), (key, cat, got)
            else:
                assert got == pytest.approx(ref[k], abs=1e-6), (key, cat)
                finite += 1
            checked += 1
    assert checked == len(cands) * len(cats) and finite > 40
