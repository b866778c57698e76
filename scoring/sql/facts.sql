-- The facts step (scoring/facts.py). {cand} is the detect stage's candidate staging table (raw.candidate__<run>),
-- read inside the detect transaction. Sections are split on "-- name:" lines.

-- name: zoning
-- Main-use zoning objects (IMRO enkelbestemming, DSO functie) under each candidate, each reduced to the part
-- no higher-priority plan covers: plans are ordered by status rank (%(ranks)s: status -> rank, higher wins),
-- then the later plan_date, then plan_id. A plan's area is its plangebied, or (DSO) the union of its functies.
WITH plan AS (
    SELECT plan_id, min(regime) AS regime,
           max(coalesce((CAST(%(ranks)s AS jsonb) ->> lower(plan_status))::int, 0)) AS r, max(plan_date) AS d
    FROM core.zoning GROUP BY plan_id
),
ord AS MATERIALIZED (
    SELECT plan_id, regime, row_number() OVER (ORDER BY r DESC, d DESC NULLS LAST, plan_id DESC) AS prio FROM plan
),
area AS MATERIALIZED (
    SELECT z.plan_id, o.prio, ST_Union(z.geom) AS geom
    FROM core.zoning z JOIN ord o USING (plan_id)
    WHERE z.objecttype = 'plangebied'
       OR (z.objecttype IN ('enkelbestemming', 'functie')
           AND NOT EXISTS (SELECT 1 FROM core.zoning p WHERE p.plan_id = z.plan_id AND p.objecttype = 'plangebied'))
    GROUP BY z.plan_id, o.prio
),
hit AS MATERIALIZED (
    SELECT c.candidate_key, o.regime, z.plan_id, o.prio, z.hoofdgroep, ST_Intersection(c.geom, z.geom) AS g
    FROM {cand} c
    JOIN core.zoning z ON z.objecttype IN ('enkelbestemming', 'functie') AND z.geom && c.geom
                      AND ST_Intersects(z.geom, c.geom)
    JOIN ord o ON o.plan_id = z.plan_id
)
SELECT h.candidate_key, h.regime, h.plan_id, h.hoofdgroep,
       ST_Area(coalesce(ST_Difference(h.g, (SELECT ST_Union(a.geom) FROM area a WHERE a.prio < h.prio AND a.geom && h.g)),
                        h.g)) AS area_m2
FROM hit h
ORDER BY h.candidate_key, h.plan_id, h.hoofdgroep;

-- name: buildings
-- Per vacant-building candidate: BAG construction year, 3DBAG floors and heights, BAG floor area, the office
-- units (kantoorfunctie) with their newest registered energy label (by unit id, else by address).
WITH b AS (
    SELECT c.candidate_key, c.details ->> 'pand_id' AS pand_id FROM {cand} c WHERE c.kind = 'vacant_building'
),
unit AS (
    SELECT b.candidate_key, v.identificatie, v.oppervlakte, v.gebruiksdoelen, v.postcode, v.huisnummer,
           v.huisletter, v.toevoeging
    FROM core.verblijfsobject v CROSS JOIN LATERAL unnest(v.pand_ids) AS pid
    JOIN b ON b.pand_id = pid
),
office AS (
    SELECT u.candidate_key, u.identificatie, u.oppervlakte, l.label, l.source_file
    FROM unit u
    LEFT JOIN LATERAL (
        SELECT e.label, e.source_file FROM core.energy_label e
        WHERE e.verblijfsobject_id = u.identificatie
           OR (e.verblijfsobject_id IS NULL AND e.postcode = u.postcode AND e.huisnummer = u.huisnummer
               AND e.huisletter IS NOT DISTINCT FROM u.huisletter AND e.toevoeging IS NOT DISTINCT FROM u.toevoeging)
        ORDER BY e.registered DESC NULLS LAST, e.label LIMIT 1) l ON true
    WHERE 'kantoorfunctie' = ANY(u.gebruiksdoelen)
)
SELECT b.candidate_key, b.pand_id, p.bouwjaar, d.bouwlagen, d.h_maaiveld, d.h_dak_70p, d.opp_grond,
       ST_Area(p.geom) AS pand_m2, o.osm_id, o.levels AS osm_levels, o.height_m AS osm_height_m,
       (SELECT sum(u.oppervlakte) FROM unit u WHERE u.candidate_key = b.candidate_key) AS bag_area_m2,
       coalesce((SELECT sum(o.oppervlakte) FROM office o WHERE o.candidate_key = b.candidate_key), 0) AS office_m2,
       (SELECT array_agg(o.label ORDER BY o.identificatie) FROM office o WHERE o.candidate_key = b.candidate_key) AS labels,
       (SELECT string_agg(DISTINCT o.source_file, ', ') FROM office o WHERE o.candidate_key = b.candidate_key) AS label_files
FROM b
LEFT JOIN core.pand p ON p.identificatie = b.pand_id
LEFT JOIN core.pand_3d d ON d.pand_id = b.pand_id
-- OSM building:levels / height: the building tagged with this pand id (ref:bag), else one whose point lies in the pand
LEFT JOIN LATERAL (
    SELECT ob.osm_id, ob.levels, ob.height_m FROM core.osm_building ob
    WHERE ob.pand_id = b.pand_id OR (ob.pand_id IS NULL AND ob.geom && p.geom AND ST_Within(ob.geom, p.geom))
    ORDER BY ob.pand_id IS NULL, ob.osm_id LIMIT 1) o ON true
