"""The publish on the demo town, over two nights: coordinator lists that remember, the changes
report, the map and project files, and owner names only where and when asked for."""
from __future__ import annotations

import csv
import datetime as dt
import json
import stat
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from plekzoeker.outputs.publish import evidence_summary, publish
from plekzoeker.pipelines import stages
from plekzoeker.scoring.detect import run_detect
from plekzoeker.scoring.run import run_score
from plekzoeker.settings import load_config

DAY1, DAY2 = dt.date(2026, 3, 2), dt.date(2026, 3, 3)
LIST = "outreach_GM9999.xlsx"


def nightly(engine, cfg, day: dt.date, ingest: bool = True) -> int:
    """ingest (first night) → detect → score on ``day``; returns the run id."""
    if ingest:
        for kind, path in stages.input_files(cfg).items():
            stages.ingest_one(engine, cfg, kind, path)
    run_id = stages.start_run(engine, "test", {}, cfg)
    run_detect(engine, cfg, run_id, day=day)
    run_score(engine, cfg, run_id)
    return run_id


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(2, 0))


def sheet(path: Path) -> list[dict]:
    ws = load_workbook(path)["candidates"]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def natural_persons(demo_dir: Path) -> dict[str, str]:
    """kadastrale_aanduiding or pand id -> name, for the natural persons in the demo owner export."""
    out = {}
    for r in csv.DictReader((demo_dir / "owners.csv").open(encoding="utf-8")):
        if r["owner_kind"] == "natural_person":
            out[r["kadastrale_aanduiding"] or r["pand_id"] or r["verblijfsobject_id"]] = r["owner_name"]
    return out


def file_texts(d: Path) -> dict[str, str]:
    """Every published file as text; workbooks unzipped (names inside an .xlsx are compressed)."""
    out = {}
    for p in sorted(d.rglob("*")):
        if not p.is_file():
            continue
        if p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as z:
                out[p.name] = "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        else:
            out[p.name] = p.read_bytes().decode("utf-8", "replace")
    return out


def geo_ranks(d: Path) -> dict[str, int]:
    """candidate_key -> rank, read from the GeoJSON files of a publish directory."""
    return {f["properties"]["candidate_key"]: f["properties"]["rank"] for n in ("vacant_buildings", "undeveloped_plots")
            for f in json.loads((d / f"{n}.geojson").read_text())["features"]}


@pytest.fixture
def cfg(demo_dir):
    return load_config(demo_dir / "demo.yaml", {"publish": {"rank_move_threshold": 0}})


