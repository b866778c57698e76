-- Outreach versions: every exported list row carries the version of its outreach record; an import
-- of a row based on an older version than the stored one is a conflict (both notes kept).
ALTER TABLE result.outreach
    ADD COLUMN version    integer NOT NULL DEFAULT 1,
    ADD COLUMN updated_by text;

-- Every change of a candidate's outreach record (event 'change', version = the version it created)
-- and every conflicting edit that did not become current (event 'conflict', version = the stored
-- version it lost against, based_on = the version the edited row was exported with).
CREATE TABLE result.outreach_history (
    history_id    bigserial PRIMARY KEY,
    candidate_key text NOT NULL,
    event         text NOT NULL CHECK (event IN ('change', 'conflict')),
    version       integer NOT NULL,
    based_on      integer,
    status        text NOT NULL
                  CHECK (status IN ('new', 'contacted', 'in talks', 'declined', 'suitable', 'unsuitable')),
    note          text,
    changed_by    text,
    changed_at    timestamptz NOT NULL DEFAULT now(),
    source        text
);
CREATE INDEX outreach_history_key ON result.outreach_history (candidate_key, history_id);

-- what was stored before versions existed is version 1 of each record
INSERT INTO result.outreach_history (candidate_key, event, version, status, note, changed_at, source)
SELECT candidate_key, 'change', 1, status, note, updated_at, 'before outreach history'
FROM result.outreach;
