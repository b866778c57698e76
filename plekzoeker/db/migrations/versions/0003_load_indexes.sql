-- The indexes every load builds (plekzoeker/db/load.py ``_swap``: ``<table>_geom`` for the geometry,
-- ``<table>_ix<n>`` for the n-th entry of the table's ``TableSpec.indexes``), created here too, so a
-- freshly migrated database and one that has seen loads have the same schema, and that schema is
-- what plekzoeker/db/models.py declares (tests/test_schema.py checks both states). IF NOT EXISTS:
-- databases migrated before this revision already have them from their loads.
CREATE INDEX IF NOT EXISTS pand_ix0 ON core.pand (status);
CREATE INDEX IF NOT EXISTS perceel_ix0 ON core.perceel (kadastrale_aanduiding);
CREATE INDEX IF NOT EXISTS bgt_vlak_ix0 ON core.bgt_vlak (laag, klasse);
CREATE INDEX IF NOT EXISTS network_node_geom ON core.network_node USING gist (geom);
CREATE INDEX IF NOT EXISTS network_edge_ix0 ON core.network_edge (u);
CREATE INDEX IF NOT EXISTS network_edge_ix1 ON core.network_edge (v);
CREATE INDEX IF NOT EXISTS poi_ix0 ON core.poi (category);
CREATE INDEX IF NOT EXISTS landuse_ix0 ON core.landuse (key, value);
CREATE INDEX IF NOT EXISTS candidate_ix0 ON result.candidate (kind);
CREATE INDEX IF NOT EXISTS candidate_ix1 ON result.candidate (municipality);
-- an owner import before this revision swapped the table without its comment: put it back
COMMENT ON TABLE core.owner IS 'Personal data (AVG/GDPR): owner names of natural persons. Retention: replaced by each import; delete with `plekzoeker ingest signals owners --purge`. Never published.';
