"""SQLAlchemy 2 / GeoAlchemy2 models: the one description in Python of every table the migrations create.

The DDL itself lives in the alembic migrations (``migrations/versions/*.sql``); queries stay in SQL
files beside the code that runs them. These models say the same thing as the DDL — columns, types,
nullability, primary and foreign keys, indexes — so a reader (or a tool) sees the schema without
reading SQL, and ``tests/test_schema.py`` compares them with a freshly migrated database through
alembic's ``compare_metadata``: a migration that adds a column the models lack, or the reverse,
fails that test. Server defaults are not compared (alembic cannot compare them reliably), but they
are written down here as well so the models are complete.

Geometry columns carry ``spatial_index=False``: their GiST indexes are declared explicitly in
``__table_args__`` with the names the migrations give them. Those names are also the ones every
load gives the indexes it rebuilds (``<table>_geom``, ``<table>_ix<n>`` for the n-th entry of the
table's ``TableSpec.indexes``), so the schema is the same before and after a load.
"""
from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import ARRAY, BigInteger, Boolean, CheckConstraint, Date, DateTime, Float, ForeignKey, Index, Integer, Text
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "OUTREACH_STATUSES", "SCHEMAS"]

SCHEMAS = ("raw", "core", "result", "meta")
"""raw: staging tables of a load in progress (none exist between loads); core: validated data in
EPSG:28992; result: candidates, scores, outreach; meta: run ledger and loaded inputs."""

OUTREACH_STATUSES = ("new", "contacted", "in talks", "declined", "suitable", "unsuitable")

RD_NEW = 28992


def _geom(kind: str, nullable: bool = False):
    return mapped_column(Geometry(kind, srid=RD_NEW, spatial_index=False), nullable=nullable)


def _gist(name: str, column: str = "geom") -> Index:
    return Index(name, column, postgresql_using="gist")


_NOW = sql("now()")
_EMPTY_JSON = sql("'{}'::jsonb")
_EMPTY_LIST = sql("'[]'::jsonb")
_EMPTY_ARRAY = sql("'{}'::text[]")


class Base(DeclarativeBase):
    pass


# --- meta: the run ledger ---------------------------------------------------------------------------
class Run(Base):
    """One row per flow or CLI stage run: what ran, with which parameters, and how it ended."""
    __tablename__ = "run"
    __table_args__ = {"schema": "meta"}
    run_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    flow: Mapped[str] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_NOW)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(Text, server_default=sql("'running'"))
    params: Mapped[dict] = mapped_column(JSONB, server_default=_EMPTY_JSON)
    config_hash: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[dict] = mapped_column(JSONB, server_default=_EMPTY_JSON)


class Input(Base):
    """One row per load of a source file: its hash (unchanged files are skipped), counts and outcome."""
    __tablename__ = "input"
    __table_args__ = (Index("input_kind_sha", "kind", "sha256"), {"schema": "meta"})
    input_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    options: Mapped[dict] = mapped_column(JSONB, server_default=_EMPTY_JSON)
    rows_in: Mapped[int | None] = mapped_column(BigInteger)
    rows_out: Mapped[int | None] = mapped_column(BigInteger)
    rows_rejected: Mapped[int | None] = mapped_column(BigInteger)
    repaired: Mapped[int | None] = mapped_column(BigInteger)
    duplicates: Mapped[int | None] = mapped_column(BigInteger)
    seconds: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(Text, server_default=sql("'loading'"))
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_NOW)


class Reject(Base):
    """A row of an input that was not loaded, with the reason (never with an owner's name)."""
    __tablename__ = "reject"
    __table_args__ = {"schema": "meta"}
    # the table has no key of its own; the ORM needs one, the database does not (see __mapper_args__)
    input_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("meta.input.input_id", ondelete="CASCADE"))
    row_ref: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str | None] = mapped_column(Text)
    __mapper_args__ = {"primary_key": [input_id, row_ref]}


class Raster(Base):
    """A registered raster (noise, flood depth, ...): read in place, by path, at scoring time."""
    __tablename__ = "raster"
    __table_args__ = {"schema": "meta"}
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(Text)
    crs: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_NOW)


