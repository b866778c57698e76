-- What a coordinator acts on, one row per candidate of the score stage: capacity, vetoes, quick-scan
-- flags, owner priority, the scoring profile used, long vacancy, the relative score and the rank range
-- under varied weights. Written by the score stage together with result.score (one swap); NULL = unknown.
CREATE TABLE result.ranking (
    candidate_key   text PRIMARY KEY,
    profile         text NOT NULL,       -- score profile used: a municipality code of score.profiles, or 'default'
    people_low      integer,             -- capacity range (people), NULL when the area is unknown
    people_high     integer,
    homes_low       integer,             -- capacity range (homes)
    homes_high      integer,
    capacity_basis  text,                -- how the capacity was computed, in words
    vetoes          jsonb NOT NULL DEFAULT '[]',   -- hard vetoes in words (the candidate is not ranked when any)
    flags           jsonb NOT NULL DEFAULT '[]',   -- graded quick-scan flags in words
    owner_kind      text,                -- from the owner export (NULL: no export or no match)
    owner_tier      integer,             -- owners.priority tier of the owner kind (1 = approach first)
    offered         boolean NOT NULL DEFAULT false,  -- an owner offered this place (signals offers)
    offer           text,                -- the offer in words: from/until and conditions (never the contact)
    flagged_since   date,                -- first run that found it (result.candidate_history.first_seen)
    months_flagged  integer,
    score_relative  double precision,    -- percentile of the score among the ranked candidates of its municipality
    rank_low        integer,             -- best and worst municipality rank over the weight draws (score.stability)
    rank_high       integer,
    run_id          bigint
);
COMMENT ON TABLE result.ranking IS 'Per candidate: capacity, vetoes, flags, owner priority, profile, rank range; NULL = unknown.';

-- Places owners offer (`plekzoeker ingest signals offers FILE.csv`): keyed by a BAG id, an address or a
-- kadastrale aanduiding. contact is personal data: never published in GeoJSON, the map, logs or meta.reject
-- (the loader leaves it out of rejected rows); replaced wholesale by every offers import.
CREATE TABLE core.offer (
    verblijfsobject_id    text,
    pand_id               text,
    postcode              text,
    huisnummer            integer,
    huisletter            text,
    toevoeging            text,
    kadastrale_aanduiding text,
    offered_from          date,
    offered_until         date,
    conditions            text,
    contact               text,
    source_file           text,
    input_id              bigint
);
COMMENT ON TABLE core.offer IS 'Personal data (AVG/GDPR): contact details of owners who offer a place. Replaced by each import. Never published.';
