-- What capacity, vetoes and flags look at, one row per candidate; NULL = unknown (LEFT JOINs throughout:
-- result.fact may have no row for a candidate, a plot has no building). depth_m: twice the radius of the
-- largest circle inside the building's footprint (how far the middle is from a facade, doubled).
SELECT c.candidate_key, c.kind, c.municipality, c.area_m2, c.source_ids,
       CAST(c.details->>'units_vacant' AS integer) AS units_vacant,
       CAST(c.details->>'vacant_area_m2' AS float8) AS vacant_area_m2,
       f.zoning, f.zoning_verdict, f.zoning_rule, f.monument, f.energy_label, f.label_rule,
       f.bouwjaar AS fact_bouwjaar, f.floors, f.sources->>'natura2000' AS natura2000,
       p.bouwjaar AS bag_bouwjaar, p.status AS pand_status,
       CASE WHEN c.kind = 'vacant_building' THEN ST_Area(c.geom) END AS footprint_m2,
       CASE WHEN c.kind = 'vacant_building' THEN 2 * (ST_MaximumInscribedCircle(c.geom)).radius END AS depth_m,
       h.first_seen
FROM result.candidate c
LEFT JOIN result.fact f USING (candidate_key)
LEFT JOIN core.pand p ON c.kind = 'vacant_building' AND p.identificatie = c.details->>'pand_id'
LEFT JOIN result.candidate_history h USING (candidate_key)
ORDER BY c.candidate_key
