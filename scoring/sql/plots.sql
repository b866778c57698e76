-- Undeveloped plots. Parameters:
--   :max_cov (float), :min_area (float), :osm_excl (text[] 'key=value' or 'key=*'),
--   :bgt_excl (text[] 'laag' or 'laag:klasse'), :osm_pen / :bgt_pen (the penalised classes, same forms),
--   :built_statuses (text[]), :minx..:maxy (the area's
--   box in RD New: parcels intersecting it; NULL for every parcel),
--   :perceel_ids (text[] or NULL): when given, exactly those parcels, each on its own (no owner union, no
--   box): the places owners offer (scoring/offers.py), assessed by the same steps with :min_area 0 and a
--   :max_cov above 1 so none is dropped before its usable area is known.
-- A plot is a parcel, or (when an owner export is loaded) a union of adjacent parcels with the
-- same owner. Buildings are BAG panden that stand plus BGT pand polygons (when BGT is loaded),
-- unioned so a building in both registries counts once. Returns one row per open plot: its
-- coverage, the geometry left after subtracting buildings and exclusions (usable0, before the
-- width test) and what was removed.
-- Every per-parcel lookup is a join of pre-aggregated sets (hash joins), never a subquery per row:
-- the first owner of each parcel, the removed and penalised parts per plot. A correlated subquery
-- over core.owner (no index) or over a CTE is a scan per parcel, quadratic in the area's size.
WITH first_owner AS (
    SELECT DISTINCT ON (o.kadastrale_aanduiding) o.kadastrale_aanduiding,
           o.owner_kind || ':' || coalesce(o.owner_name, '') AS owner_key
    FROM core.owner o
    WHERE o.kadastrale_aanduiding IS NOT NULL AND CAST(:perceel_ids AS text[]) IS NULL
    ORDER BY o.kadastrale_aanduiding, o.owner_name
),
owned AS (
    SELECT p.identificatie, p.kadastrale_aanduiding, p.geom, fo.owner_key
    FROM core.perceel p LEFT JOIN first_owner fo ON fo.kadastrale_aanduiding = p.kadastrale_aanduiding
    WHERE CASE WHEN CAST(:perceel_ids AS text[]) IS NULL
               THEN CAST(:minx AS float8) IS NULL OR p.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 28992)
               ELSE p.identificatie = ANY(CAST(:perceel_ids AS text[])) END
),
clustered AS (
    SELECT identificatie, kadastrale_aanduiding, geom, owner_key,
           ST_ClusterDBSCAN(geom, 0.5, 1) OVER (PARTITION BY owner_key) AS cl
    FROM owned WHERE owner_key IS NOT NULL
),
units AS (
    SELECT identificatie, kadastrale_aanduiding, ARRAY[identificatie] AS ids, geom
    FROM owned WHERE owner_key IS NULL
    UNION ALL
    SELECT min(identificatie), string_agg(kadastrale_aanduiding, ' + ' ORDER BY kadastrale_aanduiding),
           array_agg(identificatie ORDER BY identificatie), ST_Multi(ST_Union(geom))
    FROM clustered GROUP BY owner_key, cl
),
open AS (
    SELECT u.*, ST_Area(u.geom) AS area,
           coalesce((SELECT ST_Area(ST_Intersection(u.geom, ST_Union(b.g))) FROM (
                         SELECT geom AS g FROM core.pand
                          WHERE geom && u.geom AND ST_Intersects(geom, u.geom) AND status = ANY(CAST(:built_statuses AS text[]))
                         UNION ALL
                         SELECT geom FROM core.bgt_vlak
                          WHERE laag = 'pand' AND geom && u.geom AND ST_Intersects(geom, u.geom)) b), 0) AS covered
    FROM units u
    WHERE ST_Area(u.geom) >= :min_area
),
cand AS (
    SELECT * FROM open WHERE covered / nullif(area, 0) < :max_cov
),
excl AS (
    SELECT c.identificatie, 'osm:' || l.key || '=' || l.value AS what, l.geom
    FROM cand c JOIN core.landuse l ON l.geom && c.geom AND ST_Intersects(l.geom, c.geom)
    WHERE (l.key || '=' || l.value) = ANY(CAST(:osm_excl AS text[])) OR (l.key || '=*') = ANY(CAST(:osm_excl AS text[]))
    UNION ALL
    SELECT c.identificatie, 'bgt:' || g.laag || coalesce(':' || g.klasse, ''), g.geom
    FROM cand c JOIN core.bgt_vlak g ON g.geom && c.geom AND ST_Intersects(g.geom, c.geom)
    WHERE g.laag = 'pand' OR g.laag = ANY(CAST(:bgt_excl AS text[])) OR (g.laag || ':' || g.klasse) = ANY(CAST(:bgt_excl AS text[]))
    UNION ALL
    SELECT c.identificatie, 'bag:pand', b.geom
    FROM cand c JOIN core.pand b ON b.geom && c.geom AND ST_Intersects(b.geom, c.geom)
    WHERE b.status = ANY(CAST(:built_statuses AS text[]))
),
pen AS (
    SELECT c.identificatie, 'osm:' || l.key || '=' || l.value AS what,
           CASE WHEN (l.key || '=' || l.value) = ANY(CAST(:osm_pen AS text[])) THEN l.key || '=' || l.value
                ELSE l.key || '=*' END AS cls, l.geom
    FROM cand c JOIN core.landuse l ON l.geom && c.geom AND ST_Intersects(l.geom, c.geom)
    WHERE (l.key || '=' || l.value) = ANY(CAST(:osm_pen AS text[])) OR (l.key || '=*') = ANY(CAST(:osm_pen AS text[]))
    UNION ALL
    SELECT c.identificatie, 'bgt:' || g.laag || coalesce(':' || g.klasse, ''),
           CASE WHEN (g.laag || ':' || g.klasse) = ANY(CAST(:bgt_pen AS text[])) THEN g.laag || ':' || g.klasse
                ELSE g.laag END, g.geom
    FROM cand c JOIN core.bgt_vlak g ON g.geom && c.geom AND ST_Intersects(g.geom, c.geom)
    WHERE g.laag = ANY(CAST(:bgt_pen AS text[])) OR (g.laag || ':' || g.klasse) = ANY(CAST(:bgt_pen AS text[]))
),
removed AS (
    SELECT e.identificatie, e.what, ST_Area(ST_Intersection(c.geom, ST_Union(e.geom))) AS area_m2
    FROM excl e JOIN cand c USING (identificatie)
    GROUP BY e.identificatie, e.what, c.geom
),
removed_json AS (
    SELECT identificatie, jsonb_agg(jsonb_build_object('removed', what, 'area_m2', round(area_m2::numeric, 1))
                                    ORDER BY what) AS removed
    FROM removed WHERE area_m2 > 0.5 GROUP BY identificatie
),
penalised_json AS (
    SELECT identificatie, jsonb_agg(jsonb_build_object('what', what, 'cls', cls, 'wkb', wkb) ORDER BY what) AS penalised
    FROM (SELECT p.identificatie, p.what, min(p.cls) AS cls, encode(ST_AsBinary(ST_Union(p.geom)), 'hex') AS wkb
          FROM pen p GROUP BY p.identificatie, p.what) q
    GROUP BY identificatie
),
cut AS (
    SELECT c.identificatie,
           ST_CollectionExtract(ST_MakeValid(
               CASE WHEN count(e.geom) = 0 THEN c.geom ELSE ST_Difference(c.geom, ST_Union(e.geom)) END), 3) AS usable0
    FROM cand c LEFT JOIN excl e USING (identificatie)
    GROUP BY c.identificatie, c.geom
)
SELECT c.identificatie, c.kadastrale_aanduiding, c.ids, c.area, c.covered, c.geom, cut.usable0,
       coalesce(rj.removed, '[]'::jsonb) AS removed,
       coalesce(pj.penalised, '[]'::jsonb) AS penalised,
       (SELECT left(v.identificatie, 4) FROM core.verblijfsobject v ORDER BY v.geom <-> c.geom LIMIT 1) AS gemeente
FROM cand c JOIN cut USING (identificatie)
LEFT JOIN removed_json rj USING (identificatie)
LEFT JOIN penalised_json pj USING (identificatie)
ORDER BY c.identificatie;