class Stage(Base):
    """The input key each stage last ran with: a stage whose key is unchanged is skipped."""
    __tablename__ = "stage"
    __table_args__ = {"schema": "meta"}
    stage: Mapped[str] = mapped_column(Text, primary_key=True)
    input_key: Mapped[str] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_NOW)


# --- core: validated registry data in EPSG:28992 ---------------------------------------------------
class Pand(Base):
    __tablename__ = "pand"
    __table_args__ = (_gist("pand_geom"), Index("pand_ix0", "status"), {"schema": "core"})
    identificatie: Mapped[str] = mapped_column(Text, primary_key=True)
    status: Mapped[str | None] = mapped_column(Text)
    bouwjaar: Mapped[int | None] = mapped_column(Integer)
    documentdatum: Mapped[dt.date | None] = mapped_column(Date)
    begingeldigheid: Mapped[dt.date | None] = mapped_column(Date)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    geom = _geom("MULTIPOLYGON")


class Verblijfsobject(Base):
    __tablename__ = "verblijfsobject"
    __table_args__ = (_gist("verblijfsobject_geom"), {"schema": "core"})
    identificatie: Mapped[str] = mapped_column(Text, primary_key=True)
    pand_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=_EMPTY_ARRAY)
    gebruiksdoelen: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=_EMPTY_ARRAY)
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
    geom = _geom("POINT")


class Perceel(Base):
    __tablename__ = "perceel"
    __table_args__ = (_gist("perceel_geom"), Index("perceel_ix0", "kadastrale_aanduiding"), {"schema": "core"})
    identificatie: Mapped[str] = mapped_column(Text, primary_key=True)
    kadastrale_gemeente_code: Mapped[str | None] = mapped_column(Text)
    kadastrale_gemeente: Mapped[str | None] = mapped_column(Text)
    sectie: Mapped[str | None] = mapped_column(Text)
    perceelnummer: Mapped[int | None] = mapped_column(Integer)
    kadastrale_aanduiding: Mapped[str | None] = mapped_column(Text)
    kadastrale_grootte: Mapped[int | None] = mapped_column(Integer)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    geom = _geom("MULTIPOLYGON")


class BgtVlak(Base):
    """BGT surfaces (water, roads, terrain, panden) by layer and class; no key of its own."""
    __tablename__ = "bgt_vlak"
    __table_args__ = (_gist("bgt_vlak_geom"), Index("bgt_vlak_ix0", "laag", "klasse"), {"schema": "core"})
    identificatie: Mapped[str | None] = mapped_column(Text)
    laag: Mapped[str] = mapped_column(Text)
    klasse: Mapped[str | None] = mapped_column(Text)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    geom = _geom("MULTIPOLYGON")
    __mapper_args__ = {"primary_key": [identificatie, laag]}


class Poi(Base):
    """A point of interest by category (stop, supermarket, GP, ...), from OSM."""
    __tablename__ = "poi"
    __table_args__ = (_gist("poi_geom"), Index("poi_ix0", "category"), {"schema": "core"})
    category: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    osm_id: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[dict | None] = mapped_column(JSONB)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    geom = _geom("POINT")
    __mapper_args__ = {"primary_key": [category, osm_id]}


class NetworkNode(Base):
    """A node of the OSM street graph (walk and bike), in metres."""
    __tablename__ = "network_node"
    __table_args__ = (_gist("network_node_geom"), {"schema": "core"})
    node_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    geom = _geom("POINT")


class NetworkEdge(Base):
    """An edge of the street graph with the modes that may use it; written by COPY only."""
    __tablename__ = "network_edge"
    __table_args__ = (_gist("network_edge_geom"), Index("network_edge_ix0", "u"), Index("network_edge_ix1", "v"),
                      {"schema": "core"})
    u: Mapped[int] = mapped_column(BigInteger)
    v: Mapped[int] = mapped_column(BigInteger)
    length_m: Mapped[float] = mapped_column(Float)
    highway: Mapped[str | None] = mapped_column(Text)
    walk: Mapped[bool] = mapped_column(Boolean)
    bike: Mapped[bool] = mapped_column(Boolean)
    oneway_bike: Mapped[bool] = mapped_column(Boolean)
    osm_way_id: Mapped[int | None] = mapped_column(BigInteger)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    geom = _geom("LINESTRING")
    __mapper_args__ = {"primary_key": [u, v, osm_way_id]}


