"""Where the database is and how to connect: DATABASE_URL, or the managed local cluster."""
from __future__ import annotations

import logging
import re
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from plekzoeker.errors import DatabaseError
from plekzoeker.settings import get_settings

from .cluster import Cluster

log = logging.getLogger(__name__)


def mask_url(url: str) -> str:
    """The URL with its password replaced by ***, for logs and messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - never leak a password because the URL is odd
        return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgresql:// URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def database_url(start: bool = True) -> str:
    """DATABASE_URL when set; otherwise the managed cluster's URL (started when ``start``)."""
    s = get_settings()
    if s.database_url:
        return normalise_url(s.database_url)
    cluster = Cluster(s.home)
    if start:
        return cluster.start()
    return cluster.url()


@lru_cache(maxsize=8)
def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, future=True)


def get_engine(start: bool = True) -> sa.Engine:
    """A pooled SQLAlchemy engine for the configured database."""
    url = database_url(start=start)
    try:
        return _engine(url)
    except Exception as exc:  # pragma: no cover - bad URL
        raise DatabaseError(f"cannot use database {mask_url(url)}: {exc}") from exc


def check_connection(engine: sa.Engine) -> None:
    """Raise a clear DatabaseError when the server cannot be reached or lacks PostGIS."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT postgis_version()"))
    except Exception as exc:  # noqa: BLE001
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseError(f"cannot use database {mask_url(engine.url.render_as_string(hide_password=False))}: {first}") from exc
