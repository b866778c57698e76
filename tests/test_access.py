"""Network access (scoring/access.py): hand-computed answers on a tiny graph, networkx on a generated grid.

No database. The tiny walk graph (lengths in metres, coordinates in RD metres from (0, 0)):

    G(0,200)--50--H(50,200)          island: dropped by the largest strongly connected component

    E(100,100) ------250------ F(300,100)
      |                          |
     100                        100
      |                          |
    A(0,0)--100--B(100,0)--100--C(200,0)--100--D(300,0)

plus two parallel A-B edges (120 and a reversed 150): the minimum, 100, counts.
"""
from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from plekzoeker.scoring.access import ACCESS_COLUMNS, BEYOND_CAP, NO_POI, NO_POI_SNAP, NO_SNAP, access_table, build_graph, nearest_distances, snap
from plekzoeker.scoring.graph_gen import grid_graph

A, B, C, D, E, F, G, H = 1, 2, 3, 4, 5, 6, 7, 8
XY = {A: (0, 0), B: (100, 0), C: (200, 0), D: (300, 0), E: (100, 100), F: (300, 100), G: (0, 200), H: (50, 200)}
MAX_SNAP = 150.0


def _tables(node_xy: dict, rows: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    nodes = pd.DataFrame({"node_id": np.array(list(node_xy), dtype=np.int64),
                          "x": [float(p[0]) for p in node_xy.values()], "y": [float(p[1]) for p in node_xy.values()]})
    edges = pd.DataFrame(rows, columns=["u", "v", "length_m", "walk", "bike", "oneway_bike"]).astype(
        {"u": np.int64, "v": np.int64, "length_m": np.float64, "walk": bool, "bike": bool, "oneway_bike": bool})
    return nodes, edges


def tiny():
    two = (True, True, False)
    return _tables(XY, [(A, B, 100, *two), (A, B, 120, *two), (B, A, 150, *two), (B, C, 100, *two),
                        (C, D, 100, *two), (B, E, 100, *two), (E, F, 250, *two), (D, F, 100, *two),
                        (G, H, 50, *two)])


SE = math.hypot(100, 90)       # candidate (0, 190) -> E: the island G-H is gone
HE = math.hypot(50, 100)       # pharmacy at H (50, 200) -> E

CANDS = pd.DataFrame({"candidate_key": ["a", "g", "f", "far"],
                      "x": [0.0, 0.0, 300.0, 1000.0], "y": [-10.0, 190.0, 110.0, 1000.0]})
POIS = pd.DataFrame({"category": ["supermarket", "pharmacy", "school", "park",
                                  "stop", "stop", "stop", "stop", "stop", "stop"],
                     "x": [300.0, 50.0, 300.0, 5000.0, 0.0, 100.0, 200.0, 100.0, 300.0, 5000.0],
                     "y": [-5.0, 200.0, 100.0, 5000.0, 5.0, -5.0, 0.0, 100.0, 0.0, 5000.0]})
CATS = {"supermarket": {"threshold_m": 1000.0, "cap_m": 3000.0},
        "pharmacy": {"threshold_m": 1000.0, "cap_m": 3000.0},
        "school": {"threshold_m": 100.0, "cap_m": 200.0},
        "gp": {"threshold_m": 1000.0, "cap_m": 3000.0},
        "park": {"threshold_m": 500.0, "cap_m": 2000.0},
        "stop": {"threshold_m": 400.0, "cap_m": 1200.0}}

# (candidate, category) -> (dist_m or None, reason)
EXPECTED = {
    ("a", "supermarket"): (10 + 300 + 5, None),
    ("a", "pharmacy"): (10 + 200 + HE, None),
    ("a", "school"): (None, BEYOND_CAP),          # 10 + 400 > 200
    ("a", "gp"): (None, NO_POI),
    ("a", "park"): (None, NO_POI_SNAP),
    ("a", "stop"): (10 + 0 + 5, None),
    ("g", "supermarket"): (SE + 300 + 5, None),   # E-B-C-D 300 beats E-F-D 350
    ("g", "pharmacy"): (SE + 0 + HE, None),
    ("g", "school"): (None, BEYOND_CAP),          # SE + 250 > 200
    ("g", "stop"): (SE, None),
    ("f", "supermarket"): (10 + 100 + 5, None),
    ("f", "school"): (10.0, None),                # POI exactly on F: zero-weight super-source edge
    ("f", "stop"): (10 + 100, None),
    ("far", "supermarket"): (None, NO_SNAP),
    ("far", "stop"): (None, NO_SNAP),
    ("far", "gp"): (None, NO_POI),                # no POI at all comes first
    ("far", "park"): (None, NO_SNAP),
}


def test_build_graph_tiny():
    g = build_graph(*tiny(), mode="walk")
    assert sorted(g.node_ids.tolist()) == [A, B, C, D, E, F]          # island dropped
    assert g.stats["dropped_nodes"] == 2
    i = {int(n): k for k, n in enumerate(g.node_ids)}
    assert g.csr[i[A], i[B]] == 100 and g.csr[i[B], i[A]] == 100      # parallel edges: the minimum, both ways
    assert g.csr[i[E], i[F]] == 250 and g.csr.nnz == 2 * 6
    np.testing.assert_allclose(g.xy[i[E]], XY[E])


def test_build_graph_drops_bad_edges():
    nodes, edges = tiny()
    extra = pd.DataFrame({"u": [A, A, 99, C], "v": [A, 98, B, D], "length_m": [5.0, 5.0, 5.0, np.nan],
                          "walk": True, "bike": True, "oneway_bike": False})
    g = build_graph(nodes, pd.concat([edges, extra], ignore_index=True), mode="walk")
    assert g.stats["dropped_edges"] == 4
    assert g.n_nodes == 6


def test_snap():
    g = build_graph(*tiny(), mode="walk")
    idx, d = snap(g, np.array([[0.0, -10.0], [0.0, 190.0], [1000.0, 1000.0], [np.nan, 0.0]]), MAX_SNAP)
    assert g.node_ids[idx[0]] == A and d[0] == pytest.approx(10)
    assert g.node_ids[idx[1]] == E and d[1] == pytest.approx(SE)     # not the dropped G
    assert idx[2] == -1 and np.isnan(d[2])
    assert idx[3] == -1 and np.isnan(d[3])


def test_access_table_tiny_hand_computed():
    g = build_graph(*tiny(), mode="walk")
    t = access_table(g, CANDS, POIS, CATS, max_snap_m=MAX_SNAP)
    assert list(t.columns) == list(ACCESS_COLUMNS)
    assert len(t) == len(CANDS) * len(CATS)
    assert (t["mode"] == "walk").all()
    got = t.set_index(["candidate_key", "category"])
    for (key, cat), (dist, reason) in EXPECTED.items():
        row = got.loc[(key, cat)]
        if dist is None:
            assert np.isnan(row["dist_m"]), (key, cat)
        else:
            assert row["dist_m"] == pytest.approx(dist, abs=1e-6), (key, cat)
        assert row["reason"] == reason, (key, cat)
    # never 0 for unreachable: a distance is present exactly when there is no reason
    assert (t["dist_m"].isna() == t["reason"].notna()).all()
    assert (t["dist_m"].dropna() > 0).all()


def test_nearest_distances_reasons():
    g = build_graph(*tiny(), mode="walk")
    stops = POIS.loc[POIS.category == "stop", ["x", "y"]].to_numpy()
    r = nearest_distances(g, stops, CANDS[["x", "y"]].to_numpy(), cap_m=1200, max_snap_m=MAX_SNAP)
    np.testing.assert_allclose(r.dist_m[:3], [15, SE, 110])
    assert r.reason.tolist() == [None, None, None, NO_SNAP]
    # the cap includes both snap distances: 15 m from "a" to the stop on A, 14.99 is not enough
    r = nearest_distances(g, stops, CANDS[["x", "y"]].to_numpy()[:1], cap_m=14.99, max_snap_m=MAX_SNAP)
    assert r.reason.tolist() == [BEYOND_CAP] and np.isnan(r.dist_m[0])
    r = nearest_distances(g, np.empty((0, 2)), CANDS[["x", "y"]].to_numpy(), cap_m=1200, max_snap_m=MAX_SNAP)
    assert r.reason.tolist() == [NO_POI] * 4


# ---- bike one-way ---------------------------------------------------------------------------------
#   P3(0,100) ---100--- P2(100,100)
#      |                   |
#     100                 100
#      |                   |
#   P0(0,0) ---100-->-- P1(100,0) -->--100-- Q(200,0)      P0->P1 and P1->Q one-way for bikes
P0, P1, P2, P3, Q = 11, 12, 13, 14, 15


def square():
    xy = {P0: (0, 0), P1: (100, 0), P2: (100, 100), P3: (0, 100), Q: (200, 0)}
    return _tables(xy, [(P0, P1, 100, True, True, True), (P1, P2, 100, True, True, False),
                        (P2, P3, 100, True, True, False), (P3, P0, 100, True, True, False),
                        (P1, Q, 100, True, True, True)])


def test_bike_oneway_both_directions():
    nodes, edges = square()
    bike, walk = build_graph(nodes, edges, mode="bike"), build_graph(nodes, edges, mode="walk")
    assert sorted(bike.node_ids.tolist()) == [P0, P1, P2, P3]      # Q: one-way dead end, cannot ride back
    assert sorted(walk.node_ids.tolist()) == [P0, P1, P2, P3, Q]
    at_p0, at_p1 = np.array([[0.0, -1.0]]), np.array([[100.0, -1.0]])
    kw = {"cap_m": 1000.0, "max_snap_m": 50.0}
    # candidate at P0, POI at P1: along the one-way
    assert nearest_distances(bike, at_p1, at_p0, **kw).dist_m[0] == pytest.approx(1 + 100 + 1)
    # candidate at P1, POI at P0: the forbidden direction, round the block
    assert nearest_distances(bike, at_p0, at_p1, **kw).dist_m[0] == pytest.approx(1 + 300 + 1)
    # from_poi reverses the travel direction
    assert nearest_distances(bike, at_p1, at_p0, direction="from_poi", **kw).dist_m[0] == pytest.approx(302)
    assert nearest_distances(bike, at_p0, at_p1, direction="from_poi", **kw).dist_m[0] == pytest.approx(102)
    # walking ignores one-way
    assert nearest_distances(walk, at_p1, at_p0, **kw).dist_m[0] == pytest.approx(102)
    assert nearest_distances(walk, at_p0, at_p1, **kw).dist_m[0] == pytest.approx(102)
    with pytest.raises(ValueError):
        nearest_distances(bike, at_p1, at_p0, direction="sideways", **kw)


def test_empty_graph_gives_no_snap():
    nodes, edges = square()
    g = build_graph(nodes, edges.assign(bike=False), mode="bike")
    assert g.n_nodes == 0
    t = access_table(g, CANDS, POIS, CATS, max_snap_m=MAX_SNAP)
    assert t.loc[t.category == "stop", "reason"].eq(NO_SNAP).all()
    assert t["dist_m"].isna().all()


# ---- generated grid vs networkx ---------------------------------------------------------------------


def test_grid_graph_shape():
    nodes, edges = grid_graph(5000, seed=3)
    assert abs(len(nodes) - 5000) < 150
    assert nodes["node_id"].is_unique and nodes["node_id"].dtype == np.int64
    assert list(edges.columns) == ["u", "v", "length_m", "walk", "bike", "oneway_bike"]
    xy = nodes.set_index("node_id")[["x", "y"]]
    chord = np.hypot(*(xy.loc[edges.u].to_numpy() - xy.loc[edges.v].to_numpy()).T)
    assert (edges["length_m"].to_numpy() >= chord - 1e-9).all()
    assert edges["oneway_bike"].any() and (~edges["walk"]).any() and (~edges["bike"]).any()
    assert not (edges["oneway_bike"] & ~edges["bike"]).any()


def _nx_graph(nodes: pd.DataFrame, edges: pd.DataFrame, mode: str) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for u, v, w, walk, bike, oneway in edges.itertuples(index=False):
        if not (walk if mode == "walk" else bike) or u == v:
            continue
        g.add_edge(u, v, weight=w)
        if mode == "walk" or not oneway:
            g.add_edge(v, u, weight=w)
    return g.subgraph(max(nx.strongly_connected_components(g), key=len)).copy()


def _nx_snap(g: nx.MultiDiGraph, xy_of: dict, pts: np.ndarray, max_snap: float):
    ids = np.array(list(g.nodes))
    nxy = np.array([xy_of[i] for i in ids])
    d = np.hypot(pts[:, None, 0] - nxy[None, :, 0], pts[:, None, 1] - nxy[None, :, 1])
    j = d.argmin(axis=1)
    dd = d[np.arange(len(pts)), j]
    return [(int(ids[k]), float(s)) if s <= max_snap else None for k, s in zip(j, dd)]


def _check_against_networkx(nodes, edges, mode, direction, cands, pois, cats, max_snap) -> int:
    """access_table vs an independent networkx reference (``cats``: name -> cap_m); returns #distances checked."""
    g = build_graph(nodes, edges, mode=mode)
    t = access_table(g, cands, pois, {k: {"threshold_m": cap, "cap_m": cap} for k, cap in cats.items()},
                     max_snap_m=max_snap, direction=direction,
                     snap_to="node").set_index(["candidate_key", "category"])   # the reference snaps to nodes
    ref = _nx_graph(nodes, edges, mode)
    assert set(ref.nodes) == set(g.node_ids.tolist())
    if direction == "from_poi":
        ref = ref.reverse(copy=False)        # travel POI -> candidate: search from the candidate on the reverse
    xy_of = dict(zip(nodes.node_id, zip(nodes.x, nodes.y)))
    c_snap = _nx_snap(ref, xy_of, cands[["x", "y"]].to_numpy(), max_snap)
    n_checked = 0
    for cat, cap in cats.items():
        p_snap = [s for s in _nx_snap(ref, xy_of, pois.loc[pois.category == cat, ["x", "y"]].to_numpy(), max_snap) if s]
        for key, cs in zip(cands["candidate_key"], c_snap):
            row = t.loc[(key, cat)]
            if cs is None:
                assert row["reason"] == NO_SNAP and np.isnan(row["dist_m"])
                continue
            lengths = nx.single_source_dijkstra_path_length(ref, cs[0], cutoff=cap, weight="weight")
            totals = np.array([cs[1] + lengths[pn] + ps for pn, ps in p_snap if pn in lengths])
            best = totals.min() if len(totals) else np.inf
            if best <= cap:
                assert row["reason"] is None and abs(row["dist_m"] - best) < 1e-6, (key, cat)
                n_checked += 1
            else:
                assert np.isnan(row["dist_m"]) and row["reason"] == BEYOND_CAP, (key, cat)
    return n_checked


@pytest.mark.parametrize("mode,direction,shrink", [("walk", "to_poi", False), ("bike", "to_poi", False),
                                                   ("bike", "from_poi", False), ("walk", "to_poi", True)])
def test_grid_matches_networkx(mode, direction, shrink):
    """20 random candidates x 3 categories on a ~5,000-node grid; distances to 1e-6 m.

    The reference searches from each candidate with networkx and adds both snap distances by hand.
    ``shrink``: a third of the edges get lengths below the straight line (down to 0.4x); the answers
    must not change.
    """
    nodes, edges = grid_graph(5000, seed=7)
    rng = np.random.default_rng(11)
    if shrink:
        f = np.where(rng.random(len(edges)) < 0.33, rng.uniform(0.4, 1.0, len(edges)), 1.0)
        edges = edges.assign(length_m=edges["length_m"] * f)
    x0, x1, y0, y1 = nodes.x.min(), nodes.x.max(), nodes.y.min(), nodes.y.max()
    cxy = np.column_stack([rng.uniform(x0, x1, 20), rng.uniform(y0, y1, 20)])
    cxy[-1] = (x1 + 500, y1 + 500)                                 # too far from the graph
    cats = {"stop": (60, 1200.0, 400.0), "supermarket": (12, 3000.0, 1000.0), "train_station": (3, 2000.0, 1500.0)}
    pois = []
    for cat, (n, _, _) in cats.items():
        pxy = np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
        pxy[0] = (x0 - 400, y0 - 400)                              # a POI that does not snap
        pois.append(pd.DataFrame({"category": cat, "x": pxy[:, 0], "y": pxy[:, 1]}))
    cands = pd.DataFrame({"candidate_key": [f"c{i}" for i in range(len(cxy))], "x": cxy[:, 0], "y": cxy[:, 1]})
    n_checked = _check_against_networkx(nodes, edges, mode, direction, cands, pd.concat(pois, ignore_index=True),
                                        {k: cap for k, (_, cap, _) in cats.items()}, max_snap=60.0)
    assert n_checked >= 30


def test_zero_length_edge_between_distant_nodes():
    """A 0 m edge between nodes 100 m apart (shorter than any straight-line bound): distances still exact."""
    nodes, edges = tiny()
    extra = pd.DataFrame({"u": [C], "v": [F], "length_m": [0.0], "walk": True, "bike": True, "oneway_bike": False})
    edges = pd.concat([edges, extra], ignore_index=True)
    n_checked = _check_against_networkx(nodes, edges, "walk", "to_poi", CANDS, POIS, {"stop": 1200.0, "school": 200.0},
                                        MAX_SNAP)
    assert n_checked == 4
    t = access_table(build_graph(nodes, edges), CANDS, POIS, {"school": {"threshold_m": 150.0, "cap_m": 500.0}}, MAX_SNAP)
    assert t.set_index("candidate_key").loc["a", "dist_m"] == pytest.approx(10 + 200 + 0)   # A-B-C, C-F free


def test_grid_multi_source_networkx_walk():
    """POIs exactly on nodes (snap 0): the super-source run equals networkx's multi-source Dijkstra."""
    nodes, edges = grid_graph(5000, seed=5)
    g = build_graph(nodes, edges, mode="walk")
    rng = np.random.default_rng(4)
    poi_nodes = rng.choice(g.node_ids, 25, replace=False)
    cand_nodes = rng.choice(g.node_ids, 20, replace=False)
    xy_of = dict(zip(nodes.node_id, zip(nodes.x, nodes.y)))
    r = nearest_distances(g, np.array([xy_of[n] for n in poi_nodes]), np.array([xy_of[n] for n in cand_nodes]),
                          cap_m=1e9, max_snap_m=1.0)
    ref = nx.multi_source_dijkstra_path_length(_nx_graph(nodes, edges, "walk"), set(poi_nodes.tolist()))
    np.testing.assert_allclose(r.dist_m, [ref[n] for n in cand_nodes], atol=1e-6)


@pytest.mark.parametrize("mode,direction,seed", [("walk", "to_poi", 1), ("bike", "to_poi", 2), ("bike", "from_poi", 3),
                                                 ("walk", "to_poi", 4)])
def test_distances_match_brute_force(mode, direction, seed):
    """Nearest distances against all-pairs Dijkstra on random grids: dense POIs (POIs sharing a node,
    POIs whose own node is nearer another POI, candidates on POIs), edges shorter than the straight
    line (seed 4)."""
    from scipy.sparse.csgraph import dijkstra

    rng = np.random.default_rng(seed)
    nodes, edges = grid_graph(1500, seed=seed)
    if seed == 4:
        f = np.where(rng.random(len(edges)) < 0.3, rng.uniform(0.5, 1.0, len(edges)), 1.0)
        edges = edges.assign(length_m=edges["length_m"] * f)
    g = build_graph(nodes, edges, mode=mode)
    x0, y0 = g.xy.min(axis=0)
    x1, y1 = g.xy.max(axis=0)
    cxy = np.column_stack([rng.uniform(x0, x1, 150), rng.uniform(y0, y1, 150)])
    pxy = np.column_stack([rng.uniform(x0, x1, 90), rng.uniform(y0, y1, 90)])
    pxy[:10] = pxy[10:20] + rng.normal(0, 3, (10, 2))            # POIs (nearly) on top of each other
    pxy[20:25] = pxy[25:30]                                       # exact duplicates
    cxy[:10] = pxy[30:40]                                          # candidates on POIs
    cats = {"a": {"threshold_m": 400.0, "cap_m": 900.0}, "b": {"threshold_m": 250.0, "cap_m": 200.0}}
    pois = pd.DataFrame({"category": np.where(np.arange(90) % 3 == 0, "b", "a"), "x": pxy[:, 0], "y": pxy[:, 1]})
    cands = pd.DataFrame({"candidate_key": [f"c{i}" for i in range(len(cxy))], "x": cxy[:, 0], "y": cxy[:, 1]})
    t = access_table(g, cands, pois, cats, max_snap_m=60.0, direction=direction, snap_to="node")  # as the brute force
    t = t.set_index(["candidate_key", "category"])

    csr = g.csr if direction == "to_poi" else g.reverse()          # candidate -> POI travel
    c_node, c_snap = snap(g, cxy, 60.0)
    p_node, p_snap = snap(g, pxy, 60.0)
    ok = c_node >= 0
    d = dijkstra(csr, directed=True, indices=c_node[ok])           # all pairs from the candidates
    for cat, spec in cats.items():
        m = (pois["category"].to_numpy() == cat) & (p_node >= 0)
        tot = c_snap[ok][:, None] + d[:, p_node[m]] + p_snap[m][None, :]
        best = tot.min(axis=1)
        got = t.xs(cat, level="category").loc[cands["candidate_key"][ok]]
        within = best <= spec["cap_m"]
        assert within.sum() >= 10, cat
        np.testing.assert_allclose(got["dist_m"].to_numpy()[within], best[within], rtol=1e-12)
        assert got["dist_m"].isna().to_numpy()[~within].all()
