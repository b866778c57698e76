"""Coordinator lists and outreach status: words, ordering, reading edits back, the import and the CLI."""
from __future__ import annotations

import csv
import datetime as dt
import json

import pandas as pd
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from typer.testing import CliRunner

from plekzoeker.errors import ConfigError, OutreachError
from plekzoeker.outputs import changes as chg
from plekzoeker.outputs import outreach
from plekzoeker.outputs.outreach import ListOptions

WEIGHTS = {"stop": 2.0, "supermarket": 1.5, "gp": 1.0, "vacancy_confidence": 2.0, "area": 1.0, "noise": 1.0}


# --- words (pure) --------------------------------------------------------------------------------
@pytest.mark.parametrize("raw,expected", [("contacted", "contacted"), ("In Talks", "in talks"), (" in_talks ", "in talks"),
                                          ("DECLINED", "declined"), ("in-talks", "in talks"), ("Suitable", "suitable")])
def test_status_normalised(raw, expected):
    assert outreach.normalise_status(raw) == expected


@pytest.mark.parametrize("raw", ["maybe", "", None, "contacted!", "in  talks later"])
def test_bad_status_names_the_choices(raw):
    with pytest.raises(ValueError, match="is not one of new, contacted, in talks, declined, suitable, unsuitable"):
        outreach.normalise_status(raw)


def test_why_names_the_biggest_contributions_in_words():
    crit = {"dist_stop_m": 183.0, "dist_supermarket_m": 449.0, "dist_gp_m": 2900.0, "area_m2": 900.0, "noise_lden_db": 58.0}
    sub = {"stop": 1.0, "supermarket": 1.0, "gp": 0.3, "vacancy_confidence": 0.9, "area": 0.45, "noise": 0.5}
    ev = [{"signal": "no_establishment", "value": "no active establishment registered", "weight": 0.25},
          {"signal": "vacancy_register", "value": "listed since 2024-01-01", "weight": 0.7},
          {"signal": "active_establishment", "value": "active establishment registered", "weight": -0.35}]
    # contributions: stop 2.0, vacancy 1.8, supermarket 1.5, noise 0.5, area 0.45, gp 0.3
    assert outreach.why("vacant_building", crit, sub, WEIGHTS, ev) == \
        "bus/tram stop 180 m; vacancy register since 2024-01-01; supermarket 450 m"
    # a zero sub-score or a zero weight is never a reason; plots say 'usable'
    sub2 = {"stop": 0.0, "supermarket": 0.2, "area": 1.0, "noise": 1.0, "vacancy_confidence": None}
    assert outreach.why("undeveloped_plot", crit, sub2, WEIGHTS, []) == "900 m² usable; quiet (Lden 58 dB); supermarket 450 m"
    assert outreach.why("undeveloped_plot", crit, sub2, {**WEIGHTS, "noise": 0}, [], n=1) == "900 m² usable"


def test_what_it_is():
    d = {"gebruiksdoelen": ["kantoorfunctie", "winkelfunctie"], "units_total": 8, "units_vacant": 3,
         "vacant_area_m2": 900.0, "office_area_m2": 2950.0}
    assert outreach.what_it_is("vacant_building", 900, d) == "office/shop building: 3 of 8 units possibly vacant (900 of 2950 m²)"
    assert outreach.what_it_is("undeveloped_plot", 2750.1, {"parcel_area_m2": 3500.0}) == \
        "undeveloped plot: 2750 m² usable of a 3500 m² parcel"
    assert outreach.what_it_is("undeveloped_plot", 4000, {"parcel_area_m2": 5000.0, "perceel_ids": ["1", "2"]}) == \
        "undeveloped plot: 4000 m² usable of 2 adjacent parcels, 5000 m²"


def frame(rows: list[tuple]) -> pd.DataFrame:
    """(key, rank_overall, status, state, first_seen) rows as list_frame returns them."""
    return pd.DataFrame([{"candidate_key": k, "rank_overall": r, "rank": r, "outreach_status": s, "state": st,
                          "first_seen": fs, "municipality": "GM0001"} for k, r, s, st, fs in rows]).astype({"rank_overall": "Int64"})


