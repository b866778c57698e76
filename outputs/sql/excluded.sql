-- Places that are not in the ranked lists, with the reason: excluded at detection (result.exclusion:
-- a building with a demolition permit, footprint from core.pand; a plot lost to exclusions, its
-- parcels from core.perceel) or excluded by scoring (hard exclusion, e.g. noise above the limit;
-- result.score.excluded_reason). Optional municipality filter :gm.
WITH x AS (
    SELECT e.candidate_key, e.kind, 'detect' AS stage, e.reason, NULL::text AS label,
           coalesce(e.details ->> 'municipality', 'GM' || substr(e.details ->> 'pand_id', 1, 4)) AS municipality,
           coalesce(p.geom, (SELECT ST_Union(q.geom) FROM core.perceel q
                             WHERE q.identificatie IN (SELECT jsonb_array_elements_text(e.details -> 'perceel_ids')))) AS geom
    FROM result.exclusion e
    LEFT JOIN core.pand p ON p.identificatie = e.details ->> 'pand_id'
    UNION ALL
    SELECT c.candidate_key, c.kind, 'score', s.excluded_reason, c.label, c.municipality, c.geom
    FROM result.candidate c
    JOIN result.score s USING (candidate_key)
    WHERE s.rank IS NULL AND s.excluded_reason IS NOT NULL
)
SELECT candidate_key, kind, stage, reason, label, municipality,
       ST_Multi(ST_CollectionExtract(geom, 3)) AS geom
FROM x
WHERE CAST(:gm AS text) IS NULL OR municipality = CAST(:gm AS text)
ORDER BY kind, candidate_key
