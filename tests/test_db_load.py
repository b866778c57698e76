"""The load machinery on a real PostGIS: COPY, validation, rejects, duplicates, repair, atomic swap."""
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import sqlalchemy as sa
from shapely import affinity
from shapely.geometry import Point, Polygon, box

from plekzoeker.db.load import TableSpec, load_input
from plekzoeker.errors import SourceError
from plekzoeker.sources.bag import PAND
from plekzoeker.sources.signals import load_signal

NL = (150_000, 450_000)  # somewhere in the Netherlands: the loader's extent guard refuses (0, 0) in RD New


def pand_frame(ids, geoms=None):
    geoms = geoms or [box(i * 10, 0, i * 10 + 8, 8) for i in range(len(ids))]
    geoms = [affinity.translate(g, *NL) for g in geoms]
    return gpd.GeoDataFrame({"identificatie": ids, "status": ["Pand in gebruik"] * len(ids), "bouwjaar": [2000] * len(ids),
                             "documentdatum": [None] * len(ids), "begingeldigheid": [None] * len(ids)},
                            geometry=geoms, crs=28992)


def src_file(tmp_path: Path, name: str = "x.bin", content: bytes = b"x") -> Path:
    p = tmp_path / name
    p.write_bytes(content)
    return p


def count(engine, table):
    with engine.connect() as c:
        return c.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()


def test_load_validates_rejects_repairs_and_swaps(db, tmp_path):
    bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10), (0, 0)])  # self-intersecting: repaired
    frame = pand_frame(["0001100000000001", "0001100000000002", "0001100000000002", "0001100000000003", "bad-id"],
                       [box(0, 0, 5, 5), box(40, 0, 45, 5), box(20, 0, 25, 5), bowtie, box(30, 0, 35, 5)])
    st = load_input(db, "test-pand", src_file(tmp_path), {PAND: lambda: [frame]})
    assert st.rows_in == 5 and st.rejected == 1 and st.duplicates == 1 and st.repaired == 1
    assert count(db, "core.pand") == 3
    with db.connect() as c:
        assert c.execute(sa.text("SELECT bool_and(ST_IsValid(geom)) FROM core.pand")).scalar()
        rej = c.execute(sa.text("SELECT row_ref, reason FROM meta.reject")).all()
        assert rej == [("bad-id", "pand: malformed BAG identificatie (not 16 digits)")]
        assert c.execute(sa.text("SELECT status FROM meta.input")).scalar() == "done"
        # indexes carry their canonical names after the swap
        idx = {r[0] for r in c.execute(sa.text("SELECT indexname FROM pg_indexes WHERE schemaname='core' AND tablename='pand'"))}
        assert {"pand_pkey", "pand_geom"} <= idx


def test_same_file_twice_is_noop_unless_forced(db, tmp_path):
    f = src_file(tmp_path)
    load_input(db, "test-pand", f, {PAND: lambda: [pand_frame(["0001100000000001"])]})
    st = load_input(db, "test-pand", f, {PAND: lambda: [pand_frame(["0001100000000001", "0001100000000002"])]})
    assert st.skipped and count(db, "core.pand") == 1
    st = load_input(db, "test-pand", f, {PAND: lambda: [pand_frame(["0001100000000001", "0001100000000002"])]}, force=True)
    assert not st.skipped and count(db, "core.pand") == 2


def test_failure_mid_stream_keeps_previous_data(db, tmp_path):
    load_input(db, "test-pand", src_file(tmp_path, "a"), {PAND: lambda: [pand_frame(["0001100000000001"])]})

    def broken():
        yield pand_frame(["0001100000000007", "0001100000000008"])
        raise SourceError("b", "truncated file")

    with pytest.raises(SourceError):
        load_input(db, "test-pand", src_file(tmp_path, "b", b"y"), {PAND: broken})
    with db.connect() as c:
        assert c.execute(sa.text("SELECT array_agg(identificatie) FROM core.pand")).scalar() == ["0001100000000001"]
        assert c.execute(sa.text("SELECT count(*) FROM pg_tables WHERE schemaname = 'raw'")).scalar() == 0
        assert c.execute(sa.text("SELECT status FROM meta.input ORDER BY input_id DESC LIMIT 1")).scalar() == "failed"