def test_outreach_survives_nights_and_changes_are_reported(db, cfg, tmp_path):
    out = tmp_path / "out"
    s1 = publish(db, cfg, out, nightly(db, cfg, DAY1), now=at(DAY1))
    latest = out / "latest"
    for name in ("map.html", "plekzoeker.qgs", "changes.md", "changes.json", "ranks.json", LIST, "outreach_GM9999.csv"):
        assert (latest / name).is_file(), name
    rows = sheet(latest / LIST)
    assert len(rows) == s1["total"] == s1["lists"][LIST]
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert "owner_name" not in rows[0] and all(r["why"] and r["what"] for r in rows)
    geo = {f["properties"]["candidate_key"] for n in ("vacant_buildings", "undeveloped_plots")
           for f in json.loads((latest / f"{n}.geojson").read_text())["features"]}
    assert {r["candidate_key"] for r in rows} == geo
    with (latest / "outreach_GM9999.csv").open(encoding="utf-8-sig") as fh:
        assert [r["candidate_key"] for r in csv.DictReader(fh)] == [r["candidate_key"] for r in rows]
    first = json.loads((latest / "changes.json").read_text())
    assert first["baseline"] is None and len(first["new"]) == s1["total"]

    # the coordinator works the list
    top, declined = rows[0]["candidate_key"], rows[1]["candidate_key"]
    # a building low in the list: the plot its parcel becomes next night ranks above it, so ranks move
    # (with the first building the new plot can take exactly its rank and nothing moves)
    building = next(r for r in reversed(rows[2:-1]) if r["kind"] == "vacant_building")
    gone, gone_rank = building["candidate_key"], building["rank_overall"]
    bad = rows[-1]["candidate_key"]
    wb = load_workbook(latest / LIST)
    ws = wb["candidates"]
    head = [c.value for c in ws[1]]
    col = {h: head.index(h) + 1 for h in ("candidate_key", "outreach_status", "outreach_note")}
    edits = {top: ("Contacted", "called the owner, call back in May"), declined: ("declined", "not for sale"),
             gone: ("In Talks", "meeting 10 March"), bad: ("maybe later", "?")}
    for i in range(2, ws.max_row + 1):
        key = ws.cell(i, col["candidate_key"]).value
        if key in edits:
            ws.cell(i, col["outreach_status"]).value, ws.cell(i, col["outreach_note"]).value = edits[key]
    wb.save(tmp_path / "edited.xlsx")
    from plekzoeker.outputs.outreach import import_outreach

    imp = import_outreach(db, tmp_path / "edited.xlsx")
    assert (imp.inserted, imp.updated, len(imp.rejected)) == (3, 0, 1)
    assert imp.rejected[0][1] == bad and "'maybe later' is not one of" in imp.rejected[0][2]

    # next night the building is gone (units withdrawn from the BAG)
    pand_id = gone.split(":", 1)[1]
    with db.begin() as c:
        c.execute(sa.text("DELETE FROM core.verblijfsobject WHERE :p = ANY(pand_ids)"), {"p": pand_id})
        c.execute(sa.text("DELETE FROM core.pand WHERE identificatie = :p"), {"p": pand_id})
    s2 = publish(db, cfg, out, nightly(db, cfg, DAY2, ingest=False), now=at(DAY2))
    ranks1, ranks2 = geo_ranks(Path(s1["dir"])), geo_ranks(Path(s2["dir"]))
    assert gone in ranks1 and gone not in ranks2
    assert (out / "latest").resolve().name.startswith("2026-03-03") and (out / "2026-03-02").resolve().name.startswith("2026-03-02")
    rows2 = {r["candidate_key"]: r for r in sheet(latest / LIST)}
    order = list(rows2)
    assert rows2[top]["outreach_status"] == "contacted" and rows2[top]["outreach_note"] == "called the owner, call back in May"
    assert rows2[gone]["outreach_status"] == "in talks" and rows2[gone]["gone_since"].date() == DAY2
    assert rows2[gone]["rank"] is None and rows2[gone]["why"] == "no longer found"
    assert order[-1] == declined and order[-2] == gone  # declined sinks below everything; gone ones stay above it
    assert rows2[bad]["outreach_status"] == "new"
    # the changes report agrees with the two nights' GeoJSON files (threshold 0: every move counts)
    changes = json.loads((latest / "changes.json").read_text())
    assert changes["baseline"]["published_at"] == s1["published_at"]
    new_keys = set(ranks2) - set(ranks1)
    assert new_keys and all(k.startswith("perceel:") for k in new_keys)  # the parcel the building stood on is open now
    assert {n["candidate_key"] for n in changes["new"]} == new_keys
    assert [(g["candidate_key"], g["last_rank"], g["gone_since"], g["outreach_status"]) for g in changes["gone"]] == \
        [(gone, gone_rank, DAY2.isoformat(), "in talks")]
    moved = {m["candidate_key"]: (m["previous_rank"], m["rank"]) for m in changes["moved"]}
    assert moved and moved == {k: (ranks1[k], ranks2[k]) for k in set(ranks1) & set(ranks2) if ranks1[k] != ranks2[k]}
    assert s2["changes"] == {"new": len(new_keys), "gone": 1, "moved": len(moved), "baseline": s1["published_at"]}
    assert building["address_or_parcel"] in (latest / "changes.md").read_text()
    props = {f["properties"]["candidate_key"]: f["properties"]
             for f in json.loads((latest / "vacant_buildings.geojson").read_text())["features"]}
    props.update({f["properties"]["candidate_key"]: f["properties"]
                  for f in json.loads((latest / "undeveloped_plots.geojson").read_text())["features"]})
    assert gone not in props and props[top]["outreach_status"] == "contacted"

    # drop instead of sink: declined is gone from the list, the gone-with-a-note row stays
    cfg_drop = {**cfg, "publish": {**cfg["publish"], "outreach_mode": "drop"}}
    publish(db, cfg_drop, out, 99, now=at(DAY2) + dt.timedelta(hours=1))
    keys3 = [r["candidate_key"] for r in sheet(out / "latest" / LIST)]
    assert declined not in keys3 and gone in keys3 and len(keys3) == s2["total"]  # -1 declined, +1 gone


