"""The loader's fast path: one survey scan per staging table, the current rows counted on a second
connection, the statistics analyzed inside the load's transaction, Arrow chunks encoded in slices."""
import time
from pathlib import Path

import psycopg
import pyarrow as pa
import pytest
import sqlalchemy as sa
from psycopg import sql
from shapely.geometry import Point
from test_db_load import pand_frame, src_file

from plekzoeker.db.copy_encoding import _table_to_binary, _table_to_csv, prepared_chunks
from plekzoeker.db.guards import CurrentRows, LoadPolicy, survey
from plekzoeker.db.load import _checks, load_input
from plekzoeker.demo.synthetic_bag import write_bag_gpkg
from plekzoeker.sources.bag import PAND, VERBLIJFSOBJECT
from plekzoeker.sources.bag_read import read_bag_verblijfsobject_arrow

PLAN = ["text", "text[]", "text[]", "integer", "text", "text", "integer", "text", "text", "text", "text", "date", "date",
        "bigint", "geometry"]


def pg(engine: sa.Engine) -> psycopg.Connection:
    """A plain psycopg connection of the test database (outside the engine's pool)."""
    return psycopg.connect(engine.url.set(drivername="postgresql").render_as_string(hide_password=False))


@pytest.fixture(scope="module")
def small_bag(tmp_path_factory) -> Path:
    return write_bag_gpkg(tmp_path_factory.mktemp("survey") / "bag.gpkg", 3000, seed=3)


def test_sliced_encoding_sends_the_same_bytes(small_bag):
    """Encoding an Arrow chunk in slices (offset list, string and WKB arrays) gives the whole chunk's bytes."""
    tables = list(read_bag_verblijfsobject_arrow(small_bag, chunk_size=1100))
    assert len(tables) > 1
    whole = b"".join(_table_to_binary(VERBLIJFSOBJECT, t, 7, PLAN)[1] for t in tables)
    sliced = list(prepared_chunks(VERBLIJFSOBJECT, iter(tables), 7, PLAN, piece_rows=250))
    assert {f for f, _, _ in sliced} == {"binary"}
    assert sum(n for _, n, _ in sliced) == 3000 and max(n for _, n, _ in sliced) == 250
    assert b"".join(d for _, _, d in sliced) == whole
    csv_whole = b"".join(_table_to_csv(VERBLIJFSOBJECT, t, 7)[1] for t in tables)
    csv_sliced = b"".join(d for _, _, d in prepared_chunks(VERBLIJFSOBJECT, iter(tables), 7, None, piece_rows=333))
    assert csv_sliced == csv_whole


def test_survey_counts_what_the_separate_queries_count(db, tmp_path):
    """One grouped scan: rows, each validation check, each guard row rule, the shrink guard's rows per municipality."""
    ids = ["0001100000000001", "0001100000000002", "bad-id", "0002100000000003", "0002100000000004", None]
    dates = [None, "2999-01-01", None, None, None, None]  # one documentdatum in the future: a guard rule
    with pg(db) as conn, conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE s (LIKE core.pand)")
        cur.execute("ALTER TABLE s ALTER COLUMN identificatie DROP NOT NULL")
        for n, (i, d) in enumerate(zip(ids, dates)):
            cur.execute("INSERT INTO s (identificatie, status, documentdatum, geom) VALUES "
                        "(%s, 'Pand in gebruik', %s, ST_Multi(ST_Buffer(ST_Point(%s, 450000, 28992), 4, 2)))",
                        (i, d, 150_000 + 20 * n))
        staging = sql.SQL("s")
        checks = [bad for bad, _ in _checks(PAND)]
        found = survey(cur, staging, PAND, checks, LoadPolicy.default(), None)
        assert found.total == 6
        assert found.check_hits == (1, 2)  # no identificatie; malformed (NULL counts as malformed too)
        assert len(found.guard_hits) == 2 and found.guard_hits[0] == 0  # inside the RD domain
        assert found.guard_hits[1] == 1  # the future documentdatum
        assert found.staged == (6, {"0001": 2, "0002": 2, "bad-": 1})
        empty = survey(cur, sql.SQL("s WHERE false"), PAND, checks, LoadPolicy.default(), None)
        assert empty.total == 0 and empty.staged == (0, {})
        plain = survey(cur, staging, PAND, checks, None, None)  # a stage output: no guards
        assert plain.total == 6 and plain.guard_hits == () and plain.staged is None
        conn.rollback()


def test_counts_stay_exact_with_rejects_and_duplicates(db, tmp_path):
    """The kept count comes from the survey minus every removed row: it equals the table after the swap."""
    frame = pand_frame(["0001100000000001", "0001100000000002", "0001100000000002", "bad-id", "0001100000000005"])
    frame.loc[4, "documentdatum"] = "2999-01-01"
    st = load_input(db, "test-pand", src_file(tmp_path), {PAND: lambda: [frame]})
    with db.connect() as c:
        n = c.execute(sa.text("SELECT count(*) FROM core.pand")).scalar()
    assert st.duplicates == 1 and st.rejected == 2 and st.implausible == 1
    assert st.per_table["pand"] == st.rows_out == n == 2