def test_order_sinks_or_drops_hidden_statuses_and_keeps_gone_ones():
    df = frame([("a", 3, "new", "ranked", "2026-01-01"), ("b", 1, "declined", "ranked", "2026-01-01"),
                ("c", 2, "contacted", "ranked", "2026-01-01"), ("d", None, "in talks", "gone", "2025-12-01"),
                ("e", None, "unsuitable", "gone", "2025-11-01")])
    sunk = outreach.order_list(df, ListOptions(hide=("declined", "unsuitable"), mode="sink"))
    assert list(sunk["candidate_key"]) == ["c", "a", "d", "b", "e"]
    dropped = outreach.order_list(df, ListOptions(hide=("declined", "unsuitable"), mode="drop"))
    assert list(dropped["candidate_key"]) == ["c", "a", "d"]
    nothing_hidden = outreach.order_list(df, ListOptions(hide=(), mode="drop"))
    assert list(nothing_hidden["candidate_key"]) == ["b", "c", "a", "e", "d"]


def test_list_options_from_config():
    from plekzoeker.settings import load_config

    assert outreach.list_options(load_config()) == ListOptions(("declined", "unsuitable"), "sink")  # default.yaml
    assert outreach.list_options({"publish": {"outreach_hide": ["Declined"], "outreach_mode": "DROP"}}) == \
        ListOptions(("declined",), "drop")
    with pytest.raises(ConfigError, match="outreach_mode"):
        outreach.list_options({"publish": {"outreach_hide": [], "outreach_mode": "hide"}})
    with pytest.raises(ConfigError, match="outreach_hide"):
        outreach.list_options({"publish": {"outreach_hide": ["rejected"], "outreach_mode": "sink"}})
    with pytest.raises(ConfigError, match="required"):
        outreach.list_options({"publish": {}})


# --- reading edited files (pure) -----------------------------------------------------------------
def _list_df():
    return pd.DataFrame({"rank": [1, 2], "candidate_key": ["pand:0307100000000001", "perceel:ABC01 A 2"],
                         "address_or_parcel": ["=HYPERLINK(\"http://x\")", "ABC01 A 2"], "outreach_status": ["new", "new"],
                         "outreach_note": [None, "-called twice"], "first_seen": [dt.date(2026, 1, 1)] * 2,
                         "municipality": ["GM0307"] * 2})


