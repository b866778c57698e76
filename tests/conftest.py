"""Shared fixtures: a real PostGIS database per test session, and one Prefect test server.

Without DATABASE_URL the project's managed cluster (under $PLEKZOEKER_HOME, default ./.plekzoeker)
is started and a fresh database ``plekzoeker_test_<pid>`` is created for this session and dropped
afterwards. With DATABASE_URL set, that database is used as-is (it must have PostGIS).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
EXTERNAL_DB = bool(os.environ.get("DATABASE_URL"))
os.environ.setdefault("PLEKZOEKER_HOME", str(REPO / ".plekzoeker"))
os.environ.setdefault("PREFECT_HOME", str(Path(os.environ["PLEKZOEKER_HOME"]) / "prefect-test"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from db_helpers import TRUNCATE  # noqa: E402


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of this session's database (created and migrated)."""
    external = os.environ.get("DATABASE_URL")
    if external:
        from plekzoeker.db.engine import normalise_url

        yield normalise_url(external)
        return
    from plekzoeker.db.cluster import Cluster

    cluster = Cluster(Path(os.environ["PLEKZOEKER_HOME"]).resolve())
    cluster.start()
    name = f"plekzoeker_test_{os.getpid()}"
    cluster.drop_database(name)
    url = cluster.create_database(name)
    os.environ["DATABASE_URL"] = url
    try:
        yield url
    finally:
        os.environ.pop("DATABASE_URL", None)
        from plekzoeker.db.engine import _engine

        _engine.cache_clear()
        try:
            cluster.drop_database(name)
        except Exception:  # noqa: BLE001 - a test may have stopped the server
            pass


@pytest.fixture
def scratch_db_url(pg_url) -> str:
    """A database of its own for a test that runs the product as a separate process (an installed
    wheel, a fresh clone): created in the managed cluster and dropped afterwards. With an external
    DATABASE_URL the session database is used and emptied afterwards instead."""
    if EXTERNAL_DB:
        yield pg_url
        from plekzoeker.db.engine import get_engine

        with get_engine().begin() as conn:
            conn.execute(sa.text(TRUNCATE))
        return
    from plekzoeker.db.cluster import Cluster

    cluster = Cluster(Path(os.environ["PLEKZOEKER_HOME"]).resolve())
    name = f"plekzoeker_scratch_{os.getpid()}"
    cluster.drop_database(name)
    try:
        yield cluster.create_database(name)
    finally:
        cluster.drop_database(name)


@pytest.fixture(scope="session")
def engine(pg_url) -> sa.Engine:
    from plekzoeker.db.engine import get_engine
    from plekzoeker.db.migrate import migrate

    eng = get_engine()
    migrate(eng)
    return eng


@pytest.fixture
def db(engine) -> sa.Engine:
    """The session engine with every data table emptied before the test."""
    with engine.begin() as conn:
        conn.execute(sa.text(TRUNCATE))
    return engine


@pytest.fixture(scope="session")
def prefect_server():
    """One temporary Prefect API server for all flow tests (~20 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """The generated demo town (default seed), once per session, with its demo.yaml."""
    from plekzoeker.demo.config import write_demo_config
    from plekzoeker.demo.generate import generate_town

    d = tmp_path_factory.mktemp("demo")
    generate_town(d, seed=7)
    write_demo_config(d)
    return d
