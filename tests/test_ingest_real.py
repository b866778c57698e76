"""Loading the real Kadaster fixtures and the example signal CSVs into PostGIS: counts, ids, CRS, ledger."""
from pathlib import Path

import pytest
import sqlalchemy as sa
from defusedxml import ElementTree

from plekzoeker.sources.bag import load_bag
from plekzoeker.sources.bgt import load_bgt
from plekzoeker.sources.brk import load_brk
from plekzoeker.sources.signals import load_signal

DATA = Path(__file__).resolve().parent / "data"


def count_elements(path: Path, local_name: str) -> int:
    """Count XML elements by local name, independently of GDAL."""
    return sum(1 for el in ElementTree.parse(str(path)).iter() if el.tag.rsplit("}", 1)[-1] == local_name)


def one(engine, q, **p):
    with engine.connect() as c:
        return c.execute(sa.text(q), p).one()


def test_lvbag_national_zip_with_nested_zips_and_history(db):
    st = load_bag(db, DATA / "lvbag" / "BAGNLDL-15092020-small.zip")
    assert st.rows_out > 0 and st.rejected == 0
    n_pand, bad_ids = one(db, "SELECT count(*), count(*) FILTER (WHERE identificatie !~ '^[0-9]{16}$') FROM core.pand")
    assert n_pand > 0 and bad_ids == 0
    assert one(db, "SELECT count(DISTINCT ST_SRID(geom)) FROM core.pand")[0] == 1
    assert one(db, "SELECT ST_SRID(geom) FROM core.pand LIMIT 1")[0] == 28992


def test_lvbag_xml_keeps_current_versions_and_lands_in_doesburg(db):
    st = load_bag(db, DATA / "lvbag" / "0221PND15092020-000001.xml")
    # 6 PND records in the file are versions of fewer buildings: only the current versions remain
    records = count_elements(DATA / "lvbag" / "0221PND15092020-000001.xml", "Pand")
    n = one(db, "SELECT count(*) FROM core.pand")[0]
    assert records == 6 and 0 < n < records
    inside = one(db, "SELECT ST_DWithin(geom, ST_SetSRID(ST_Point(206340, 447530), 28992), 15), bouwjaar "
                     "FROM core.pand WHERE identificatie = '0221100000312938'")
    assert inside == (True, 1585)
    row = one(db, "SELECT kind, sha256, rows_in, rows_out, seconds, status FROM meta.input WHERE input_id = :i", i=st.input_id)
    assert row.kind == "bag" and len(row.sha256) == 64 and row.rows_out == st.rows_out and row.status == "done"


def test_brk_gml_parcels(db):
    st = load_brk(db, DATA / "brk" / "kadastralekaart_perceel.gml")
    assert st.rows_out == count_elements(DATA / "brk" / "kadastralekaart_perceel.gml", "Perceel") == 11
    row = one(db, "SELECT kadastrale_grootte, ST_Contains(geom, ST_SetSRID(ST_Point(181195, 456710), 28992)) "
                  "FROM core.perceel WHERE kadastrale_aanduiding = 'OTL02 B 2298'")
    assert row == (222, True)
    again = load_brk(db, DATA / "brk" / "kadastralekaart_perceel.gml")
    assert again.skipped
    forced = load_brk(db, DATA / "brk" / "kadastralekaart_perceel.gml", force=True)
    assert not forced.skipped and forced.rows_out == 11


def test_bgt_zip(db):
    st = load_bgt(db, DATA / "bgt" / "otterlo-bgt.zip")
    counts = dict(one(db, "SELECT jsonb_object_agg(laag, n) FROM (SELECT laag, count(*) n FROM core.bgt_vlak GROUP BY laag) s")[0])
    assert st.rows_out == sum(counts.values()) and counts["waterdeel"] == 296 and counts["pand"] == 1681
    assert one(db, "SELECT bool_and(ST_IsValid(geom)) FROM core.bgt_vlak")[0]


@pytest.mark.parametrize("kind,rows", [("vacancy", 3), ("establishments", 2), ("energy", 2), ("listings", 1), ("owners", 3)])
def test_example_signal_csvs_load(db, kind, rows):
    st = load_signal(db, kind, DATA / "signals" / f"{kind}.csv")
    assert st.rows_out == rows and st.rejected == 0
