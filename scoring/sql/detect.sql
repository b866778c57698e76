-- The detect stage's SQL (scoring/detect.py). {staging} is the candidate staging table of the swap.

-- name: history_seen
-- Every candidate of this run is seen today (first seen kept, a candidate that came back is no longer gone).
INSERT INTO result.candidate_history AS h (candidate_key, kind, label, first_seen, last_seen)
SELECT candidate_key, kind, label, %(day)s, %(day)s FROM {staging}
ON CONFLICT (candidate_key) DO UPDATE SET last_seen = EXCLUDED.last_seen, gone_since = NULL, label = EXCLUDED.label;

-- name: history_gone
-- A candidate of an earlier run that this run does not have is gone since today.
UPDATE result.candidate_history h SET gone_since = %(day)s
WHERE h.gone_since IS NULL AND NOT EXISTS (SELECT 1 FROM {staging} c WHERE c.candidate_key = h.candidate_key);

-- name: plot_access
-- A plot's access point: its point closest to the nearest walkable street (buildings keep their address point).
UPDATE {staging} c
SET access_point = ST_ClosestPoint(c.geom, (SELECT e.geom FROM core.network_edge e WHERE e.walk
                                            ORDER BY e.geom <-> c.geom LIMIT 1))
WHERE c.kind = 'undeveloped_plot' AND EXISTS (SELECT 1 FROM core.network_edge WHERE walk);

-- name: per_municipality
SELECT municipality, kind, count(*) AS n FROM result.candidate GROUP BY 1, 2 ORDER BY 1, 2;