def test_owner_names_only_in_lists_and_only_on_request(db, cfg, demo_dir, tmp_path):
    persons = natural_persons(demo_dir)
    assert persons and all(n.endswith("-Testpersoon") for n in persons.values())
    run_id = nightly(db, cfg, DAY1)
    plain = publish(db, cfg, tmp_path / "plain", run_id, now=at(DAY1))
    d = Path(plain["dir"])
    texts = file_texts(d)
    assert {"map.html", "changes.md", "ranks.json", "summary.json", "plekzoeker.qgs", LIST, "outreach_GM9999.csv",
            "vacant_buildings.geojson", "undeveloped_plots_points.geojson"} <= set(texts)
    leaks = [(n, f) for f, t in texts.items() for n in persons.values() if n in t]
    assert not leaks, leaks
    rows = sheet(d / LIST)
    # owner kinds are there: plots by their kadastrale aanduiding, as in the owner export
    kinds = {r["kadastrale_aanduiding"]: r["owner_kind"].replace("_", " ")
             for r in csv.DictReader((demo_dir / "owners.csv").open(encoding="utf-8")) if r["kadastrale_aanduiding"]}
    plots = [r for r in rows if r["kind"] == "undeveloped_plot"]
    assert plots and all(r["owner_kind"] == kinds[r["address_or_parcel"]] for r in plots)
    owned_by_person = [r for r in rows if r["owner_kind"] == "natural person"]
    assert owned_by_person, "the demo must have a candidate owned by a natural person, or this test proves nothing"

    named = publish(db, cfg, tmp_path / "named", run_id, now=at(DAY1), with_owner_names=True)
    d2 = Path(named["dir"])
    rows2 = sheet(d2 / LIST)
    names = {r["candidate_key"]: r["owner_name"] for r in rows2}
    for r in owned_by_person:
        if r["kind"] == "undeveloped_plot":
            assert names[r["candidate_key"]] == persons[r["address_or_parcel"]]
    assert any(n in persons.values() for n in names.values())
    assert named["owner_names"] is True
    for f in (LIST, "outreach_GM9999.csv"):  # personal data: readable by the publishing user only
        assert stat.S_IMODE((d2 / f).stat().st_mode) == 0o600
    for f, t in file_texts(d2).items():
        if not f.startswith("outreach_"):
            assert not [n for n in persons.values() if n in t], f


def test_publish_failure_leaves_latest_and_no_partial_dir(db, cfg, tmp_path, monkeypatch):
    out = tmp_path / "out"
    run_id = nightly(db, cfg, DAY1)
    publish(db, cfg, out, run_id, now=at(DAY1))
    before = sorted(p.name for p in (out / "runs").iterdir())
    from plekzoeker.outputs import publish as pub

    def boom(*a, **k):
        raise OSError("disk on fire")

    monkeypatch.setattr(pub, "write_project", boom)  # the very last file before summary.json
    with pytest.raises(pub.PublishError, match=f"cannot write the publish into {out}: disk on fire"):
        publish(db, cfg, out, run_id, now=at(DAY2))
    assert sorted(p.name for p in (out / "runs").iterdir()) == before
    assert (out / "latest").resolve().name == before[0]


def test_evidence_in_words_one_part_per_signal():
    ev = [{"unit": "1", "value": "listed since 2022-06-01", "signal": "vacancy_register", "weight": 0.7},
          {"unit": "1", "value": "10.5 kWh/m2", "signal": "low_energy", "weight": 0.3},
          {"unit": "2", "value": "3.7 kWh/m2", "signal": "low_energy", "weight": 0.3},
          {"unit": "2", "value": "listed since 2022-06-01", "signal": "vacancy_register", "weight": 0.7},
          {"unit": "3", "value": "active establishment registered", "signal": "active_establishment", "weight": -0.35}]
    assert evidence_summary("vacant_building", ev) == ("vacancy register since 2022-06-01 (2 units); "
                                                       "low energy use (3.7–10.5 kWh/m²; 2 units); "
                                                       "against: active business registered (1 unit)")
    plot = [{"removed": "osm:natural=water", "area_m2": 749.9}, {"removed": "raster:noise_lden>65", "area_m2": 120},
            {"removed": "narrower than 20 m", "area_m2": 33.0}]
    assert evidence_summary("undeveloped_plot", plot) == ("removed OSM natural=water (750 m²); removed noise lden above 65 "
                                                          "(120 m²); removed parts narrower than 20 m (33 m²)")
    assert evidence_summary("undeveloped_plot", []) == "nothing removed"
