-- A candidate of its own for every offered place that detection did not find (:pand_keys / :perceel_keys),
-- in result.candidate's columns. Buildings: the pand outline, the offered unit (or every unit of the pand
-- when the whole building is offered), their floor area, uses and address; plots: the parcel and its area
-- (an owner's offer is taken as it is: the plot rules' exclusions are not applied, and details say so).
-- Evidence: the offer itself (signal offered_by_owner), so confidence is 1.
WITH b AS (
    SELECT k.target_key, k.unit_id, p.identificatie AS pand_id, p.geom
    FROM unnest(CAST(:pand_keys AS text[]), CAST(:pand_units AS text[])) AS k(target_key, unit_id)
    JOIN core.pand p ON p.identificatie = substr(k.target_key, 6)
),
u AS (
    SELECT b.target_key, array_agg(v.identificatie ORDER BY v.identificatie) AS ids, sum(v.oppervlakte) AS area,
           count(*) AS n, array_agg(DISTINCT g) FILTER (WHERE g IS NOT NULL) AS uses,
           (array_agg(concat_ws(' ', v.openbare_ruimte, v.huisnummer::text || coalesce(v.huisletter, '')
                                || coalesce('-' || v.toevoeging, '')) || coalesce(', ' || v.postcode, '')
                      || coalesce(', ' || v.woonplaats, '') ORDER BY v.identificatie))[1] AS label,
           (array_agg(v.geom ORDER BY v.identificatie))[1] AS point
    FROM b JOIN core.verblijfsobject v ON b.pand_id = ANY(v.pand_ids) AND (b.unit_id IS NULL OR v.identificatie = b.unit_id)
    LEFT JOIN LATERAL unnest(v.gebruiksdoelen) AS g ON true
    GROUP BY b.target_key
)
SELECT b.target_key AS candidate_key, 'vacant_building' AS kind, coalesce(u.ids, ARRAY[]::text[]) AS source_ids,
       'GM' || left(b.pand_id, 4) AS municipality, u.label, coalesce(u.area, 0)::float8 AS area_m2,
       jsonb_build_object('pand_id', b.pand_id, 'units_total', u.n, 'units_vacant', u.n, 'vacant_area_m2', u.area,
                          'gebruiksdoelen', coalesce(to_jsonb(u.uses), '[]'::jsonb), 'offered', true)::text AS details,
       encode(ST_AsEWKB(coalesce(u.point, ST_PointOnSurface(b.geom))), 'hex') AS access_point, ST_AsBinary(b.geom) AS wkb
FROM b LEFT JOIN u USING (target_key)
UNION ALL
SELECT 'perceel:' || p.kadastrale_aanduiding, 'undeveloped_plot', ARRAY[p.identificatie],
       coalesce(CAST(:gm AS text), 'GM' || (SELECT left(v.identificatie, 4) FROM core.verblijfsobject v
                                            ORDER BY v.geom <-> p.geom LIMIT 1)), p.kadastrale_aanduiding,
       ST_Area(p.geom),
       jsonb_build_object('perceel_id', p.identificatie, 'perceel_ids', jsonb_build_array(p.identificatie),
                          'kadastrale_aanduiding', p.kadastrale_aanduiding, 'parcel_area_m2', ST_Area(p.geom),
                          'offered', true, 'note', 'offered by the owner: the plot rules (exclusions, width) were not applied')::text,
       encode(ST_AsEWKB(ST_PointOnSurface(p.geom)), 'hex'), ST_AsBinary(p.geom)
FROM core.perceel p
WHERE 'perceel:' || p.kadastrale_aanduiding = ANY(CAST(:perceel_keys AS text[]));
