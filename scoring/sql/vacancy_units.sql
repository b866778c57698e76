-- One row per candidate unit (verblijfsobject with a configured gebruiksdoel) with every signal
-- plekzoeker knows for it. Parameters: :doelen (text[]), :box_max (float: the garage-box size of
-- scoring/special_objects.py), :minx..:maxy (the area's box in RD New, or NULL for everything),
-- :pand_ids (text[] or NULL): when given, every current unit of those buildings, whatever its use and
-- wherever it is (the places owners offer, scoring/offers.py), instead of the scan.
-- Address-keyed signal rows match on postcode + huisnummer + huisletter + toevoeging (null-safe).
-- Per unit also what the special-object filter needs about its building (counted over all its current
-- units, not only the scanned uses): pand_footprint_m2, pand_units, pand_box_units (only overige
-- gebruiksfunctie, at most :box_max m2). Tiny units are kept: the filter says why they do not count.
WITH units AS (
    SELECT v.identificatie, v.pand_ids, v.gebruiksdoelen, v.oppervlakte, v.status, v.documentdatum,
           v.postcode, v.huisnummer, v.huisletter, v.toevoeging, v.openbare_ruimte, v.woonplaats,
           v.pand_ids[1] AS pand_id, v.geom
    FROM core.verblijfsobject v
    WHERE v.status NOT IN ('Verblijfsobject ingetrokken', 'Niet gerealiseerd verblijfsobject',
                           'Verblijfsobject ten onrechte opgevoerd', 'Verblijfsobject gevormd')
      AND CASE WHEN CAST(:pand_ids AS text[]) IS NULL
               THEN v.gebruiksdoelen && CAST(:doelen AS text[])
                    AND (CAST(:minx AS float8) IS NULL OR v.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 28992))
               ELSE v.pand_ids && CAST(:pand_ids AS text[]) END
),
mix AS (
    SELECT v.pand_ids[1] AS pand_id, count(*) AS units,
           count(*) FILTER (WHERE v.gebruiksdoelen = ARRAY['overige gebruiksfunctie']::text[]
                              AND v.oppervlakte <= :box_max) AS box_units
    FROM core.verblijfsobject v
    WHERE v.pand_ids[1] IN (SELECT pand_id FROM units)
      AND v.status NOT IN ('Verblijfsobject ingetrokken', 'Niet gerealiseerd verblijfsobject',
                           'Verblijfsobject ten onrechte opgevoerd', 'Verblijfsobject gevormd')
    GROUP BY v.pand_ids[1]
),
-- Signals reach a unit by its id or (rows without an id) by its address: two joins the planner can
-- hash (an OR of both is a nested loop over units x signals), whose rows are disjoint, so their
-- union is exactly the rows either would match; then one aggregate per unit, joined once (a
-- subquery per unit over the signal rows is quadratic in the area's size).
sig AS (
    SELECT u.identificatie, s.kind, s.since, s.value, s.source_file
    FROM units u JOIN core.signal s ON s.verblijfsobject_id = u.identificatie
    UNION ALL
    SELECT u.identificatie, s.kind, s.since, s.value, s.source_file
    FROM units u
    JOIN core.signal s
      ON s.verblijfsobject_id IS NULL AND s.postcode = u.postcode AND s.huisnummer = u.huisnummer
     AND s.huisletter IS NOT DISTINCT FROM u.huisletter AND s.toevoeging IS NOT DISTINCT FROM u.toevoeging
),
per_unit AS (
    SELECT identificatie,
           min(since) FILTER (WHERE kind = 'vacancy') AS register_since,
           string_agg(DISTINCT source_file, ', ') FILTER (WHERE kind = 'vacancy') AS register_file,
           bool_or(kind = 'vacancy') AS in_register,
           bool_or(lower(value->>'active') IN ('true', '1', 'yes', 'ja')) FILTER (WHERE kind = 'establishments')
               AS establishment_active,
           min((value->>'kwh_per_m2')::float) FILTER (WHERE kind = 'energy' AND value->>'kwh_per_m2' ~ '^[0-9.]+$')
               AS kwh_per_m2,
           min(since) FILTER (WHERE kind = 'listings') AS listed_since
    FROM sig GROUP BY identificatie
)
SELECT u.identificatie, u.pand_id, u.pand_ids, u.gebruiksdoelen, u.oppervlakte, u.status, u.documentdatum,
       u.postcode, u.huisnummer, u.huisletter, u.toevoeging, u.openbare_ruimte, u.woonplaats,
       p.status AS pand_status, ST_X(u.geom) AS x, ST_Y(u.geom) AS y,
       ST_Area(p.geom) AS pand_footprint_m2, m.units AS pand_units, m.box_units AS pand_box_units,
       s.register_since, s.register_file, coalesce(s.in_register, false) AS in_register,
       s.establishment_active, s.kwh_per_m2, s.listed_since
FROM units u
LEFT JOIN core.pand p ON p.identificatie = u.pand_id
LEFT JOIN mix m ON m.pand_id = u.pand_id
LEFT JOIN per_unit s ON s.identificatie = u.identificatie
ORDER BY u.identificatie;