def test_csv_round_trip_neutralises_formulas(tmp_path):
    p = tmp_path / "l.csv"
    outreach.write_csv(_list_df(), p)
    raw = p.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel shows UTF-8 correctly
    rows = list(csv.DictReader(p.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0]["address_or_parcel"].startswith("'=")  # not a formula when opened in a spreadsheet
    edits = outreach.read_edits(p)
    assert [(e.row, e.candidate_key, e.status, e.note) for e in edits] == \
        [(2, "pand:0307100000000001", "new", None), (3, "perceel:ABC01 A 2", "new", "-called twice")]


def test_xlsx_cells_are_text_and_status_has_a_dropdown(tmp_path):
    p = tmp_path / "l.xlsx"
    outreach.write_xlsx(_list_df(), p, "t", "2026-01-01T02:00:00")
    wb = load_workbook(p)
    ws = wb["candidates"]
    head = [c.value for c in ws[1]]
    cell = ws.cell(row=2, column=head.index("address_or_parcel") + 1)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")  # stored as text, never evaluated
    dv = ws.data_validations.dataValidation
    assert dv and "in talks" in dv[0].formula1
    assert "published_at: 2026-01-01T02:00:00" in [r[0] for r in wb["about"].iter_rows(values_only=True)]


def test_csv_from_dutch_excel_semicolons_and_ansi(tmp_path):
    p = tmp_path / "edited.csv"
    p.write_bytes("rank;candidate_key;outreach_status;outreach_note\r\n1;pand:0307100000000001;IN TALKS;één afspraak\r\n"
                  ";;;\r\n".encode("cp1252"))
    edits = outreach.read_edits(p)
    assert [(e.candidate_key, e.status, e.note) for e in edits] == [("pand:0307100000000001", "IN TALKS", "één afspraak")]


@pytest.mark.parametrize("content,suffix,message", [
    (b"just,some,columns\n1,2,3\n", ".csv", "no header row with a candidate_key"),
    (b"candidate_key,note\npand:1,x\n", ".csv", "no outreach_status column"),
    (b"PK\x03\x04 not really", ".xlsx", "not a readable .xlsx"),
    (b"{}", ".json", "expected an .xlsx or .csv"),
])
def test_unreadable_files_are_one_clear_error(tmp_path, content, suffix, message):
    p = tmp_path / f"f{suffix}"
    p.write_bytes(content)
    with pytest.raises(OutreachError, match=message) as exc:
        outreach.read_edits(p)
    assert str(p) in str(exc.value)


# --- changes report (pure) -----------------------------------------------------------------------
def snap(rows, gm=None, at="2026-01-02T02:00:00", run=2):
    return chg.snapshot([{"candidate_key": k, "rank": r, "score": 1 - r / 100, "kind": "vacant_building", "label": k,
                          "municipality": m} for k, r, m in rows], gm, at, run)


def test_changes_new_gone_moved():
    prev = snap([("a", 1, "GM1"), ("b", 2, "GM1"), ("c", 3, "GM1"), ("d", 10, "GM1")], at="2026-01-01T02:00:00", run=1)
    cur = snap([("b", 1, "GM1"), ("d", 2, "GM1"), ("e", 3, "GM1"), ("c", 4, "GM1")])
    rep = chg.compare(prev, cur, threshold=5, gone_info={"a": {"gone_since": dt.date(2026, 1, 2), "outreach_status": "contacted"}})
    assert [r["candidate_key"] for r in rep["new"]] == ["e"]
    assert [(r["candidate_key"], r["gone_since"], r["outreach_status"], r["reason"]) for r in rep["gone"]] == \
        [("a", "2026-01-02", "contacted", "no longer found")]
    assert [(r["candidate_key"], r["previous_rank"], r["change"]) for r in rep["moved"]] == [("d", 10, 8)]
    assert chg.compare(prev, cur, threshold=0)["moved"][0]["candidate_key"] == "d"
    assert len(chg.compare(prev, cur, threshold=0)["moved"]) == 3  # d +8, b +1, c -1
    md = chg.to_markdown(rep)
    assert "## New (1)" in md and "## Gone (1)" in md and "## Rank moved by more than 5 (1)" in md


def test_changes_first_publish_and_scopes():
    cur = snap([("a", 1, "GM1"), ("b", 2, "GM2")])
    first = chg.compare(None, cur, 5)
    assert first["baseline"] is None and len(first["new"]) == 2 and "first publish" in first["note"]
    # previous covered everything, this one only GM1: b is not 'gone', it is out of scope
    prev = snap([("a", 1, "GM1"), ("b", 2, "GM2")], at="x", run=1)
    only = chg.compare(prev, snap([("a", 1, "GM1")], gm="GM1"), 5)
    assert only["gone"] == [] and only["new"] == [] and "within GM1" in only["note"]
    other = chg.compare(snap([("a", 1, "GM1")], gm="GM1"), snap([("b", 2, "GM2")], gm="GM2"), 5)
    assert other["baseline"]["comparable"] is False and other["new"] == [] and other["gone"] == []


def test_previous_ranks_read_from_latest(tmp_path):
    assert chg.read_previous(tmp_path) is None
    (tmp_path / "runs" / "r1").mkdir(parents=True)
    (tmp_path / "latest").symlink_to("runs/r1")
    (tmp_path / "runs" / "r1" / "ranks.json").write_text("{broken")
    assert chg.read_previous(tmp_path) is None  # a broken baseline is reported without, never fatal
    chg.write_json_atomic(tmp_path / "runs" / "r1" / "ranks.json", snap([("a", 1, "GM1")]))
    assert chg.known_municipalities(chg.read_previous(tmp_path)) == {"a": "GM1"}


# --- import into the database --------------------------------------------------------------------
KEYS = ["pand:0307100000000001", "pand:0307100000000002", "perceel:ABC01 A 3", "pand:0307100000000004"]


@pytest.fixture
def known(db):
    with db.begin() as c:
        for k in KEYS:
            c.execute(sa.text("INSERT INTO result.candidate_history (candidate_key, kind, label, first_seen, last_seen) "
                              "VALUES (:k, 'vacant_building', :k, '2026-01-01', '2026-01-01')"), {"k": k})
    return db


def write_edit_csv(path, rows):
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["rank", "candidate_key", "address_or_parcel", "outreach_status", "outreach_note"])
        w.writerows(rows)
    return path


