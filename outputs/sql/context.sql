-- Context for map.html, drawn from what is already loaded: streets by class (core.network_edge),
-- building outlines (core.pand), water (core.landuse water tags + BGT waterdeel) and green (BGT
-- begroeid terreindeel / groenvoorziening, OSM nature reserves). Only within :area (EWKB, the union
-- of boxes around the published candidates), simplified with :tol metres, merged into one geometry
-- per layer and class, as GeoJSON in EPSG:4326 with :digits decimals. :layers limits the layers.
WITH area AS (SELECT ST_GeomFromEWKB(CAST(:area AS bytea)) AS g),
streets AS (
    SELECT 'streets' AS layer,
           CASE WHEN e.highway IN ('motorway', 'motorway_link', 'trunk', 'trunk_link', 'primary', 'primary_link',
                                   'secondary', 'secondary_link') THEN 'major'
                WHEN e.highway IN ('tertiary', 'tertiary_link', 'residential', 'unclassified', 'living_street', 'road',
                                   'service') THEN 'minor'
                ELSE 'path' END AS class,
           e.geom
    FROM core.network_edge e, area
    WHERE 'streets' = ANY(CAST(:layers AS text[])) AND e.geom && area.g AND ST_Intersects(e.geom, area.g)
),
buildings AS (
    SELECT 'buildings', 'building', p.geom
    FROM core.pand p, area
    WHERE 'buildings' = ANY(CAST(:layers AS text[])) AND p.geom && area.g AND ST_Intersects(p.geom, area.g)
),
water AS (
    SELECT 'water', 'water', l.geom
    FROM core.landuse l, area
    WHERE 'water' = ANY(CAST(:layers AS text[])) AND l.geom && area.g AND ST_Intersects(l.geom, area.g)
      AND ((l.key = 'natural' AND l.value IN ('water', 'wetland')) OR l.key = 'water'
           OR (l.key = 'landuse' AND l.value IN ('reservoir', 'basin')) OR (l.key = 'waterway' AND l.value = 'riverbank'))
    UNION ALL
    SELECT 'water', 'water', b.geom
    FROM core.bgt_vlak b, area
    WHERE 'water' = ANY(CAST(:layers AS text[])) AND b.geom && area.g AND ST_Intersects(b.geom, area.g)
      AND b.laag = 'waterdeel'
),
green AS (
    SELECT 'green', 'green', b.geom
    FROM core.bgt_vlak b, area
    WHERE 'green' = ANY(CAST(:layers AS text[])) AND b.geom && area.g AND ST_Intersects(b.geom, area.g)
      AND b.laag = 'begroeidterreindeel'
    UNION ALL
    SELECT 'green', 'green', l.geom
    FROM core.landuse l, area
    WHERE 'green' = ANY(CAST(:layers AS text[])) AND l.geom && area.g AND ST_Intersects(l.geom, area.g)
      AND ((l.key = 'leisure' AND l.value IN ('park', 'nature_reserve')) OR (l.key = 'landuse' AND l.value IN ('grass', 'forest', 'meadow', 'recreation_ground')))
),
parts AS (
    SELECT * FROM streets UNION ALL SELECT * FROM buildings UNION ALL SELECT * FROM water UNION ALL SELECT * FROM green
),
merged AS (
    SELECT layer, class,
           CASE WHEN layer = 'streets' THEN ST_LineMerge(ST_Collect(ST_SimplifyPreserveTopology(geom, :tol)))
                ELSE ST_Collect(ST_SimplifyPreserveTopology(geom, :tol)) END AS geom,
           count(*) AS n
    FROM parts
    GROUP BY layer, class
)
SELECT layer, class, n, ST_AsGeoJSON(ST_Transform(geom, 4326), :digits) AS geojson
FROM merged
WHERE NOT ST_IsEmpty(geom)
ORDER BY layer, class