class Landuse(Base):
    """OSM land use / natural polygons used as plot exclusions and context."""
    __tablename__ = "landuse"
    __table_args__ = (_gist("landuse_geom"), Index("landuse_ix0", "key", "value"), {"schema": "core"})
    osm_id: Mapped[str | None] = mapped_column(Text)
    key: Mapped[str] = mapped_column(Text)
    value: Mapped[str] = mapped_column(Text)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    geom = _geom("MULTIPOLYGON")
    __mapper_args__ = {"primary_key": [osm_id, key]}


class Signal(Base):
    """Optional signals (vacancy register, establishments, energy, listings), keyed by unit id or address."""
    __tablename__ = "signal"
    __table_args__ = (Index("signal_kind_vbo", "kind", "verblijfsobject_id"),
                      Index("signal_kind_addr", "kind", "postcode", "huisnummer"), {"schema": "core"})
    kind: Mapped[str] = mapped_column(Text)
    verblijfsobject_id: Mapped[str | None] = mapped_column(Text)
    postcode: Mapped[str | None] = mapped_column(Text)
    huisnummer: Mapped[int | None] = mapped_column(Integer)
    huisletter: Mapped[str | None] = mapped_column(Text)
    toevoeging: Mapped[str | None] = mapped_column(Text)
    since: Mapped[dt.date | None] = mapped_column(Date)
    value: Mapped[dict] = mapped_column(JSONB, server_default=_EMPTY_JSON)
    source_file: Mapped[str | None] = mapped_column(Text)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    __mapper_args__ = {"primary_key": [kind, verblijfsobject_id, postcode, huisnummer]}


class Owner(Base):
    """Owner export. Personal data (AVG/GDPR): names of natural persons; never published."""
    __tablename__ = "owner"
    __table_args__ = {"schema": "core", "comment": (
        "Personal data (AVG/GDPR): owner names of natural persons. Retention: replaced by each import; "
        "delete with `plekzoeker ingest signals owners --purge`. Never published.")}
    kadastrale_aanduiding: Mapped[str | None] = mapped_column(Text)
    verblijfsobject_id: Mapped[str | None] = mapped_column(Text)
    pand_id: Mapped[str | None] = mapped_column(Text)
    owner_name: Mapped[str | None] = mapped_column(Text)
    owner_kind: Mapped[str] = mapped_column(Text)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    __mapper_args__ = {"primary_key": [kadastrale_aanduiding, verblijfsobject_id, pand_id]}


# --- result: what detect, score and the coordinators produce ---------------------------------------
class Candidate(Base):
    __tablename__ = "candidate"
    __table_args__ = (_gist("candidate_geom"), Index("candidate_ix0", "kind"), Index("candidate_ix1", "municipality"),
                      {"schema": "result"})
    candidate_key: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)  # vacant_building | undeveloped_plot
    source_ids: Mapped[list[str]] = mapped_column(ARRAY(Text))
    municipality: Mapped[str | None] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(Text)  # address or kadastrale aanduiding
    area_m2: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[list] = mapped_column(JSONB, server_default=_EMPTY_LIST)
    details: Mapped[dict] = mapped_column(JSONB, server_default=_EMPTY_JSON)
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    geom = _geom("GEOMETRY")
    access_point = _geom("POINT")


class Access(Base):
    """Network distance per candidate, mode and POI category (NULL with a reason when unreachable)."""
    __tablename__ = "access"
    __table_args__ = {"schema": "result"}
    candidate_key: Mapped[str] = mapped_column(Text, primary_key=True)
    mode: Mapped[str] = mapped_column(Text, primary_key=True)
    category: Mapped[str] = mapped_column(Text, primary_key=True)
    dist_m: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(Text)