def stored(engine) -> dict:
    with engine.connect() as c:
        return {r.candidate_key: (r.status, r.note) for r in c.execute(sa.text("SELECT * FROM result.outreach"))}


def test_import_upserts_good_rows_and_rejects_bad_ones(known, tmp_path):
    p = write_edit_csv(tmp_path / "e.csv", [
        [1, KEYS[0], "x", "Contacted", "called 3 Jan"],
        [2, KEYS[1], "x", "maybe", "?"],                   # bad status
        [3, KEYS[2], "x", "new", ""],                      # untouched: nothing to store
        [4, "pand:9999999999999999", "x", "declined", ""],  # not a candidate of this database
        [5, KEYS[3], "x", "", "note without a status"],    # keeps status 'new', stores the note
        [6, "", "x", "declined", ""],                      # no key
    ])
    s = outreach.import_outreach(known, p)
    assert (s.rows, s.inserted, s.updated, s.unchanged) == (6, 2, 0, 1)
    assert [(r, k) for r, k, _ in s.rejected] == [(3, KEYS[1]), (5, "pand:9999999999999999"), (7, "")]
    assert "'maybe' is not one of new, contacted, in talks" in s.rejected[0][2]
    assert stored(known) == {KEYS[0]: ("contacted", "called 3 Jan"), KEYS[3]: ("new", "note without a status")}
    # again, with one change: only that row is touched, updated_at of the others stays
    with known.connect() as c:
        before = dict(c.execute(sa.text("SELECT candidate_key, updated_at FROM result.outreach")).all())
    write_edit_csv(p, [[1, KEYS[0], "x", "in talks", "meeting 10 Jan"], [5, KEYS[3], "x", "", "note without a status"]])
    s2 = outreach.import_outreach(known, p)
    assert (s2.inserted, s2.updated, s2.unchanged, s2.rejected) == (0, 1, 1, [])
    with known.connect() as c:
        after = dict(c.execute(sa.text("SELECT candidate_key, updated_at FROM result.outreach")).all())
    assert after[KEYS[3]] == before[KEYS[3]] and after[KEYS[0]] > before[KEYS[0]]
    assert stored(known)[KEYS[0]] == ("in talks", "meeting 10 Jan")


def test_import_duplicate_keys(known, tmp_path):
    p = write_edit_csv(tmp_path / "d.csv", [[1, KEYS[0], "x", "contacted", "a"], [1, KEYS[0], "x", "contacted", "a"],
                                            [1, KEYS[0], "x", "declined", "b"]])
    s = outreach.import_outreach(known, p)
    assert s.inserted == 1 and [r for r, _, _ in s.rejected] == [4]
    assert "duplicate candidate_key" in s.rejected[0][2]


def test_import_is_one_transaction(known, tmp_path, monkeypatch):
    p = write_edit_csv(tmp_path / "t.csv", [[1, KEYS[0], "x", "contacted", "a"], [2, KEYS[1], "x", "declined", "b"]])
    from plekzoeker.outputs import outreach_import

    monkeypatch.setattr(outreach_import, "UPSERT_SQL", outreach_import.UPSERT_SQL.replace(":note", "CAST(:note AS integer)"))
    with pytest.raises(sa.exc.DBAPIError):
        outreach.import_outreach(known, p)
    assert stored(known) == {}


def test_cli_import_and_list(known, tmp_path):
    from plekzoeker.outputs.outreach_cli import app

    p = write_edit_csv(tmp_path / "c.csv", [[1, KEYS[0], "x", "Suitable", "good"], [2, KEYS[1], "x", "nope", ""]])
    runner = CliRunner()
    res = runner.invoke(app, ["import", str(p)])
    assert res.exit_code == 1, res.output  # a row was rejected
    assert "1 new status(es)" in res.output and "row 3" in res.output and "'nope' is not one of" in res.output
    res = runner.invoke(app, ["list", "--status", "SUITABLE"])
    assert res.exit_code == 0 and KEYS[0] in res.output and "good" in res.output and "1 candidate(s)" in res.output
    assert "no outreach statuses stored" in runner.invoke(app, ["list", "-s", "declined"]).output
    res = runner.invoke(app, ["list", "--csv"])
    assert res.output.splitlines()[0].startswith("candidate_key,status,note")


