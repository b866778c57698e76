"""One schema: the SQLAlchemy/GeoAlchemy2 models describe exactly what the alembic migrations create.

A database of its own is freshly migrated to head (the session database may already hold the
indexes and swaps of loads that ran before in the same session); alembic's autogenerate comparison
(``compare_metadata``, the machinery behind ``alembic check``) then lists every table, column,
type, nullability or index difference between the models and that database. The last test shows
the comparison is not blind: a column dropped or added, a geometry type and an index are each reported.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from geoalchemy2 import Geometry

from plekzoeker.db.models import SCHEMAS, Base


@pytest.fixture
def fresh(scratch_db_url):
    """A freshly migrated database of its own (conftest's scratch database; with an external
    DATABASE_URL, the session database)."""
    from plekzoeker.db.engine import normalise_url
    from plekzoeker.db.migrate import migrate

    eng = sa.create_engine(normalise_url(scratch_db_url))
    try:
        migrate(eng)
        yield eng
    finally:
        eng.dispose()


def _include_name(name, type_, parent_names) -> bool:
    if type_ == "schema":
        return name in SCHEMAS
    if type_ == "table":
        return name != "alembic_version"
    return True


def _diff(engine: sa.Engine, metadata: sa.MetaData) -> list:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_schemas": True, "include_name": _include_name,
            "version_table_schema": "meta"})
        return compare_metadata(ctx, metadata)


def test_models_equal_the_migrated_schema(fresh):
    diff = _diff(fresh, Base.metadata)
    assert diff == [], "models.py and the migrations disagree:\n" + "\n".join(map(repr, diff))


def test_loads_keep_the_schema(engine, demo_dir):
    """After every load of the demo town (each a staging table swapped in) and detect + score, the
    schema is still the models' one: same indexes under the same names, the owner table's comment
    (it holds personal data) kept."""
    from db_helpers import detect_and_score

    detect_and_score(engine, demo_dir / "demo.yaml", reset=True)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM core.owner")).scalar() > 0  # an owner import happened
        comment = conn.execute(sa.text("SELECT obj_description('core.owner'::regclass, 'pg_class')")).scalar()
    assert comment and "Personal data" in comment
    diff = _diff(engine, Base.metadata)
    assert diff == [], "a load changed the schema:\n" + "\n".join(map(repr, diff))


def test_every_migrated_table_has_a_model(fresh):
    with fresh.connect() as conn:
        tables = {f"{s}.{t}" for s, t in conn.execute(sa.text(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema = ANY(:s) AND table_name <> 'alembic_version'"), {"s": list(SCHEMAS)})}
    assert tables == set(Base.metadata.tables), "tables without a model, or models without a table"
    assert len(tables) >= 21


def test_the_comparison_sees_a_drift(fresh):
    """A copy of the models with a column missing, one too many, a wrong geometry type and an index
    missing: each difference is reported."""
    md = sa.MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(md)
    pand, poi = md.tables["core.pand"], md.tables["core.poi"]
    pand._columns.remove(pand.c.bouwjaar)
    md.tables["result.score"].append_column(sa.Column("not_in_the_database", sa.Text))
    poi.c.geom.type = Geometry("POLYGON", srid=28992, spatial_index=False)
    poi.indexes.clear()
    found = set()
    for d in _diff(fresh, md):
        d = d[0] if isinstance(d, list) else d
        if d[0] in ("add_column", "remove_column"):
            found.add((d[0], d[3].name))
        elif d[0] == "modify_type":
            found.add((d[0], d[3]))
        elif d[0] in ("add_index", "remove_index"):
            found.add((d[0], d[1].name))
    assert found == {("remove_column", "bouwjaar"), ("add_column", "not_in_the_database"), ("modify_type", "geom"),
                     ("remove_index", "poi_geom"), ("remove_index", "poi_ix0")}