def test_empty_result_refused(db, tmp_path):
    load_input(db, "test-pand", src_file(tmp_path, "a"), {PAND: lambda: [pand_frame(["0001100000000001"])]})
    with pytest.raises(SourceError, match="no usable pand rows"):
        load_input(db, "test-pand", src_file(tmp_path, "b", b"z"), {PAND: lambda: [pand_frame(["nope"])]})
    assert count(db, "core.pand") == 1


def test_signals_csv_rejects_rows_and_refuses_bad_files(db, tmp_path):
    good = tmp_path / "vacancy.csv"
    good.write_text("verblijfsobject_id,postcode,huisnummer,huisletter,toevoeging,vacant_since,source\n"
                    "0001010000000001,,,,,2024-01-01,register\n"
                    ",0001 aa,12,,,2024-02-01,register\n"
                    "12345,,,,,2024-01-01,register\n", encoding="utf-8")
    st = load_signal(db, "vacancy", good)
    assert st.rows_out == 2 and st.rejected == 1
    with db.connect() as c:
        assert c.execute(sa.text("SELECT postcode FROM core.signal WHERE postcode IS NOT NULL")).scalar() == "0001AA"
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("id,name\n1,x\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"wrong.csv: missing column\(s\) vacant_since"):
        load_signal(db, "vacancy", wrong)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("verblijfsobject_id,vacant_since,source\n0001010000000001,2024-01-01,Gemeente Zuidwolde-\xe9\n".encode("latin-1"))
    with pytest.raises(SourceError, match="not UTF-8"):
        load_signal(db, "vacancy", latin)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(SourceError, match="empty file"):
        load_signal(db, "vacancy", empty)
    assert count(db, "core.signal") == 2  # nothing lost


def test_point_table_roundtrip(db, tmp_path):
    spec = TableSpec(table="poi", columns=("category", "name", "osm_id", "tags"), geom_kind="point", required=False)
    frame = gpd.GeoDataFrame({"category": ["stop"], "name": ["Halte"], "osm_id": ["n1"], "tags": ['{"highway": "bus_stop"}']},
                             geometry=[Point(150000, 450000)], crs=28992)
    load_input(db, "test-poi", src_file(tmp_path), {spec: lambda: [frame]})
    with db.connect() as c:
        row = c.execute(sa.text("SELECT ST_AsText(geom), ST_SRID(geom), tags->>'highway' FROM core.poi")).one()
    assert row == ("POINT(150000 450000)", 28992, "bus_stop")


def test_arrays_dates_nulls_roundtrip(db, tmp_path):
    import datetime as dt

    from plekzoeker.sources.bag import VERBLIJFSOBJECT

    frame = gpd.GeoDataFrame({
        "identificatie": ["0001010000000001", "0001010000000002"],
        "pand_ids": [["0001100000000001", "0001100000000002"], []],
        "gebruiksdoelen": [["kantoorfunctie", 'odd,"value"\\x'], ["woonfunctie"]],
        "oppervlakte": pd.array([120, None], dtype="Int64"), "status": ["Verblijfsobject in gebruik", None],
        "openbare_ruimte": ["Straat, met komma", None], "huisnummer": pd.array([1, None], dtype="Int64"),
        "huisletter": [None, None], "toevoeging": [None, ""], "postcode": ["0001AA", None], "woonplaats": ["Dorp", None],
        "documentdatum": [dt.date(2020, 5, 17), None], "begingeldigheid": [pd.Timestamp("2021-01-02"), None],
    }, geometry=[Point(NL[0] + 1, NL[1] + 2), Point(NL[0] + 3, NL[1] + 4)], crs=28992)
    load_input(db, "test-vbo", src_file(tmp_path), {VERBLIJFSOBJECT: lambda: [frame]})
    with db.connect() as c:
        rows = c.execute(sa.text("SELECT pand_ids, gebruiksdoelen, oppervlakte, openbare_ruimte, toevoeging, documentdatum, "
                                 "begingeldigheid FROM core.verblijfsobject ORDER BY identificatie")).all()
    assert rows[0] == (["0001100000000001", "0001100000000002"], ["kantoorfunctie", 'odd,"value"\\x'], 120,
                       "Straat, met komma", None, dt.date(2020, 5, 17), dt.date(2021, 1, 2))
    assert rows[1] == ([], ["woonfunctie"], None, None, "", None, None)
