"""Scale-out: the nightly flow mapped over areas on a Dask LocalCluster gives the same candidates and
scores as one process; ownership of areas is total and unique; the network buffer makes access exact."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from plekzoeker.scoring.access import access_table, build_graph
from plekzoeker.scoring.graph_gen import grid_graph
from plekzoeker.scoring.partition import (
    Part,
    municipality_parts,
    network_buffer_m,
    owned,
    tile_parts,
)

# --- pure: ownership and the network buffer -------------------------------------------------------


def test_tiles_own_every_point_exactly_once_borders_and_outside_included():
    parts = tile_parts((0.0, 0.0, 100.0, 50.0), 2, 2, buffer_m=10.0)
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-20, 120, 500), [0, 50, 100, 50, -1e6, 1e6, np.nan]])
    y = np.concatenate([rng.uniform(-20, 70, 500), [0, 25, 50, 0, 25, 1e6, 3.0]])
    hits = np.vstack([owned(Part.from_dict(p.to_dict()), None, x, y) for p in parts])
    assert (hits.sum(axis=0) == 1).all()
    # half-open cells: (50, 25) is the first point of tile (1, 1), not of its neighbours
    i = [p.key for p in parts].index("t1x1")
    assert hits[i, 501]
    assert parts[0].read_bbox == (-10.0, -10.0, 60.0, 35.0)


def test_municipality_parts_own_their_code_and_one_part_catches_unknown_codes():
    parts = municipality_parts({"GM0362": (0, 0, 1, 1), "GM0363": (1, 0, 2, 1), None: (5, 5, 6, 6)}, buffer_m=100)
    assert [p.key for p in parts] == ["none", "gm0362", "gm0363"]
    codes = ["GM0362", "GM0363", None, "GM0362"]
    assert owned(parts[1], codes).tolist() == [True, False, False, True]
    assert owned(parts[0], codes).tolist() == [False, False, True, False]
    catch = Part.from_dict({**parts[1].to_dict(), "known": ["GM0362", "GM0363"]})
    assert owned(catch, ["GM0999", "GM0362", "GM0363"]).tolist() == [True, True, False]


def _subgraph(nodes, edges, bbox):
    minx, miny, maxx, maxy = bbox
    keep = nodes[(nodes.x >= minx) & (nodes.x <= maxx) & (nodes.y >= miny) & (nodes.y <= maxy)]
    ids = keep["node_id"].to_numpy()
    return keep, edges[np.isin(edges.u, ids) & np.isin(edges.v, ids)]


def _access(nodes, edges, cands, pois, cats, mode, snap):
    t = access_table(build_graph(nodes, edges, mode=mode), cands, pois, cats, max_snap_m=snap)
    return t.sort_values(["candidate_key", "category"]).reset_index(drop=True)


def test_network_buffer_gives_the_distances_of_the_whole_graph():
    """A 16 km synthetic street grid; candidates in a 3 km core; POIs everywhere. Over the nodes within
    max cap + 3 x snap of the core, every distance, count and reason equals the whole graph's; with a
    buffer that is too small they do not (so this test can fail)."""
    nodes, edges = grid_graph(40_000, spacing_m=80.0, seed=3, origin=(0.0, 0.0))
    rng = np.random.default_rng(4)
    cats = {"stop": {"threshold_m": 400.0, "cap_m": 1200.0}, "gp": {"threshold_m": 1500.0, "cap_m": 2500.0}}
    cfg = {"access": {"modes": ["walk"], "snap_to": "edge", "max_snap_m": 100.0,
                      "categories": {k: {"tags": [], **v} for k, v in cats.items()}}}
    core = (6500.0, 6500.0, 9500.0, 9500.0)
    cands = pd.DataFrame({"candidate_key": [f"c{i}" for i in range(150)],
                          "x": rng.uniform(core[0], core[2], 150), "y": rng.uniform(core[1], core[3], 150)})
    pois = pd.DataFrame({"category": rng.choice(["stop", "gp"], 250, p=[0.8, 0.2]),
                         "x": rng.uniform(0, 16000, 250), "y": rng.uniform(0, 16000, 250)})
    buf = network_buffer_m(cfg)
    assert buf == 2500.0 + 300.0
    read = (core[0] - buf, core[1] - buf, core[2] + buf, core[3] + buf)
    for mode in ("walk", "bike"):
        full = _access(nodes, edges, cands, pois, cats, mode, 100.0)
        sub_nodes, sub_edges = _subgraph(nodes, edges, read)
        assert len(sub_nodes) < len(nodes) / 3
        part = _access(sub_nodes, sub_edges, cands, pois, cats, mode, 100.0)
        assert full["dist_m"].notna().sum() > 100 and (full["reason"] == "beyond_cap").sum() > 0
        pd.testing.assert_frame_equal(part, full)
    small = (core[0] - 300, core[1] - 300, core[2] + 300, core[3] + 300)
    part = _access(*_subgraph(nodes, edges, small), cands, pois, cats, "walk", 100.0)
    full = _access(nodes, edges, cands, pois, cats, "walk", 100.0)
    assert not part["dist_m"].fillna(-1).equals(full["dist_m"].fillna(-1))


# --- the nightly flow on a LocalCluster -------------------------------------------------------------

SNAPSHOTS = {
    "candidate": "SELECT candidate_key, kind, source_ids, municipality, label, area_m2, confidence, evidence, details, "
                 "ST_AsEWKB(geom) AS geom, ST_AsEWKB(access_point) AS access_point FROM result.candidate ORDER BY 1",
    "exclusion": "SELECT candidate_key, kind, reason, details FROM result.exclusion ORDER BY 1",
    "score": "SELECT candidate_key, criteria, subscores, weights, score, rank, rank_municipality, excluded_reason "
             "FROM result.score ORDER BY 1",
    "access": "SELECT candidate_key, mode, category, dist_m, reason FROM result.access ORDER BY 1, 2, 3",
    "history": "SELECT candidate_key, kind, label, first_seen, last_seen, gone_since FROM result.candidate_history ORDER BY 1",
}


def snapshot(engine) -> dict[str, pd.DataFrame]:
    with engine.connect() as conn:
        return {k: pd.read_sql(sa.text(q), conn) for k, q in SNAPSHOTS.items()}


@pytest.fixture(scope="module")
def single_and_scaled(engine, demo_dir, prefect_server, tmp_path_factory):
    from db_helpers import TRUNCATE

    from plekzoeker.pipelines.flows import nightly

    with engine.begin() as conn:
        conn.execute(sa.text(TRUNCATE))
    cfg = str(demo_dir / "demo.yaml")
    out = tmp_path_factory.mktemp("scale-out")
    single = nightly(config_path=cfg, out_dir=str(out / "single"), force=True)
    before = snapshot(engine)
    scaled = nightly(config_path=cfg, out_dir=str(out / "scaled"), force=True,
                     # a detection buffer smaller than the town: each part really reads only its own box
                     dask={"enabled": True, "partition_by": "tiles", "tiles": [2, 2], "n_workers": 2,
                           "detect_buffer_m": 150})
    return single, scaled, before, snapshot(engine)


@pytest.mark.prefect
def test_scaled_run_used_several_areas_on_dask(single_and_scaled, engine):
    single, scaled, _, _ = single_and_scaled
    assert single["scale_out"] is None
    assert scaled["scale_out"]["partition_by"] == "tiles"
    det, sco = scaled["detect"], scaled["score"]
    assert det["parts"] == 4 and sco["parts"] == 4
    # the split is real: candidates come from more than one area in both stages
    assert sum(1 for a in det["areas"] if a["vacant_building"] + a["undeveloped_plot"] > 0) >= 2
    assert sum(1 for a in sco["areas"] if a["candidates"] > 0) >= 2
    assert sum(a["candidates"] for a in sco["areas"]) == sco["scored"] + sco["excluded"]
    assert det["duplicates_dropped"] == 0
    with engine.connect() as conn:  # work tables are gone after the merge
        assert conn.execute(sa.text("SELECT count(*) FROM pg_tables WHERE schemaname = 'raw' "
                                    "AND tablename LIKE 'part\\_%'")).scalar() == 0


@pytest.mark.prefect
def test_scaled_run_gives_the_same_candidates_and_scores(single_and_scaled):
    single, scaled, before, after = single_and_scaled
    assert len(before["candidate"]) == single["detect"]["vacant_building"] + single["detect"]["undeveloped_plot"] > 0
    assert before["score"]["score"].notna().sum() > 0
    for name in SNAPSHOTS:
        pd.testing.assert_frame_equal(after[name], before[name], obj=name)
    assert scaled["publish"]["total"] == single["publish"]["total"]


@pytest.mark.prefect
def test_unchanged_rerun_with_dask_enabled_starts_no_cluster(single_and_scaled, demo_dir, tmp_path):
    from plekzoeker.pipelines.flows import nightly

    res = nightly(config_path=str(demo_dir / "demo.yaml"), out_dir=str(tmp_path),
                  dask={"enabled": True, "partition_by": "tiles"})
    assert res["detect"]["skipped"] is True and res["score"]["skipped"] is True
    assert res["scale_out"] is None
