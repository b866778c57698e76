"""End to end on the generated demo town: ingest → detect → score → publish, checked against the planted truth."""
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from db_helpers import detect_and_score
from geojson_checks import check_rfc7946

from plekzoeker.outputs.publish import publish


@pytest.fixture(scope="module")
def demo_run(engine, demo_dir, tmp_path_factory):
    """Run all stages once on the demo town; return (cfg, out_dir, summary)."""
    cfg, run_id, det = detect_and_score(engine, demo_dir / "demo.yaml", reset=True)
    out = tmp_path_factory.mktemp("out")
    summary = publish(engine, cfg, out, run_id)
    return cfg, out, summary, det


def manifest(demo_dir: Path) -> dict:
    return json.loads((demo_dir / "manifest.json").read_text())


def test_counts_match_the_files(engine, demo_run, demo_dir):
    m = manifest(demo_dir)
    with engine.connect() as c:
        n = {t: c.execute(sa.text(f"SELECT count(*) FROM core.{t}")).scalar() for t in ("pand", "verblijfsobject", "perceel")}
    assert n["pand"] == m["counts"]["panden"]
    assert n["verblijfsobject"] == m["counts"]["verblijfsobjecten"]
    assert n["perceel"] == m["counts"]["percelen"]


def test_geojson_valid_ranked_nonempty(demo_run):
    _, out, summary, _ = demo_run
    latest = out / "latest"
    assert latest.is_symlink()
    ranks = []
    for name in ("vacant_buildings", "undeveloped_plots"):
        fc = check_rfc7946(latest / f"{name}.geojson")
        assert fc["features"], f"{name} is empty"
        r = [f["properties"]["rank"] for f in fc["features"]]
        assert r == sorted(r)
        ranks += r
        assert (latest / f"{name}.qml").exists()
        pts = check_rfc7946(latest / f"{name}_points.geojson")
        assert len(pts["features"]) == len(fc["features"])
        props = fc["features"][0]["properties"]
        for key in ("rank", "score", "kind", "label", "municipality", "area_m2", "dist_stop_m", "score_stop",
                    "first_seen", "outreach_status"):
            assert key in props
    assert sorted(ranks) == list(range(1, len(ranks) + 1))
    assert summary["total"] == len(ranks)


def test_planted_vacant_buildings_found(demo_run, engine, demo_dir):
    m = manifest(demo_dir)
    expected = {b["pand_id"] for b in m["vacant_buildings"] if b["expected"] == "candidate"}
    with engine.connect() as c:
        found = {r[0].split(":", 1)[1] for r in c.execute(sa.text(
            "SELECT candidate_key FROM result.candidate WHERE kind = 'vacant_building' "
            "AND NOT coalesce((details->>'offered')::boolean, false)"))}  # offered places are not detected
        excluded = {r[0].split(":", 1)[1]: r[1] for r in c.execute(sa.text("SELECT candidate_key, reason FROM result.exclusion"))}
    assert found == expected  # precision and recall 1.0
    for b in m["vacant_buildings"]:
        if b["expected"].startswith("excluded"):
            assert b["pand_id"] in excluded


def test_planted_plots_found(demo_run, engine, demo_dir):
    m = manifest(demo_dir)
    expected = {p["kadastrale_aanduiding"] for p in m["plots"] if p["expected"] == "usable"} - set(m["facts"]["excluded_plots"])
    with engine.connect() as c:
        found = {r[0] for r in c.execute(sa.text("SELECT label FROM result.candidate WHERE kind = 'undeveloped_plot' "
                                                     "AND NOT coalesce((details->>'offered')::boolean, false)"))}
    assert found == expected


def test_distances_present_and_never_zero_for_unreachable(demo_run, engine):
    with engine.connect() as c:
        rows = c.execute(sa.text("SELECT dist_m, reason FROM result.access")).all()
    assert rows
    assert all((d is None) == (r is not None) for d, r in rows)


def test_coverage_in_summary_and_about_sheet(demo_run, demo_dir):
    """Every category has data in the demo; the per-mode, per-category counts are in summary.json and
    on the lists' 'about' sheet."""
    from openpyxl import load_workbook

    cfg, out, summary, _ = demo_run
    on_disk = json.loads((out / "latest" / "summary.json").read_text())
    cov = on_disk["coverage"]
    m = manifest(demo_dir)
    assert on_disk["no_data"] == []
    assert {k: v["pois"] for k, v in cov["categories"].items()} == {k: m["pois"].get(k, 0) for k in cfg["access"]["categories"]}
    assert set(cov["modes"]) == {"walk", "bike"}
    for mode, mc in cov["modes"].items():
        assert mc["edges"] > 0 and mc["max_snap_m"] == 250
        for cat, c in mc["categories"].items():
            assert c["snapped"] + c["too_far"] == c["pois"] == cov["categories"][cat]["pois"], (mode, cat)
    wb = load_workbook(next((out / "latest").glob("outreach_*.xlsx")))
    about = [r[0] for r in wb["about"].iter_rows(values_only=True) if r and r[0]]
    assert "Data coverage of this run:" in about
    assert any(line.startswith("POIs per category") and "stop " in line for line in about)
    assert any(line.startswith("walk: ") and "snapped" in line for line in about)


def test_ranking_in_the_demo_outputs(demo_run, demo_dir):
    """Issue 19: the offers' planted truth, the ranking's properties, three colour classes, no contact anywhere."""
    from openpyxl import load_workbook

    _, out, summary, _ = demo_run
    m = manifest(demo_dir)
    latest = out / "latest"
    feats = [f["properties"] for n in ("vacant_buildings", "undeveloped_plots")
             for f in json.loads((latest / f"{n}.geojson").read_text())["features"]]
    by_key = {p["candidate_key"]: p for p in feats}
    offered = {m["offers"][k] for k in ("matched", "building", "parcel")}
    assert {k for k, p in by_key.items() if p["offered"]} == offered and m["offers"]["expired"] not in by_key
    assert sorted(by_key[k]["rank"] for k in offered) == [1, 2, 3]
    for p in feats:
        for key in ("people_low", "people_high", "homes_low", "homes_high", "flags", "owner_priority", "profile",
                    "rank_range", "score_relative"):
            assert key in p, key
        assert p["profile"] == "GM9999" and p["people_low"] <= p["people_high"]
    assert len({min(int(p["score_relative"] * 5), 4) for p in feats}) >= 3
    wb = load_workbook(latest / "outreach_GM9999.xlsx", read_only=True)
    head = next(wb["candidates"].iter_rows(values_only=True))
    assert {"capacity", "vetoes", "flags", "owner_priority", "owner_group", "profile", "rank_range"} <= set(head)
    assert "by owner" in wb.sheetnames
    gm = summary["municipalities"]["GM9999"]
    assert gm["demand"]["people"] == 100 and gm["people_high"] == sum(p["people_high"] for p in feats)
    for f in latest.iterdir():
        if f.is_file():
            text = f.read_bytes().decode("utf-8", "ignore")
            assert not any(c.split(",")[0] in text for c in m["offers"]["contacts"]), f.name
