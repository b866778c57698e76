-- The SQL of the coordinators' lists and their outreach records (outputs/outreach_lists.py,
-- outputs/outreach_import.py); statements by name (plekzoeker/db/sqlfile.py).

-- name: list
-- Every ranked candidate, plus every candidate with an outreach row that is not ranked now (gone,
-- or excluded by scoring): a coordinator's notes never silently disappear from the list.
-- The two placeholders in braces below are filled in by outreach_lists.py (the ranking join, the open conflicts).
WITH k AS (
    SELECT candidate_key FROM result.score WHERE rank IS NOT NULL
    UNION
    SELECT candidate_key FROM result.outreach
    UNION
    SELECT candidate_key FROM result.ranking WHERE vetoes <> '[]'::jsonb   -- vetoed: listed with the reasons
)
SELECT k.candidate_key, coalesce(c.kind, h.kind) AS kind, coalesce(c.label, h.label) AS label, c.municipality,
       c.area_m2, c.confidence, c.evidence, c.details, s.score, s.rank, s.rank_municipality, s.subscores, s.criteria,
       s.weights, s.excluded_reason, h.first_seen, h.gone_since, o.status AS outreach_status, o.note AS outreach_note,
       coalesce(o.version, 0) AS outreach_version, x.conflicts AS outreach_conflict,
       (c.candidate_key IS NOT NULL) AS in_candidates, to_jsonb(r) AS ranking
FROM k
{ranking_join}
LEFT JOIN result.candidate c USING (candidate_key)
LEFT JOIN result.score s USING (candidate_key)
LEFT JOIN result.candidate_history h USING (candidate_key)
LEFT JOIN result.outreach o USING (candidate_key)
LEFT JOIN LATERAL ({open_conflicts}) x ON true

-- name: open_conflicts
-- the conflicting edits that lost against the current version (none once a newer version is stored)
SELECT string_agg(coalesce(y.changed_by, 'unknown') || ' on ' || to_char(y.changed_at, 'YYYY-MM-DD HH24:MI') || ': '
                  || y.status || coalesce(' — ' || y.note, ''), ' | ' ORDER BY y.history_id) AS conflicts
FROM result.outreach_history y
WHERE y.candidate_key = k.candidate_key AND y.event = 'conflict' AND y.version = o.version

-- name: owner_count
SELECT count(*) FROM core.owner

-- name: known_keys
SELECT candidate_key FROM result.candidate_history WHERE candidate_key = ANY(CAST(:keys AS text[]))
UNION SELECT candidate_key FROM result.candidate WHERE candidate_key = ANY(CAST(:keys AS text[]))
UNION SELECT candidate_key FROM result.outreach WHERE candidate_key = ANY(CAST(:keys AS text[]))

-- name: current
SELECT candidate_key, status, note, version, updated_by, updated_at
FROM result.outreach WHERE candidate_key = ANY(CAST(:keys AS text[])) FOR UPDATE

-- name: lock
SELECT pg_advisory_xact_lock(:k)

-- name: upsert
INSERT INTO result.outreach AS o (candidate_key, status, note, updated_at, version, updated_by)
VALUES (:candidate_key, :status, :note, now(), :version, :by)
ON CONFLICT (candidate_key) DO UPDATE SET status = EXCLUDED.status, note = EXCLUDED.note, updated_at = now(),
                                          version = EXCLUDED.version, updated_by = EXCLUDED.updated_by

-- name: history_insert
INSERT INTO result.outreach_history (candidate_key, event, version, based_on, status, note, changed_by, source)
VALUES (:candidate_key, :event, :version, :based_on, :status, :note, :by, :source)

-- name: history
SELECT history_id, event, version, based_on, status, note, changed_by, changed_at, source
FROM result.outreach_history WHERE candidate_key = :k ORDER BY history_id

-- name: base
-- what each stored version said (a row equal to the version it was exported with is untouched)
SELECT candidate_key, version, status, note FROM result.outreach_history
WHERE event = 'change' AND candidate_key = ANY(CAST(:keys AS text[]))

-- name: conflicts
SELECT y.candidate_key, y.status, y.note, y.changed_by, y.changed_at, y.based_on
FROM result.outreach_history y JOIN result.outreach o USING (candidate_key)
WHERE y.event = 'conflict' AND y.version = o.version AND y.candidate_key = ANY(CAST(:keys AS text[]))
ORDER BY y.history_id

-- name: outreach_list
SELECT o.candidate_key, o.status, o.note, o.updated_at, o.version, o.updated_by, coalesce(c.kind, h.kind) AS kind,
       coalesce(c.label, h.label) AS label, s.rank, h.gone_since
FROM result.outreach o
LEFT JOIN result.candidate c USING (candidate_key)
LEFT JOIN result.score s USING (candidate_key)
LEFT JOIN result.candidate_history h USING (candidate_key)
WHERE CAST(:statuses AS text[]) IS NULL OR o.status = ANY(CAST(:statuses AS text[]))
ORDER BY s.rank NULLS LAST, o.candidate_key

-- name: labels
SELECT k, coalesce(c.label, h.label) FROM unnest(CAST(:keys AS text[])) AS k
LEFT JOIN result.candidate c ON c.candidate_key = k LEFT JOIN result.candidate_history h ON h.candidate_key = k
