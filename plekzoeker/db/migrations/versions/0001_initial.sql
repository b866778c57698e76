-- plekzoeker initial schema. raw: staging tables of a load in progress; core: validated data in
-- EPSG:28992; result: candidates, scores, outreach; meta: run ledger and loaded inputs.
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS result;
CREATE SCHEMA IF NOT EXISTS meta;

CREATE TABLE meta.run (
    run_id       bigserial PRIMARY KEY,
    flow         text NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    status       text NOT NULL DEFAULT 'running',
    params       jsonb NOT NULL DEFAULT '{}',
    config_hash  text,
    summary      jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE meta.input (
    input_id      bigserial PRIMARY KEY,
    kind          text NOT NULL,
    path          text NOT NULL,
    sha256        text NOT NULL,
    size_bytes    bigint NOT NULL,
    options       jsonb NOT NULL DEFAULT '{}',
    rows_in       bigint,
    rows_out      bigint,
    rows_rejected bigint,
    repaired      bigint,
    duplicates    bigint,
    seconds       double precision,
    status        text NOT NULL DEFAULT 'loading',
    loaded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX input_kind_sha ON meta.input (kind, sha256);

CREATE TABLE meta.reject (
    input_id  bigint NOT NULL REFERENCES meta.input ON DELETE CASCADE,
    row_ref   text,
    reason    text NOT NULL,
    raw       text
);

CREATE TABLE meta.raster (
    kind          text PRIMARY KEY,
    path          text NOT NULL,
    sha256        text NOT NULL,
    crs           text NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE meta.stage (
    stage       text PRIMARY KEY,
    input_key   text NOT NULL,
    run_id      bigint,
    finished_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE core.pand (
    identificatie   text PRIMARY KEY,
    status          text,
    bouwjaar        integer,
    documentdatum   date,
    begingeldigheid date,
    input_id        bigint,
    geom            geometry(MultiPolygon, 28992) NOT NULL
);
CREATE INDEX pand_geom ON core.pand USING gist (geom);

CREATE TABLE core.verblijfsobject (
    identificatie   text PRIMARY KEY,
    pand_ids        text[] NOT NULL DEFAULT '{}',
    gebruiksdoelen  text[] NOT NULL DEFAULT '{}',
    oppervlakte     integer,
    status          text,
    openbare_ruimte text,
    huisnummer      integer,
    huisletter      text,
    toevoeging      text,
    postcode        text,
    woonplaats      text,
    documentdatum   date,
    begingeldigheid date,
    input_id        bigint,
    geom            geometry(Point, 28992) NOT NULL
);
CREATE INDEX verblijfsobject_geom ON core.verblijfsobject USING gist (geom);

CREATE TABLE core.perceel (
    identificatie            text PRIMARY KEY,
    kadastrale_gemeente_code text,
    kadastrale_gemeente      text,
    sectie                   text,
    perceelnummer            integer,
    kadastrale_aanduiding    text,
    kadastrale_grootte       integer,
    input_id                 bigint,
    geom                     geometry(MultiPolygon, 28992) NOT NULL
);
CREATE INDEX perceel_geom ON core.perceel USING gist (geom);

CREATE TABLE core.bgt_vlak (
    identificatie text,
    laag          text NOT NULL,
    klasse        text,
    input_id      bigint,
    geom          geometry(MultiPolygon, 28992) NOT NULL
);
CREATE INDEX bgt_vlak_geom ON core.bgt_vlak USING gist (geom);

CREATE TABLE core.poi (
    category text NOT NULL,
    name     text,
    osm_id   text,
    tags     jsonb,
    input_id bigint,
    geom     geometry(Point, 28992) NOT NULL
);
CREATE INDEX poi_geom ON core.poi USING gist (geom);

CREATE TABLE core.network_node (
    node_id  bigint PRIMARY KEY,
    input_id bigint,
    geom     geometry(Point, 28992) NOT NULL
);

CREATE TABLE core.network_edge (
    u           bigint NOT NULL,
    v           bigint NOT NULL,
    length_m    double precision NOT NULL,
    highway     text,
    walk        boolean NOT NULL,
    bike        boolean NOT NULL,
    oneway_bike boolean NOT NULL,
    osm_way_id  bigint,
    input_id    bigint,
    geom        geometry(LineString, 28992) NOT NULL
);
CREATE INDEX network_edge_geom ON core.network_edge USING gist (geom);

CREATE TABLE core.landuse (
    osm_id   text,
    key      text NOT NULL,
    value    text NOT NULL,
    input_id bigint,
    geom     geometry(MultiPolygon, 28992) NOT NULL
);
CREATE INDEX landuse_geom ON core.landuse USING gist (geom);

-- Optional signals (vacancy register, establishments, energy, listings), keyed by unit id or address.
CREATE TABLE core.signal (
    kind              text NOT NULL,
    verblijfsobject_id text,
    postcode          text,
    huisnummer        integer,
    huisletter        text,
    toevoeging        text,
    since             date,
    value             jsonb NOT NULL DEFAULT '{}',
    source_file       text,
    input_id          bigint
);
CREATE INDEX signal_kind_vbo ON core.signal (kind, verblijfsobject_id);
CREATE INDEX signal_kind_addr ON core.signal (kind, postcode, huisnummer);

-- Owner export. Contains personal data (names of natural persons): kept only for the coordinator
-- list, never published in GeoJSON/HTML/logs; replaced wholesale by every owner import.
CREATE TABLE core.owner (
    kadastrale_aanduiding text,
    verblijfsobject_id    text,
    pand_id               text,
    owner_name            text,
    owner_kind            text NOT NULL,
    input_id              bigint
);
COMMENT ON TABLE core.owner IS 'Personal data (AVG/GDPR): owner names of natural persons. Retention: replaced by each import; delete with `plekzoeker ingest signals owners --purge`. Never published.';

CREATE TABLE result.candidate (
    candidate_key    text PRIMARY KEY,
    kind             text NOT NULL,          -- vacant_building | undeveloped_plot
    source_ids       text[] NOT NULL,
    municipality     text,
    label            text,                   -- address or kadastrale aanduiding
    area_m2          double precision NOT NULL,
    confidence       double precision,
    evidence         jsonb NOT NULL DEFAULT '[]',
    details          jsonb NOT NULL DEFAULT '{}',
    run_id           bigint,
    geom             geometry(Geometry, 28992) NOT NULL,
    access_point     geometry(Point, 28992) NOT NULL
);
CREATE INDEX candidate_geom ON result.candidate USING gist (geom);

CREATE TABLE result.access (
    candidate_key text NOT NULL,
    mode          text NOT NULL,
    category      text NOT NULL,
    dist_m        double precision,
    count_within  integer,
    reason        text,
    PRIMARY KEY (candidate_key, mode, category)
);

CREATE TABLE result.score (
    candidate_key     text PRIMARY KEY,
    criteria          jsonb NOT NULL,   -- raw values per criterion
    subscores         jsonb NOT NULL,   -- sub-score in [0,1] per criterion
    weights           jsonb NOT NULL,
    score             double precision,
    rank              integer,
    rank_municipality integer,
    excluded_reason   text,
    run_id            bigint
);

CREATE TABLE result.outreach (
    candidate_key text PRIMARY KEY,
    status        text NOT NULL DEFAULT 'new'
                  CHECK (status IN ('new', 'contacted', 'in talks', 'declined', 'suitable', 'unsuitable')),
    note          text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE result.candidate_history (
    candidate_key text PRIMARY KEY,
    kind          text NOT NULL,
    label         text,
    first_seen    date NOT NULL,
    last_seen     date NOT NULL,
    gone_since    date,
    last_rank     integer,
    last_score    double precision
);

-- Places that would have been candidates but were excluded, with the reason (e.g. demolition permit).
CREATE TABLE result.exclusion (
    candidate_key text PRIMARY KEY,
    kind          text NOT NULL,
    reason        text NOT NULL,
    details       jsonb NOT NULL DEFAULT '{}',
    run_id        bigint
);