# --- owners --------------------------------------------------------------------------------------
def test_owner_match_order_and_names_only_on_request(db):
    """pand id beats a unit id beats the parcel under most of the building; names stay in the database unless asked."""
    key = "pand:0307100000000001"
    with db.begin() as c:
        c.execute(sa.text(
            "INSERT INTO result.candidate (candidate_key, kind, source_ids, area_m2, geom, access_point) VALUES "
            "(:k, 'vacant_building', ARRAY['0307100000000001', '0307010000000011'], 800, "
            " ST_GeomFromText('POLYGON((0 0, 30 0, 30 10, 0 10, 0 0))', 28992), ST_SetSRID(ST_MakePoint(5, 5), 28992)),"
            "('perceel:ABC01 A 7', 'undeveloped_plot', ARRAY['p7'], 2000, "
            " ST_GeomFromText('POLYGON((100 0, 150 0, 150 50, 100 50, 100 0))', 28992), ST_SetSRID(ST_MakePoint(120, 20), 28992))"),
            {"k": key})
        c.execute(sa.text(  # the building lies 10 m² on A 1 and 290 m² on A 2; the plot is parcel p7 = A 7
            "INSERT INTO core.perceel (identificatie, kadastrale_aanduiding, geom) VALUES "
            "('p1', 'ABC01 A 1', ST_Multi(ST_GeomFromText('POLYGON((-10 0, 1 0, 1 10, -10 10, -10 0))', 28992))),"
            "('p2', 'ABC01 A 2', ST_Multi(ST_GeomFromText('POLYGON((1 0, 40 0, 40 10, 1 10, 1 0))', 28992))),"
            "('p7', 'ABC01 A 7', ST_Multi(ST_GeomFromText('POLYGON((100 0, 150 0, 150 50, 100 50, 100 0))', 28992)))"))
        c.execute(sa.text(
            "INSERT INTO core.owner (kadastrale_aanduiding, verblijfsobject_id, pand_id, owner_name, owner_kind) VALUES "
            "('ABC01 A 1', NULL, NULL, 'Small Corner B.V.', 'company'),"
            "('ABC01 A 2', NULL, NULL, 'Gemeente Test', 'municipality'),"
            "('ABC01 A 7', NULL, NULL, 'K. Klaassen-Testpersoon', 'natural_person')"))
    keys = [key, "perceel:ABC01 A 7"]

    def got(names=False):
        with db.connect() as c:
            return {r.candidate_key: (r.owner_kind, r.owner_name) for r in outreach.owners(c, keys, names).itertuples()}

    assert got() == {key: ("municipality", None), "perceel:ABC01 A 7": ("natural_person", None)}
    assert got(names=True)["perceel:ABC01 A 7"] == ("natural_person", "K. Klaassen-Testpersoon")
    with db.begin() as c:
        c.execute(sa.text("INSERT INTO core.owner (verblijfsobject_id, owner_name, owner_kind) "
                          "VALUES ('0307010000000011', 'Unit Owner', 'housing_corporation')"))
    assert got()[key] == ("housing_corporation", None)
    with db.begin() as c:
        c.execute(sa.text("INSERT INTO core.owner (pand_id, owner_name, owner_kind) VALUES ('0307100000000001', 'Rijk', 'state')"))
    assert got(names=True)[key] == ("state", "Rijk")


