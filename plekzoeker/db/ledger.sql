-- The run and input ledger (schema meta): the only SQL in plekzoeker that reads or writes meta.*.
-- Run by plekzoeker/db/ledger.py. Statements with :name parameters go through SQLAlchemy; those with
-- %s / %(name)s run on the loader's psycopg cursor inside a load's transaction; {braces} are
-- identifiers composed with psycopg.sql.

-- name: latest_done_input
SELECT sha256, size_bytes, options FROM meta.input WHERE kind = :k AND status = 'done'
ORDER BY input_id DESC LIMIT 1;

-- name: latest_done_inputs
SELECT DISTINCT ON (kind) kind, sha256, options FROM meta.input WHERE status = 'done'
ORDER BY kind, input_id DESC;

-- name: abandon_unfinished
-- a load of this kind that was killed earlier never finished: say so in the ledger
UPDATE meta.input SET status = 'abandoned' WHERE kind = :k AND status = 'loading';

-- name: begin_input
INSERT INTO meta.input (kind, path, sha256, size_bytes, options)
VALUES (:k, :p, :s, :n, CAST(:o AS jsonb)) RETURNING input_id;

-- name: finish_input
UPDATE meta.input SET status = 'done', rows_in = %s, rows_out = %s, rows_rejected = %s, repaired = %s,
       duplicates = %s, seconds = %s, sha256 = %s, size_bytes = %s
WHERE input_id = %s;

-- name: fail_input
UPDATE meta.input SET status = 'failed' WHERE input_id = :i;

-- name: reject_rows
INSERT INTO meta.reject (input_id, row_ref, reason, raw)
SELECT %s, {ref}, %s, (to_jsonb(t) - %s::text[])::text FROM {t} t WHERE {c};

-- name: reject_unnamed
INSERT INTO meta.reject (input_id, reason) SELECT %s, %s FROM generate_series(1, %s);

-- name: inputs_used
-- The latest successful load of every input kind, and the registered rasters: what the report's
-- candidates were found with (an input that is missing here was not used, so its signal is unknown).
SELECT kind, path, loaded_at, rows_out, rows_rejected
FROM (SELECT DISTINCT ON (kind) kind, path, loaded_at, rows_out, rows_rejected
      FROM meta.input WHERE status = 'done' ORDER BY kind, input_id DESC) i
UNION ALL
SELECT 'raster:' || kind, path, registered_at, NULL, NULL FROM meta.raster
ORDER BY kind;

-- name: record_raster
INSERT INTO meta.raster (kind, path, sha256, crs) VALUES (:k, :p, :s, :c)
ON CONFLICT (kind) DO UPDATE SET path = EXCLUDED.path, sha256 = EXCLUDED.sha256, crs = EXCLUDED.crs,
                                 registered_at = now();

-- name: raster_is_registered
SELECT EXISTS (SELECT 1 FROM meta.raster WHERE kind = :k AND path = :p AND sha256 = :s AND crs = :c);

-- name: registered_rasters
SELECT kind, path FROM meta.raster;

-- name: raster_hashes
SELECT kind, sha256 FROM meta.raster ORDER BY kind;

-- name: start_run
INSERT INTO meta.run (flow, params, config_hash) VALUES (:f, CAST(:p AS jsonb), :h) RETURNING run_id;

-- name: finish_run
-- merges the summary into the one kept so far (keeps score_coverage)
UPDATE meta.run SET status = :s, finished_at = now(), summary = coalesce(summary, '{}'::jsonb) || CAST(:m AS jsonb)
WHERE run_id = :r;

-- name: running_runs
SELECT run_id FROM meta.run WHERE status = 'running';

-- name: stage_key
SELECT input_key FROM meta.stage WHERE stage = :s;

-- name: stage_row
SELECT input_key, run_id FROM meta.stage WHERE stage = :s;

-- name: publish_state
-- what a publish reads besides result.* of detect/score (pipelines/unchanged.py): the coordinators' outreach
-- records (every row, and the append-only history) and the latest manual detect/score/publish command
SELECT (SELECT md5(coalesce(string_agg(o::text, '|' ORDER BY o.candidate_key), '')) FROM result.outreach o) AS outreach,
       (SELECT coalesce(max(history_id), 0) FROM result.outreach_history) AS outreach_history,
       (SELECT coalesce(max(run_id), 0) FROM meta.run WHERE flow IN ('detect', 'score', 'publish')) AS manual_run;

-- name: mark_stage
INSERT INTO meta.stage (stage, input_key, run_id) VALUES (:s, :k, :r) ON CONFLICT (stage) DO UPDATE
SET input_key = EXCLUDED.input_key, run_id = EXCLUDED.run_id, finished_at = now();

-- name: forget_stages
DELETE FROM meta.stage WHERE stage = ANY(:d);

-- name: merge_run_summary
-- what the score stage keeps with its run (score_coverage, score_profiles), merged into the summary
UPDATE meta.run SET summary = coalesce(summary, '{}'::jsonb) || CAST(:c AS jsonb) WHERE run_id = :r;

-- name: summary_of_last_score
SELECT r.summary->:k FROM meta.stage s JOIN meta.run r USING (run_id) WHERE s.stage = 'score';

-- name: summary_of_latest_run
SELECT summary->:k FROM meta.run WHERE summary ? :k ORDER BY run_id DESC LIMIT 1;

-- name: prune_runs
-- keep the newest :n runs, every run still running, the runs the stage keys name (their summaries are the
-- last score's coverage and profiles) and the latest run holding each score summary (the fallback readers)
DELETE FROM meta.run r
WHERE r.status <> 'running'
  AND r.run_id NOT IN (SELECT run_id FROM meta.run ORDER BY run_id DESC LIMIT :n)
  AND r.run_id NOT IN (SELECT run_id FROM meta.stage WHERE run_id IS NOT NULL)
  AND r.run_id NOT IN (SELECT m FROM (SELECT max(run_id) AS m FROM meta.run WHERE summary ? 'score_coverage'
                                      UNION ALL SELECT max(run_id) FROM meta.run WHERE summary ? 'score_profiles') x
                       WHERE m IS NOT NULL);  -- NOT IN with a NULL would keep every row

-- name: prune_inputs
-- per kind keep the newest :n load attempts and always the latest successful one (what the stage keys and
-- reports read) and any load still running; meta.reject rows go with their load (ON DELETE CASCADE)
DELETE FROM meta.input i
WHERE i.status <> 'loading'
  AND i.input_id NOT IN (SELECT DISTINCT ON (kind) input_id FROM meta.input WHERE status = 'done'
                         ORDER BY kind, input_id DESC)
  AND i.input_id NOT IN (SELECT input_id FROM (SELECT input_id, row_number() OVER (PARTITION BY kind
                                                ORDER BY input_id DESC) AS k FROM meta.input) x WHERE x.k <= :n);