def test_current_rows_counted_beside_the_load_and_dropped_after_a_swap(db, tmp_path):
    load_input(db, "test-pand", src_file(tmp_path, "a"), {PAND: lambda: [pand_frame(
        ["0001100000000001", "0001100000000002", "0002100000000003"])]})
    policy = LoadPolicy.default()
    current = CurrentRows(db.raw_connection, [PAND], policy, None).start()
    with pg(db) as conn, conn.cursor() as cur:
        assert current.result(cur, PAND) == (3, {"0001": 2, "0002": 1})
    # another load swaps core.pand in between: the counts are of a table that is gone, so none are handed over
    current = CurrentRows(db.raw_connection, [PAND], policy, None).start()
    current.close()
    load_input(db, "test-pand", src_file(tmp_path, "b", b"y"), {PAND: lambda: [pand_frame(
        ["0001100000000001", "0001100000000002", "0002100000000003", "0002100000000004"])]})
    with pg(db) as conn, conn.cursor() as cur:
        assert current.result(cur, PAND) is None


def test_a_load_brings_its_statistics(db, small_bag):
    """ANALYZE runs inside the load's transaction: the swapped-in table has its statistics at once."""
    st = load_input(db, "test-vbo", small_bag, {VERBLIJFSOBJECT: lambda: read_bag_verblijfsobject_arrow(small_bag)})
    assert st.rows_out == 3000
    with db.connect() as c:
        reltuples = c.execute(sa.text("SELECT reltuples FROM pg_class WHERE oid = 'core.verblijfsobject'::regclass")).scalar()
        cols = {r[0] for r in c.execute(sa.text(
            "SELECT attname FROM pg_stats WHERE schemaname = 'core' AND tablename = 'verblijfsobject'"))}
        idx = {r[0] for r in c.execute(sa.text(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'core' AND tablename = 'verblijfsobject'"))}
    assert reltuples == 3000
    assert {"identificatie", "geom", "gebruiksdoelen", "postcode"} <= cols
    assert {"verblijfsobject_pkey", "verblijfsobject_geom"} <= idx


def test_a_point_table_loads_through_the_pieces(db, tmp_path):
    """More rows than one piece, in one Arrow chunk: every row arrives once."""
    n = 60_000
    ids = pa.array([f"0001{i:012d}" for i in range(n)])
    wkb = pa.array([Point(150_000 + i % 1000, 450_000 + i // 1000).wkb for i in range(n)], pa.binary())
    cols = {c: pa.nulls(n, pa.string()) for c in VERBLIJFSOBJECT.columns if c != "input_id"}
    cols.update(identificatie=ids, status=pa.array(["Verblijfsobject in gebruik"] * n),
                pand_ids=pa.array([["0001100000000001"]] * n), gebruiksdoelen=pa.array([["woonfunctie"]] * n),
                oppervlakte=pa.array([50] * n, pa.int64()), huisnummer=pa.nulls(n, pa.int64()),
                documentdatum=pa.nulls(n, pa.date32()), begingeldigheid=pa.nulls(n, pa.date32()), geometry=wkb)
    table = pa.table(cols)
    st = load_input(db, "test-vbo", src_file(tmp_path), {VERBLIJFSOBJECT: lambda: [table]})
    with db.connect() as c:
        got = c.execute(sa.text("SELECT count(*), count(DISTINCT identificatie) FROM core.verblijfsobject")).one()
    assert st.rows_out == n and tuple(got) == (n, n)


def test_read_ahead_hands_over_errors_and_stops_with_the_consumer(small_bag):
    """The reader thread's error reaches the COPY; a COPY that stops early stops the reader (a bounded read-ahead)."""
    tables = list(read_bag_verblijfsobject_arrow(small_bag, chunk_size=300))
    read = []

    def reader(fail_at=None):
        for i, t in enumerate(tables):
            if i == fail_at:
                raise ValueError("broken chunk")
            read.append(i)
            yield t

    with pytest.raises(ValueError, match="broken chunk"):
        list(prepared_chunks(VERBLIJFSOBJECT, reader(fail_at=3), 1, PLAN))
    read.clear()
    chunks = prepared_chunks(VERBLIJFSOBJECT, reader(), 1, PLAN, depth=1)
    assert next(chunks)[1] > 0
    chunks.close()
    time.sleep(0.5)
    assert len(read) <= 5 < len(tables)  # one encoding, one queued, one read ahead, one being read


def test_the_first_batch_comes_in_quarters_with_the_same_rows(small_bag):
    """The GeoPackage unit reader yields its first batch in four slices (the COPY starts sooner): same rows."""
    whole = pa.concat_tables(read_bag_verblijfsobject_arrow(small_bag, chunk_size=10**6))
    chunks = list(read_bag_verblijfsobject_arrow(small_bag, chunk_size=1000))
    assert chunks[0].num_rows <= 250 and max(t.num_rows for t in chunks) <= 1000
    assert pa.concat_tables(chunks).equals(whole) and whole.num_rows == 3000