def test_gone_plot_keeps_its_place_in_its_municipality_list(db, tmp_path):
    """A plot that disappeared has no municipality in the database any more: it comes from the previous
    publish and is carried forward, publish after publish. An empty night still publishes everything."""
    from plekzoeker.outputs.publish import publish
    from plekzoeker.settings import load_config

    key = "perceel:ABC01 A 3"
    with db.begin() as c:
        c.execute(sa.text("INSERT INTO result.candidate_history (candidate_key, kind, label, first_seen, last_seen, gone_since) "
                          "VALUES (:k, 'undeveloped_plot', 'ABC01 A 3', '2026-01-01', '2026-01-01', '2026-01-02')"), {"k": key})
        c.execute(sa.text("INSERT INTO result.outreach (candidate_key, status, note) VALUES (:k, 'contacted', 'called')"),
                  {"k": key})
    out = tmp_path / "out"
    (out / "runs" / "prev").mkdir(parents=True)
    chg.write_json_atomic(out / "runs" / "prev" / "ranks.json",
                          chg.snapshot([{"candidate_key": key, "rank": 1, "score": 0.9, "kind": "undeveloped_plot",
                                         "label": "ABC01 A 3", "municipality": "GM0307"}], None, "2026-01-01T02:00:00", 1))
    (out / "latest").symlink_to("runs/prev")
    cfg = load_config()
    for night in (2, 3):
        s = publish(db, cfg, out, night, now=dt.datetime(2026, 1, night, 2, 0))
        assert s["total"] == 0 and s["lists"] == {"outreach_GM0307.xlsx": 1, "outreach_GM0307.csv": 1}
        rows = list(csv.DictReader((out / "latest" / "outreach_GM0307.csv").open(encoding="utf-8-sig")))
        assert [(r["candidate_key"], r["outreach_status"], r["outreach_note"], r["gone_since"], r["rank"]) for r in rows] == \
            [(key, "contacted", "called", "2026-01-02", "")]
        assert (out / "latest" / "map.html").exists() and (out / "latest" / "plekzoeker.qgs").exists()
        gone = json.loads((out / "latest" / "changes.json").read_text())["gone"]
        # reported gone once (night 2, against the previous publish), not again on night 3
        assert [(g["candidate_key"], g["gone_since"], g["outreach_status"]) for g in gone] == \
            ([(key, "2026-01-02", "contacted")] if night == 2 else [])


def test_cli_help_names_the_statuses_the_database_accepts():
    from plekzoeker.db.models import OUTREACH_STATUSES
    from plekzoeker.outputs.outreach_cli import STATUS_HELP

    assert STATUS_HELP == ", ".join(OUTREACH_STATUSES)


# --- two coordinators: versions, conflicts, history -----------------------------------------------
def export_list(engine, path):
    """The coordinator list as publish writes it (CSV), for every ranked candidate and outreach row."""
    with engine.connect() as c:
        df = outreach.list_frame(c)
    outreach.write_csv(outreach.order_list(df, ListOptions(("declined", "unsuitable"), "sink")), path)
    return path


def edit_exported(src, dst, edits: dict):
    """A coordinator's copy of an exported CSV with status/note typed into some rows."""
    rows = list(csv.DictReader(src.open(encoding="utf-8-sig")))
    for r in rows:
        if r["candidate_key"] in edits:
            r["outreach_status"], r["outreach_note"] = edits[r["candidate_key"]]
    with dst.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return dst


@pytest.fixture
def ranked_keys(known):
    with known.begin() as c:
        for i, k in enumerate(KEYS[:2], start=1):
            c.execute(sa.text("INSERT INTO result.score (candidate_key, criteria, subscores, weights, score, rank, "
                              "rank_municipality) VALUES (:k, '{}', '{}', '{}', 0.5, :i, :i)"), {"k": k, "i": i})
    return known


