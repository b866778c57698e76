-- Building levels from OpenStreetMap (the fallback for floors where 3DBAG has none) and the detail facts
-- of the winning zoning plan (Maatvoering, Functieaanduiding, Bouwvlak) on every candidate.

-- OSM buildings with building:levels or height, one row per way/relation (sources/osm_levels_read.py).
-- pand_id: the ref:bag tag as a 16-digit BAG pand id (the BAG import tags almost every Dutch building);
-- geom: a point on the building's surface, to match by location where ref:bag is missing.
CREATE TABLE core.osm_building (
    osm_id          text NOT NULL,
    pand_id         text,
    levels          integer,             -- building:levels (floors above ground)
    height_m        double precision,    -- height (m), when tagged
    input_id        bigint,
    geom            geometry(Point, 28992) NOT NULL
);
CREATE INDEX osm_building_geom ON core.osm_building USING gist (geom);
CREATE INDEX osm_building_ix0 ON core.osm_building (pand_id);
COMMENT ON TABLE core.osm_building IS 'OSM buildings with building:levels/height (floors fallback where 3DBAG has none).';

-- Detail facts from the plan that decided the zoning verdict (NULL = unknown: no such object in that plan,
-- or no plan under the candidate). See scoring/facts.py.
ALTER TABLE result.fact
    ADD COLUMN zoning_functions      text,               -- Functieaanduiding names on the candidate, e.g. 'kantoor, horeca'
    ADD COLUMN zoning_max_floors     integer,            -- Maatvoering 'maximum aantal bouwlagen'
    ADD COLUMN zoning_max_height_m   double precision,   -- Maatvoering 'maximum bouwhoogte (m)'
    ADD COLUMN zoning_max_coverage_pct double precision, -- Maatvoering 'maximum bebouwingspercentage (%)'
    ADD COLUMN bouwvlak_pct          double precision;   -- share of the candidate inside a Bouwvlak (0..100)
