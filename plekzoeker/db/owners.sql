-- The owner of each candidate, best match first: the key itself (pand id / kadastrale aanduiding),
-- a unit of the building, the plot's own parcels, else the parcel under most of the building.
-- owner_name leaves the database only when :names is true.
WITH k AS (SELECT unnest(CAST(:keys AS text[])) AS candidate_key),
c AS (
    SELECT k.candidate_key, split_part(k.candidate_key, ':', 1) AS prefix,
           substr(k.candidate_key, strpos(k.candidate_key, ':') + 1) AS ident, rc.source_ids, rc.geom
    FROM k LEFT JOIN result.candidate rc USING (candidate_key)
),
m AS (
    SELECT c.candidate_key, 1 AS prio, 0.0::float8 AS overlap, o.owner_kind, o.owner_name
    FROM c JOIN core.owner o ON c.prefix = 'pand' AND o.pand_id = c.ident
    UNION ALL
    SELECT c.candidate_key, 1, 0.0, o.owner_kind, o.owner_name
    FROM c JOIN core.owner o ON c.prefix = 'perceel' AND o.kadastrale_aanduiding = c.ident
    UNION ALL
    SELECT c.candidate_key, 2, 0.0, o.owner_kind, o.owner_name
    FROM c JOIN core.owner o ON c.prefix = 'pand' AND o.verblijfsobject_id = ANY(c.source_ids)
    UNION ALL
    SELECT c.candidate_key, 3, 0.0, o.owner_kind, o.owner_name
    FROM c JOIN core.perceel p ON c.prefix = 'perceel' AND p.identificatie = ANY(c.source_ids)
    JOIN core.owner o ON o.kadastrale_aanduiding = p.kadastrale_aanduiding
    UNION ALL
    SELECT c.candidate_key, 4, ST_Area(ST_Intersection(p.geom, c.geom)), o.owner_kind, o.owner_name
    FROM c JOIN core.perceel p ON c.prefix = 'pand' AND p.geom && c.geom AND ST_Intersects(p.geom, c.geom)
    JOIN core.owner o ON o.kadastrale_aanduiding = p.kadastrale_aanduiding
)
SELECT DISTINCT ON (candidate_key) candidate_key, owner_kind,
       CASE WHEN CAST(:names AS boolean) THEN owner_name END AS owner_name
FROM m
ORDER BY candidate_key, prio, overlap DESC, owner_kind, owner_name