class Score(Base):
    __tablename__ = "score"
    __table_args__ = {"schema": "result"}
    candidate_key: Mapped[str] = mapped_column(Text, primary_key=True)
    criteria: Mapped[dict] = mapped_column(JSONB)  # raw values per criterion
    subscores: Mapped[dict] = mapped_column(JSONB)  # sub-score in [0,1] per criterion
    weights: Mapped[dict] = mapped_column(JSONB)
    score: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    rank_municipality: Mapped[int | None] = mapped_column(Integer)
    excluded_reason: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(BigInteger)


class Outreach(Base):
    """A coordinator's status and note per candidate: survives reruns, joined into the lists."""
    __tablename__ = "outreach"
    __table_args__ = (CheckConstraint("status IN ({})".format(", ".join(f"'{s}'" for s in OUTREACH_STATUSES)),
                                      name="outreach_status_check"), {"schema": "result"})
    candidate_key: Mapped[str] = mapped_column(Text, primary_key=True)
    status: Mapped[str] = mapped_column(Text, server_default=sql("'new'"))
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_NOW)
    version: Mapped[int] = mapped_column(Integer, server_default=sql("1"))
    updated_by: Mapped[str | None] = mapped_column(Text)


class OutreachHistory(Base):
    """Every change of an outreach record (event 'change') and every conflicting edit kept beside the
    current one (event 'conflict'), with who and when (migration 0002)."""
    __tablename__ = "outreach_history"
    __table_args__ = (
        CheckConstraint("event IN ('change', 'conflict')", name="outreach_history_event_check"),
        CheckConstraint("status IN ({})".format(", ".join(f"'{s}'" for s in OUTREACH_STATUSES)),
                        name="outreach_history_status_check"),
        Index("outreach_history_key", "candidate_key", "history_id"),
        {"schema": "result"})
    history_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    candidate_key: Mapped[str] = mapped_column(Text)
    event: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    based_on: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=_NOW)
    source: Mapped[str | None] = mapped_column(Text)


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


class Exclusion(Base):
    """Places that would have been candidates but were excluded, with the reason (e.g. demolition permit)."""
    __tablename__ = "exclusion"
    __table_args__ = {"schema": "result"}
    candidate_key: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSONB, server_default=_EMPTY_JSON)
    run_id: Mapped[int | None] = mapped_column(BigInteger)


class Fact(Base):
    """Facts per candidate (zoning, energy label, monument, age, floors, height); NULL = unknown."""
    __tablename__ = "fact"
    __table_args__ = (
        CheckConstraint("zoning_verdict IN ('allowed', 'deviation', 'blocked')", name="fact_zoning_verdict_check"),
        CheckConstraint("monument IN ('rijks', 'gemeentelijk', 'none')", name="fact_monument_check"),
        {"schema": "result", "comment": "Facts per candidate (zoning, energy label, monument, age, floors, height); "
                                        "NULL = unknown."},
    )
    candidate_key: Mapped[str] = mapped_column(Text, primary_key=True)
    zoning: Mapped[str | None] = mapped_column(Text)
    zoning_verdict: Mapped[str | None] = mapped_column(Text)
    zoning_rule: Mapped[str | None] = mapped_column(Text)
    zoning_plan: Mapped[str | None] = mapped_column(Text)
    energy_label: Mapped[str | None] = mapped_column(Text)
    label_rule: Mapped[bool | None] = mapped_column(Boolean)
    monument: Mapped[str | None] = mapped_column(Text)
    bouwjaar: Mapped[int | None] = mapped_column(Integer)
    floors: Mapped[int | None] = mapped_column(Integer)
    height_m: Mapped[float | None] = mapped_column(Float)
    sources: Mapped[dict] = mapped_column(JSONB, server_default=_EMPTY_JSON)
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    # migration 0008: detail facts of the winning zoning plan
    zoning_functions: Mapped[str | None] = mapped_column(Text)
    zoning_max_floors: Mapped[int | None] = mapped_column(Integer)
    zoning_max_height_m: Mapped[float | None] = mapped_column(Float)
    zoning_max_coverage_pct: Mapped[float | None] = mapped_column(Float)
    bouwvlak_pct: Mapped[float | None] = mapped_column(Float)