ORDER BY b.candidate_key;

-- name: zoning_details
-- Maatvoering, Functieaanduiding and Bouwvlak objects on each candidate, per plan (the step keeps the plan that
-- decided the zoning). Bouwvlakken of one plan are unioned so overlapping ones count once.
SELECT c.candidate_key, z.plan_id, z.objecttype, z.naam, z.waarde, z.waarde_type,
       ST_Area(ST_Intersection(c.geom, z.geom)) AS area_m2
FROM {cand} c
JOIN core.zoning z ON z.objecttype IN ('maatvoering', 'functieaanduiding') AND z.geom && c.geom
                  AND ST_Intersects(z.geom, c.geom)
UNION ALL
SELECT c.candidate_key, z.plan_id, 'bouwvlak', NULL, NULL, NULL, ST_Area(ST_Intersection(c.geom, ST_Union(z.geom)))
FROM {cand} c
JOIN core.zoning z ON z.objecttype = 'bouwvlak' AND z.geom && c.geom AND ST_Intersects(z.geom, c.geom)
GROUP BY c.candidate_key, c.geom, z.plan_id
ORDER BY 1, 2, 3, 4;

-- name: candidate_areas
-- Each candidate's area: the denominator of the Bouwvlak share.
SELECT c.candidate_key, ST_Area(c.geom) AS area_m2 FROM {cand} c;

-- name: bouwvlak_plans
-- The plans that have Bouwvlakken at all (outside them a zero share would say nothing).
SELECT DISTINCT plan_id FROM core.zoning WHERE objecttype = 'bouwvlak';

-- name: monuments
-- Monument kinds per candidate: by the building's pand id, its units' ids, or a monument geometry on the candidate.
SELECT c.candidate_key, array_agg(DISTINCT m.kind) AS kinds, string_agg(DISTINCT m.source_file, ', ') AS files
FROM {cand} c
JOIN core.monument m
  ON m.pand_id = c.details ->> 'pand_id'
  OR m.verblijfsobject_id = ANY(c.source_ids)
  OR (m.geom IS NOT NULL AND m.geom && c.geom AND ST_Intersects(m.geom, c.geom))
GROUP BY c.candidate_key;

-- name: loaded
-- Which fact sources hold data (a source that is not loaded leaves its facts unknown, never 'none' or false).
SELECT EXISTS (SELECT 1 FROM core.zoning) AS zoning,
       EXISTS (SELECT 1 FROM core.energy_label) AS labels,
       coalesce((SELECT array_agg(DISTINCT kind) FROM core.monument), '{}') AS monument_kinds,
       EXISTS (SELECT 1 FROM core.pand_3d) AS bag3d;

-- name: plot_hazards
-- Plots on Natura 2000 land (overlap above %(n2k_min_m2)s m²) or within %(power_buffer_m)s m of a high-voltage line.
SELECT c.candidate_key,
       (SELECT string_agg(DISTINCT coalesce(a.naam, a.identificatie), ', ') FROM core.protected_area a
         WHERE a.kind = 'natura2000' AND a.geom && c.geom AND ST_Intersects(a.geom, c.geom)
           AND ST_Area(ST_Intersection(a.geom, c.geom)) > %(n2k_min_m2)s) AS natura2000,
       (SELECT round(min(ST_Distance(l.geom, c.geom))::numeric, 1) FROM core.power_line l
         WHERE ST_DWithin(l.geom, c.geom, %(power_buffer_m)s)) AS power_line_m
FROM {cand} c
WHERE c.kind = 'undeveloped_plot';

-- name: exclude
-- Move plots excluded by a fact from the candidate staging table into the exclusion staging table.
INSERT INTO {excl} (candidate_key, kind, reason, details, run_id)
SELECT c.candidate_key, c.kind, x.reason, c.details || jsonb_build_object('municipality', c.municipality), %(run_id)s
FROM {cand} c JOIN unnest(%(keys)s::text[], %(reasons)s::text[]) AS x(candidate_key, reason) USING (candidate_key);
DELETE FROM {cand} c WHERE c.candidate_key = ANY(%(keys)s::text[]);

-- name: label_evidence
-- The label-C rule as a building-level vacancy signal: one more positive evidence item, noisy-OR into the confidence.
UPDATE {cand} c
SET evidence = c.evidence || jsonb_build_array(jsonb_build_object(
        'signal', 'label_rule', 'value', x.value, 'weight', %(weight)s::float8, 'source', x.source)),
    confidence = round((1 - (1 - coalesce(c.confidence, 0)) * (1 - %(weight)s::float8))::numeric, 4)
FROM unnest(%(keys)s::text[], %(values)s::text[], %(sources)s::text[]) AS x(candidate_key, value, source)
WHERE c.candidate_key = x.candidate_key;

-- name: floor_area_check
-- 3DBAG floors x footprint next to the BAG floor area, kept in the candidate's details.
UPDATE {cand} c
SET details = c.details || jsonb_build_object('floor_area_check', x.chk)
FROM unnest(%(keys)s::text[], %(checks)s::jsonb[]) AS x(candidate_key, chk)
WHERE c.candidate_key = x.candidate_key;
