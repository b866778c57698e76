"""SQLAlchemy 2 / GeoAlchemy2 models of the tables (the DDL itself lives in the alembic migrations)."""
from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import ARRAY, BigInteger, Boolean, Date, DateTime, Float, Integer, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Run(Base):
    __tablename__ = "run"
    __table_args__ = {"schema": "meta"}
    run_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    flow: Mapped[str] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(Text)
    params: Mapped[dict] = mapped_column(JSONB)
    config_hash: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[dict] = mapped_column(JSONB)


class Input(Base):
    __tablename__ = "input"
    __table_args__ = {"schema": "meta"}
    input_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    options: Mapped[dict] = mapped_column(JSONB)
    rows_in: Mapped[int | None] = mapped_column(BigInteger)
    rows_out: Mapped[int | None] = mapped_column(BigInteger)
    rows_rejected: Mapped[int | None] = mapped_column(BigInteger)
    repaired: Mapped[int | None] = mapped_column(BigInteger)
    duplicates: Mapped[int | None] = mapped_column(BigInteger)
    seconds: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Pand(Base):
    __tablename__ = "pand"
    __table_args__ = {"schema": "core"}
    identificatie: Mapped[str] = mapped_column(Text, primary_key=True)
    status: Mapped[str | None] = mapped_column(Text)
    bouwjaar: Mapped[int | None] = mapped_column(Integer)
    documentdatum: Mapped[dt.date | None] = mapped_column(Date)
    begingeldigheid: Mapped[dt.date | None] = mapped_column(Date)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=28992, spatial_index=False))


class Verblijfsobject(Base):
    __tablename__ = "verblijfsobject"
    __table_args__ = {"schema": "core"}
    identificatie: Mapped[str] = mapped_column(Text, primary_key=True)
    pand_ids: Mapped[list[str]] = mapped_column(ARRAY(Text))
    gebruiksdoelen: Mapped[list[str]] = mapped_column(ARRAY(Text))
    oppervlakte: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str | None] = mapped_column(Text)
    openbare_ruimte: Mapped[str | None] = mapped_column(Text)
    huisnummer: Mapped[int | None] = mapped_column(Integer)
    huisletter: Mapped[str | None] = mapped_column(Text)
    toevoeging: Mapped[str | None] = mapped_column(Text)
    postcode: Mapped[str | None] = mapped_column(Text)
    woonplaats: Mapped[str | None] = mapped_column(Text)
    documentdatum: Mapped[dt.date | None] = mapped_column(Date)
    begingeldigheid: Mapped[dt.date | None] = mapped_column(Date)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    geom = mapped_column(Geometry("POINT", srid=28992, spatial_index=False))


class Perceel(Base):
    __tablename__ = "perceel"
    __table_args__ = {"schema": "core"}
    identificatie: Mapped[str] = mapped_column(Text, primary_key=True)
    kadastrale_gemeente_code: Mapped[str | None] = mapped_column(Text)
    kadastrale_gemeente: Mapped[str | None] = mapped_column(Text)
    sectie: Mapped[str | None] = mapped_column(Text)
    perceelnummer: Mapped[int | None] = mapped_column(Integer)
    kadastrale_aanduiding: Mapped[str | None] = mapped_column(Text)
    kadastrale_grootte: Mapped[int | None] = mapped_column(Integer)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=28992, spatial_index=False))


class Candidate(Base):
    __tablename__ = "candidate"
    __table_args__ = {"schema": "result"}
    candidate_key: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    source_ids: Mapped[list[str]] = mapped_column(ARRAY(Text))
    municipality: Mapped[str | None] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(Text)
    area_m2: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[list] = mapped_column(JSONB)
    details: Mapped[dict] = mapped_column(JSONB)
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    geom = mapped_column(Geometry("GEOMETRY", srid=28992, spatial_index=False))
    access_point = mapped_column(Geometry("POINT", srid=28992, spatial_index=False))


class Score(Base):
    __tablename__ = "score"
    __table_args__ = {"schema": "result"}
    candidate_key: Mapped[str] = mapped_column(Text, primary_key=True)
    criteria: Mapped[dict] = mapped_column(JSONB)
    subscores: Mapped[dict] = mapped_column(JSONB)
    weights: Mapped[dict] = mapped_column(JSONB)
    score: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    rank_municipality: Mapped[int | None] = mapped_column(Integer)
    excluded_reason: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(BigInteger)


class Outreach(Base):
    __tablename__ = "outreach"
    __table_args__ = {"schema": "result"}
    candidate_key: Mapped[str] = mapped_column(Text, primary_key=True)
    status: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class CandidateHistory(Base):
    __tablename__ = "candidate_history"
    __table_args__ = {"schema": "result"}
    candidate_key: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[dt.date] = mapped_column(Date)
    last_seen: Mapped[dt.date] = mapped_column(Date)
    gone_since: Mapped[dt.date | None] = mapped_column(Date)
    last_rank: Mapped[int | None] = mapped_column(Integer)
    last_score: Mapped[float | None] = mapped_column(Float)


OUTREACH_STATUSES = ("new", "contacted", "in talks", "declined", "suitable", "unsuitable")
_ = Boolean  # network tables are written by COPY only and have no model