# --- core: the sources of the facts (migration 0005) -------------------------------------------------
class Zoning(Base):
    """Zoning objects of both regimes: IMRO2012 plan objects and Omgevingsplan (DSO) functie annotations."""
    __tablename__ = "zoning"
    __table_args__ = (
        CheckConstraint("regime IN ('imro', 'dso')", name="zoning_regime_check"),
        _gist("zoning_geom"), Index("zoning_ix0", "objecttype"), {"schema": "core"})
    identificatie: Mapped[str] = mapped_column(Text, primary_key=True)
    regime: Mapped[str] = mapped_column(Text)
    plan_id: Mapped[str] = mapped_column(Text)
    plan_name: Mapped[str | None] = mapped_column(Text)
    plan_status: Mapped[str | None] = mapped_column(Text)
    plan_date: Mapped[dt.date | None] = mapped_column(Date)
    objecttype: Mapped[str] = mapped_column(Text)
    hoofdgroep: Mapped[str | None] = mapped_column(Text)
    naam: Mapped[str | None] = mapped_column(Text)
    waarde: Mapped[str | None] = mapped_column(Text)
    waarde_type: Mapped[str | None] = mapped_column(Text)
    source_file: Mapped[str | None] = mapped_column(Text)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    geom = _geom("MULTIPOLYGON", nullable=True)  # NULL only in staging: rejected as 'no surface'


class EnergyLabel(Base):
    """EP-Online energy labels, keyed by verblijfsobject id or address."""
    __tablename__ = "energy_label"
    __table_args__ = (Index("energy_label_ix0", "verblijfsobject_id"),
                      Index("energy_label_ix1", "postcode", "huisnummer"), {"schema": "core"})
    verblijfsobject_id: Mapped[str | None] = mapped_column(Text)
    postcode: Mapped[str | None] = mapped_column(Text)
    huisnummer: Mapped[int | None] = mapped_column(Integer)
    huisletter: Mapped[str | None] = mapped_column(Text)
    toevoeging: Mapped[str | None] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(Text)
    registered: Mapped[dt.date | None] = mapped_column(Date)
    label_type: Mapped[str | None] = mapped_column(Text)
    source_file: Mapped[str | None] = mapped_column(Text)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    __mapper_args__ = {"primary_key": [verblijfsobject_id, postcode, huisnummer]}


class Monument(Base):
    """Rijksmonumenten and municipal monuments, by BAG id or geometry."""
    __tablename__ = "monument"
    __table_args__ = (CheckConstraint("kind IN ('rijks', 'gemeentelijk')", name="monument_kind_check"),
                      _gist("monument_geom"), Index("monument_ix0", "pand_id"), {"schema": "core"})
    kind: Mapped[str] = mapped_column(Text)
    monument_id: Mapped[str | None] = mapped_column(Text)
    pand_id: Mapped[str | None] = mapped_column(Text)
    verblijfsobject_id: Mapped[str | None] = mapped_column(Text)
    naam: Mapped[str | None] = mapped_column(Text)
    source_file: Mapped[str | None] = mapped_column(Text)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    geom = _geom("GEOMETRY", nullable=True)
    __mapper_args__ = {"primary_key": [kind, monument_id, pand_id]}


class Pand3d(Base):
    """3DBAG heights and floors per BAG pand."""
    __tablename__ = "pand_3d"
    __table_args__ = {"schema": "core"}
    pand_id: Mapped[str] = mapped_column(Text, primary_key=True)
    h_maaiveld: Mapped[float | None] = mapped_column(Float)
    h_dak_70p: Mapped[float | None] = mapped_column(Float)
    bouwlagen: Mapped[int | None] = mapped_column(Integer)
    opp_grond: Mapped[float | None] = mapped_column(Float)
    input_id: Mapped[int | None] = mapped_column(BigInteger)


