"""Run the alembic migrations (under an advisory lock, so two processes never migrate at once)."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from plekzoeker.errors import DatabaseError

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 7_262_001


def alembic_config(connection: sa.Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("version_locations", str(MIGRATIONS / "versions"))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def migrate(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; a no-op when it is already there.

    Raises DatabaseError (one line, password masked) when the server cannot be reached.
    """
    try:
        conn_cm = engine.connect()
    except sa.exc.OperationalError as exc:
        from .engine import mask_url

        reason = (str(exc.orig) if exc.orig else str(exc)).strip().splitlines()[0]
        raise DatabaseError(f"cannot reach the database at {mask_url(engine.url.render_as_string(hide_password=False))}: "
                            f"{reason}") from None
    with conn_cm as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
        try:
            conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS meta"))
            conn.commit()
            command.upgrade(alembic_config(conn), revision)
            conn.commit()
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
            conn.commit()


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        try:
            return conn.execute(sa.text("SELECT version_num FROM meta.alembic_version")).scalar()
        except sa.exc.ProgrammingError:
            return None


_MIGRATED: set[str] = set()


def engine_ready() -> sa.Engine:
    """The engine, with the schema migrated to the latest revision (checked once per process and database)."""
    from plekzoeker.db.engine import get_engine

    engine = get_engine()
    url = engine.url.render_as_string(hide_password=False)
    if url not in _MIGRATED:
        migrate(engine)
        _MIGRATED.add(url)
    return engine
