-- name: surroundings
-- Buildings and streets within :r metres of one candidate (RD New), simplified, for its small map.
SELECT 'building' AS what, ST_AsBinary(ST_SimplifyPreserveTopology(p.geom, 0.5)) AS wkb
FROM core.pand p
WHERE p.geom && ST_Expand(ST_GeomFromEWKB(CAST(:geom AS bytea)), :r)
UNION ALL
SELECT CASE WHEN e.highway IN ('footway', 'path', 'cycleway', 'steps', 'track', 'pedestrian', 'corridor', 'bridleway')
            THEN 'path' ELSE 'street' END, ST_AsBinary(e.geom)
FROM core.network_edge e
WHERE e.geom && ST_Expand(ST_GeomFromEWKB(CAST(:geom AS bytea)), :r)
UNION ALL
SELECT 'water', ST_AsBinary(ST_SimplifyPreserveTopology(l.geom, 0.5))
FROM core.landuse l
WHERE l.geom && ST_Expand(ST_GeomFromEWKB(CAST(:geom AS bytea)), :r)
  AND ((l.key = 'natural' AND l.value = 'water') OR l.key = 'water')