class ProtectedArea(Base):
    """Protected nature (Natura 2000 sites): plot exclusions."""
    __tablename__ = "protected_area"
    __table_args__ = (_gist("protected_area_geom"), {"schema": "core"})
    identificatie: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    naam: Mapped[str | None] = mapped_column(Text)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    geom = _geom("MULTIPOLYGON", nullable=True)  # NULL only in staging: rejected as 'no surface'


class PowerLine(Base):
    """High-voltage lines (OSM power=line): plot exclusions within a buffer."""
    __tablename__ = "power_line"
    __table_args__ = (_gist("power_line_geom"), {"schema": "core"})
    osm_id: Mapped[str | None] = mapped_column(Text)
    voltage: Mapped[str | None] = mapped_column(Text)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    geom = _geom("LINESTRING")
    __mapper_args__ = {"primary_key": [osm_id]}


class OsmBuilding(Base):
    """OSM buildings with building:levels/height (floors fallback where 3DBAG has none; migration 0008)."""
    __tablename__ = "osm_building"
    __table_args__ = (_gist("osm_building_geom"), Index("osm_building_ix0", "pand_id"),
                      {"schema": "core", "comment": "OSM buildings with building:levels/height (floors fallback "
                                                    "where 3DBAG has none)."})
    osm_id: Mapped[str] = mapped_column(Text)
    pand_id: Mapped[str | None] = mapped_column(Text)
    levels: Mapped[int | None] = mapped_column(Integer)
    height_m: Mapped[float | None] = mapped_column(Float)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    geom = _geom("POINT")
    __mapper_args__ = {"primary_key": [osm_id]}


# --- GTFS timetables (migration 0007, sources/gtfs.py) -------------------------------------------
class GtfsStop(Base):
    """A GTFS stop or station in the area (with its buffer)."""
    __tablename__ = "gtfs_stop"
    __table_args__ = (_gist("gtfs_stop_geom"), {"schema": "core"})
    stop_id: Mapped[str] = mapped_column(Text, primary_key=True)
    stop_name: Mapped[str | None] = mapped_column(Text)
    location_type: Mapped[int | None] = mapped_column(Integer)
    parent_station: Mapped[str | None] = mapped_column(Text)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    geom = _geom("POINT")


class GtfsRoute(Base):
    """A GTFS route (line) with its mode (route_type)."""
    __tablename__ = "gtfs_route"
    __table_args__ = {"schema": "core"}
    route_id: Mapped[str] = mapped_column(Text, primary_key=True)
    agency_id: Mapped[str | None] = mapped_column(Text)
    route_short_name: Mapped[str | None] = mapped_column(Text)
    route_long_name: Mapped[str | None] = mapped_column(Text)
    route_type: Mapped[int | None] = mapped_column(Integer, nullable=True)
    input_id: Mapped[int | None] = mapped_column(BigInteger)


class GtfsTrip(Base):
    """A GTFS trip: one run of a route on the days of its service."""
    __tablename__ = "gtfs_trip"
    __table_args__ = {"schema": "core"}
    trip_id: Mapped[str] = mapped_column(Text, primary_key=True)
    route_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    service_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    input_id: Mapped[int | None] = mapped_column(BigInteger)


class GtfsStopTime(Base):
    """A trip's call at a stop; times in seconds of the service day (may exceed 86,400)."""
    __tablename__ = "gtfs_stop_time"
    __table_args__ = (Index("gtfs_stop_time_ix0", "trip_id", "stop_sequence"), {"schema": "core"})
    trip_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    stop_sequence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    stop_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    arrival_s: Mapped[int | None] = mapped_column(Integer)
    departure_s: Mapped[int | None] = mapped_column(Integer)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    __mapper_args__ = {"primary_key": [trip_id, stop_sequence]}