def test_two_coordinators_editing_the_same_candidate_keep_both_notes(ranked_keys, tmp_path):
    db, key, other = ranked_keys, KEYS[0], KEYS[1]
    exported = export_list(db, tmp_path / "outreach_GM0307.csv")
    rows = {r["candidate_key"]: r for r in csv.DictReader(exported.open(encoding="utf-8-sig"))}
    assert rows[key]["outreach_version"] == "0" and rows[key]["outreach_conflict"] == ""
    anna = edit_exported(exported, tmp_path / "anna.csv", {key: ("contacted", "called, call back Monday")})
    bob = edit_exported(exported, tmp_path / "bob.csv", {key: ("in talks", "met the owner on site"),
                                                         other: ("declined", "not for sale")})
    s1 = outreach.import_outreach(db, anna, by="Anna")
    assert (s1.inserted, s1.conflicts, s1.rejected) == (1, [], [])
    s2 = outreach.import_outreach(db, bob)  # who: the file name
    assert (s2.inserted, s2.updated, len(s2.conflicts), s2.rejected) == (1, 0, 1, [])
    lines = s2.lines()
    assert "1 conflict(s)" in lines[0] and "(by bob)" in lines[0]
    conflict_lines = [ln for ln in lines[1:] if ln.strip().startswith("conflict ")]
    assert len(conflict_lines) == 1 and key in conflict_lines[0] and "Anna" in conflict_lines[0] \
        and "met the owner on site" in conflict_lines[0] and "called, call back Monday" in conflict_lines[0]
    # the first import stays current; bob's note is kept as a conflicting note, with who and when
    assert stored(db)[key] == ("contacted", "called, call back Monday")
    assert stored(db)[other] == ("declined", "not for sale")  # no conflict where only one edited
    hist = outreach.outreach_history(db, key)
    assert [(h["event"], h["version"], h["based_on"], h["status"], h["note"], h["changed_by"]) for h in hist] == [
        ("change", 1, 0, "contacted", "called, call back Monday", "Anna"),
        ("conflict", 1, 0, "in talks", "met the owner on site", "bob")]
    assert all(h["changed_at"] is not None for h in hist)
    # the next list and `outreach list` show it
    again = {r["candidate_key"]: r for r in csv.DictReader(export_list(db, tmp_path / "next.csv").open(encoding="utf-8-sig"))}
    assert again[key]["outreach_version"] == "1" and "bob on " in again[key]["outreach_conflict"] \
        and "in talks — met the owner on site" in again[key]["outreach_conflict"]
    listed = {r["candidate_key"]: r for r in outreach.list_outreach(db)}
    assert [(c["changed_by"], c["status"], c["note"]) for c in listed[key]["conflicts"]] == \
        [("bob", "in talks", "met the owner on site")]
    assert listed[other]["conflicts"] == []
    # an untouched row of a stale list is no conflict; a row from the future is rejected
    s3 = outreach.import_outreach(db, anna, by="Anna")
    assert (s3.updated, s3.unchanged, s3.conflicts) == (0, 2, [])  # both rows: as stored, or untouched since the export
    resolved = edit_exported(tmp_path / "next.csv", tmp_path / "resolved.csv",
                             {key: ("in talks", "Anna called, Bob met the owner: talks")})
    s4 = outreach.import_outreach(db, resolved, by="Bob")
    assert (s4.updated, s4.conflicts) == (1, [])
    assert outreach.list_outreach(db)[0]["conflicts"] == []  # answered by a newer version: no longer open
    assert [h["version"] for h in outreach.outreach_history(db, key)] == [1, 1, 2]
    future = edit_exported(tmp_path / "next.csv", tmp_path / "future.csv", {key: ("declined", "x")})
    text = future.read_text(encoding="utf-8-sig").replace(",1,", ",7,", 1)
    future.write_text(text, encoding="utf-8-sig")
    s5 = outreach.import_outreach(db, future)
    assert [(k, "newer than the database's version 2" in m) for _, k, m in s5.rejected] == [(key, True)]


def test_cli_conflicts_one_line_each_and_strict(ranked_keys, tmp_path):
    from plekzoeker.outputs.outreach_cli import app

    db, key = ranked_keys, KEYS[0]
    exported = export_list(db, tmp_path / "outreach_GM0307.csv")
    first = edit_exported(exported, tmp_path / "first.csv", {key: ("contacted", "one")})
    second = edit_exported(exported, tmp_path / "second.csv", {key: ("suitable", "two"), KEYS[1]: ("contacted", "x")})
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(first), "--by", "Anna"]).exit_code == 0
    res = runner.invoke(app, ["import", str(second), "--by", "Bob"])
    assert res.exit_code == 0, res.output
    assert "1 conflict(s)" in res.output and sum(ln.strip().startswith("conflict ") for ln in res.output.splitlines()) == 1
    third = edit_exported(exported, tmp_path / "third.csv", {key: ("declined", "three")})
    res = runner.invoke(app, ["import", str(third), "--by", "Carla", "--strict"])
    assert res.exit_code == 2, res.output
    out = runner.invoke(app, ["list"]).output
    assert "conflicting note: Bob on " in out and "conflicting note: Carla on " in out and "with conflicting notes" in out
    hist = runner.invoke(app, ["history", key])
    assert hist.exit_code == 0
    lines = hist.output.splitlines()
    assert len(lines) == 4 and "change" in lines[0] and "by Anna" in lines[0] and "conflict" in lines[1] \
        and "by Bob" in lines[1] and "three" in lines[2] and lines[3] == "1 change(s), 2 conflicting note(s)"
    assert runner.invoke(app, ["history", "pand:0000000000000000"]).output.strip().endswith("no outreach history")
