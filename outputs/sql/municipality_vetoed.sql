-- Vetoed candidates per municipality (result.ranking.vetoes not empty), with their kinds.
SELECT c.municipality, c.kind, count(*) AS n
FROM result.ranking r JOIN result.candidate c USING (candidate_key)
WHERE r.vetoes <> '[]'::jsonb
GROUP BY c.municipality, c.kind;