class GtfsCalendar(Base):
    """Weekly service pattern of a service_id (seven 0/1 flags, Monday first) between two dates."""
    __tablename__ = "gtfs_calendar"
    __table_args__ = {"schema": "core"}
    service_id: Mapped[str] = mapped_column(Text, primary_key=True)
    weekdays: Mapped[str | None] = mapped_column(Text, nullable=True)
    start_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    input_id: Mapped[int | None] = mapped_column(BigInteger)


class GtfsCalendarDate(Base):
    """A service added (1) or removed (2) on one date."""
    __tablename__ = "gtfs_calendar_date"
    __table_args__ = (Index("gtfs_calendar_date_ix0", "date"), {"schema": "core"})
    service_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    exception_type: Mapped[int | None] = mapped_column(Integer, nullable=True)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    __mapper_args__ = {"primary_key": [service_id, date]}


class GtfsTransfer(Base):
    """A GTFS transfer rule between two stops."""
    __tablename__ = "gtfs_transfer"
    __table_args__ = {"schema": "core"}
    from_stop_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    to_stop_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    transfer_type: Mapped[int | None] = mapped_column(Integer, nullable=True)
    min_transfer_time: Mapped[int | None] = mapped_column(Integer)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    __mapper_args__ = {"primary_key": [from_stop_id, to_stop_id]}


class Ranking(Base):
    """Per candidate: capacity, vetoes, quick-scan flags, owner priority, profile, rank range; NULL = unknown."""
    __tablename__ = "ranking"
    __table_args__ = {"schema": "result", "comment": "Per candidate: capacity, vetoes, flags, owner priority, "
                                                     "profile, rank range; NULL = unknown."}
    candidate_key: Mapped[str] = mapped_column(Text, primary_key=True)
    profile: Mapped[str] = mapped_column(Text)
    people_low: Mapped[int | None] = mapped_column(Integer)
    people_high: Mapped[int | None] = mapped_column(Integer)
    homes_low: Mapped[int | None] = mapped_column(Integer)
    homes_high: Mapped[int | None] = mapped_column(Integer)
    capacity_basis: Mapped[str | None] = mapped_column(Text)
    vetoes: Mapped[list] = mapped_column(JSONB, server_default=_EMPTY_LIST)
    flags: Mapped[list] = mapped_column(JSONB, server_default=_EMPTY_LIST)
    owner_kind: Mapped[str | None] = mapped_column(Text)
    owner_tier: Mapped[int | None] = mapped_column(Integer)
    offered: Mapped[bool] = mapped_column(Boolean, server_default=sql("false"))
    offer: Mapped[str | None] = mapped_column(Text)
    flagged_since: Mapped[dt.date | None] = mapped_column(Date)
    months_flagged: Mapped[int | None] = mapped_column(Integer)
    score_relative: Mapped[float | None] = mapped_column(Float)
    rank_low: Mapped[int | None] = mapped_column(Integer)
    rank_high: Mapped[int | None] = mapped_column(Integer)
    run_id: Mapped[int | None] = mapped_column(BigInteger)


class Offer(Base):
    """Places owners offer. Personal data (AVG/GDPR): contact details; never published."""
    __tablename__ = "offer"
    __table_args__ = {"schema": "core", "comment": (
        "Personal data (AVG/GDPR): contact details of owners who offer a place. Replaced by each import. "
        "Never published.")}
    verblijfsobject_id: Mapped[str | None] = mapped_column(Text)
    pand_id: Mapped[str | None] = mapped_column(Text)
    postcode: Mapped[str | None] = mapped_column(Text)
    huisnummer: Mapped[int | None] = mapped_column(Integer)
    huisletter: Mapped[str | None] = mapped_column(Text)
    toevoeging: Mapped[str | None] = mapped_column(Text)
    kadastrale_aanduiding: Mapped[str | None] = mapped_column(Text)
    offered_from: Mapped[dt.date | None] = mapped_column(Date)
    offered_until: Mapped[dt.date | None] = mapped_column(Date)
    conditions: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    source_file: Mapped[str | None] = mapped_column(Text)
    input_id: Mapped[int | None] = mapped_column(BigInteger)
    __mapper_args__ = {"primary_key": [verblijfsobject_id, pand_id, kadastrale_aanduiding]}
