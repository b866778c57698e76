-- The facts that decide whether people can live at a candidate, one row per candidate.
-- Written by the facts step (after detect, before score); read by score (vetoes, flags, capacity)
-- and by the outputs. NULL is "unknown" (no source covered the candidate), never a guess.
CREATE TABLE result.fact (
    candidate_key   text PRIMARY KEY,
    zoning          text,                -- main group(s) by area share, largest first, e.g. 'kantoor' or 'kantoor (70%), groen (30%)'
    zoning_verdict  text CHECK (zoning_verdict IN ('allowed', 'deviation', 'blocked')),
    zoning_rule     text,                -- the configured rule that decided the verdict, in words
    zoning_plan     text,                -- plan identifier (IMRO idn or DSO id) that won where plans overlap
    energy_label    text,                -- EP-Online label class (A++++ .. G)
    label_rule      boolean,             -- office label-C obligation applies (no label or worse than C on > 100 m2 office use, not a monument)
    monument        text CHECK (monument IN ('rijks', 'gemeentelijk', 'none')),
    bouwjaar        integer,
    floors          integer,
    height_m        double precision,
    sources         jsonb NOT NULL DEFAULT '{}',   -- fact name -> source it came from (e.g. 'zoning': 'imro:NL.IMRO.0664.BPBS03-ON99')
    run_id          bigint
);
COMMENT ON TABLE result.fact IS 'Facts per candidate (zoning, energy label, monument, age, floors, height); NULL = unknown.';
