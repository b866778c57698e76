-- Zoning objects of both regimes in one table. IMRO2012 (Wro bestemmingsplannen): objecttype
-- enkelbestemming, dubbelbestemming, bouwvlak, functieaanduiding, maatvoering, plangebied (the plan's
-- area, used to let a newer plan win where plans overlap). Omgevingsplan (DSO): objecttype functie
-- (the main use, the counterpart of an enkelbestemming), with hoofdgroep the functiegroep.
CREATE TABLE core.zoning (
    identificatie   text NOT NULL,       -- plan_id + ':' + object id (unique across plans)
    regime          text NOT NULL CHECK (regime IN ('imro', 'dso')),
    plan_id         text NOT NULL,       -- IMRO idn (NL.IMRO.0664.BPBS03-ON99) or DSO regeling id
    plan_name       text,
    plan_status     text,                -- IMRO planstatus (ontwerp, vastgesteld, onherroepelijk, ...) or DSO status
    plan_date       date,
    objecttype      text NOT NULL,
    hoofdgroep      text,                -- bestemmingshoofdgroep (enkel-/dubbelbestemming) or DSO functiegroep
    naam            text,
    waarde          text,                -- maatvoering value (e.g. '8'), with waarde_type
    waarde_type     text,                -- e.g. 'maximum aantal bouwlagen', 'maximum bouwhoogte (m)'
    source_file     text,
    input_id        bigint,
    geom            geometry(MultiPolygon, 28992),   -- NULL only in staging: rejected as 'no surface'
    CONSTRAINT zoning_pkey PRIMARY KEY (identificatie)
);
CREATE INDEX zoning_geom ON core.zoning USING gist (geom);
CREATE INDEX zoning_ix0 ON core.zoning (objecttype);

-- EP-Online energy labels, keyed like the signal CSVs (verblijfsobject id or address).
CREATE TABLE core.energy_label (
    verblijfsobject_id text,
    postcode        text,
    huisnummer      integer,
    huisletter      text,
    toevoeging      text,
    label           text,                -- A++++ .. G (rows without one are rejected at load)
    registered      date,
    label_type      text,                -- gebouwklasse / type (utiliteit, woning, ...)
    source_file     text,
    input_id        bigint
);
CREATE INDEX energy_label_ix0 ON core.energy_label (verblijfsobject_id);
CREATE INDEX energy_label_ix1 ON core.energy_label (postcode, huisnummer);

-- Rijksmonumenten and municipal monuments: by BAG pand / verblijfsobject id, or by geometry.
CREATE TABLE core.monument (
    kind            text NOT NULL CHECK (kind IN ('rijks', 'gemeentelijk')),
    monument_id     text,
    pand_id         text,
    verblijfsobject_id text,
    naam            text,
    source_file     text,
    input_id        bigint,
    geom            geometry(Geometry, 28992)
);
CREATE INDEX monument_geom ON core.monument USING gist (geom);
CREATE INDEX monument_ix0 ON core.monument (pand_id);

-- 3DBAG per BAG pand (TU Delft / 3DGI, CC BY 4.0).
CREATE TABLE core.pand_3d (
    pand_id         text NOT NULL,
    h_maaiveld      double precision,
    h_dak_70p       double precision,
    bouwlagen       integer,
    opp_grond       double precision,
    input_id        bigint,
    CONSTRAINT pand_3d_pkey PRIMARY KEY (pand_id)
);

-- Protected nature (Natura 2000 sites) as plot exclusions.
CREATE TABLE core.protected_area (
    identificatie   text NOT NULL,
    kind            text NOT NULL,       -- 'natura2000'
    naam            text,
    input_id        bigint,
    geom            geometry(MultiPolygon, 28992),   -- NULL only in staging: rejected as 'no surface'
    CONSTRAINT protected_area_pkey PRIMARY KEY (identificatie)
);
CREATE INDEX protected_area_geom ON core.protected_area USING gist (geom);

-- High-voltage lines (OSM power=line) as plot exclusions within a buffer; loaded with the OSM file.
CREATE TABLE core.power_line (
    osm_id          text,
    voltage         text,
    input_id        bigint,
    geom            geometry(LineString, 28992) NOT NULL
);
CREATE INDEX power_line_geom ON core.power_line USING gist (geom);
