"""Helpers for the facts tests: run the facts step on hand-made candidates, as the detect stage does."""
from __future__ import annotations

import json

import sqlalchemy as sa
from shapely import to_wkb


def run_facts(engine: sa.Engine, cfg: dict, cands: list[dict], tag: int = 990001) -> dict:
    """Put ``cands`` (candidate_key, kind, geometry, optional details / source_ids / confidence / evidence)
    into raw.candidate__<tag> next to an empty raw.exclusion__<tag>, run the facts step in one transaction
    and return {"summary", "candidates", "exclusions"} (the staging rows afterwards)."""
    from plekzoeker.scoring.facts import apply_facts

    raw = engine.raw_connection()
    try:
        cur = raw.driver_connection.cursor()
        cur.execute(f"CREATE TABLE raw.candidate__{tag} (LIKE result.candidate INCLUDING DEFAULTS)")
        cur.execute(f"CREATE TABLE raw.exclusion__{tag} (LIKE result.exclusion INCLUDING DEFAULTS)")
        for c in cands:
            cur.execute(
                f"INSERT INTO raw.candidate__{tag} (candidate_key, kind, source_ids, municipality, area_m2, confidence, "
                "evidence, details, geom, access_point) VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, "
                "ST_GeomFromWKB(%s, 28992), ST_PointOnSurface(ST_GeomFromWKB(%s, 28992)))",
                (c["candidate_key"], c["kind"], c.get("source_ids", []), c.get("municipality", "GM9999"),
                 c["geometry"].area, c.get("confidence"), json.dumps(c.get("evidence", [])),
                 json.dumps(c.get("details", {})), to_wkb(c["geometry"]), to_wkb(c["geometry"])))
        summary = apply_facts(cur, {"candidate": f"raw.candidate__{tag}", "exclusion": f"raw.exclusion__{tag}"}, cfg,
                              run_id=1)
        cur.execute(f"SELECT candidate_key, confidence, evidence, details FROM raw.candidate__{tag} ORDER BY 1")
        kept = {r[0]: {"confidence": r[1], "evidence": r[2], "details": r[3]} for r in cur.fetchall()}
        cur.execute(f"SELECT candidate_key, reason FROM raw.exclusion__{tag} ORDER BY 1")
        excl = dict(cur.fetchall())
        cur.execute(f"DROP TABLE raw.candidate__{tag}, raw.exclusion__{tag}")
        raw.commit()
    finally:
        raw.close()
    return {"summary": summary, "candidates": kept, "exclusions": excl}


def facts(engine: sa.Engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {r["candidate_key"]: dict(r) for r in conn.execute(sa.text("SELECT * FROM result.fact")).mappings()}
