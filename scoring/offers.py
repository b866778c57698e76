"""Places owners offer (core.offer): matched to candidates, or candidates of their own.

Each offer valid on the day (``offered_from`` ≤ day ≤ ``offered_until``, open ends allowed) is resolved
to the place it names (``sql/offer_targets.sql``): a building (``pand:<id>``) or a parcel
(``perceel:<aanduiding>``). It *matches* the candidate with that key, or — for a parcel — the plot
candidate whose parcels include it. Detection then adds a candidate for every offered place that
matched none (``sql/offer_candidates.sql``), so an owner who comes forward is never lost because the
signals did not flag the place; the ranking marks every matched candidate "offered by owner" and puts
it first. Only the offer's dates and conditions are read: the contact never leaves core.offer.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa

log = logging.getLogger(__name__)

_SQL = Path(__file__).parent / "sql"
TARGETS_SQL = (_SQL / "offer_targets.sql").read_text()
CANDIDATES_SQL = (_SQL / "offer_candidates.sql").read_text()


def offer_targets(conn: sa.Connection, day: dt.date) -> pd.DataFrame:
    """The valid offers resolved to places (offer_no, kind, target_key, pand_id, unit_id, perceel_id, dates, conditions)."""
    return pd.read_sql(sa.text(TARGETS_SQL), conn, params={"day": day})


def match(targets: pd.DataFrame, keys, source_ids, kinds) -> pd.Series:
    """The candidate key each offer target matches (None when none), index as ``targets``."""
    keyset = set(keys)
    by_parcel = {sid: k for k, ids, kind in zip(keys, source_ids, kinds) if kind == "undeveloped_plot"
                 for sid in (ids or [])}
    out = []
    for t in targets.itertuples():
        if t.target_key in keyset:
            out.append(t.target_key)
        elif t.kind == "undeveloped_plot" and isinstance(t.perceel_id, str) and t.perceel_id in by_parcel:
            out.append(by_parcel[t.perceel_id])
        else:
            out.append(None)
    return pd.Series(out, index=targets.index, dtype=object)


def offer_words(offered_from, offered_until, conditions) -> str:
    """'offered by owner from 2026-01-01 until 2027-06-30: conditions' (only the parts known)."""
    words = "offered by owner"
    if offered_from is not None and not pd.isna(offered_from):
        words += f" from {offered_from}"
    if offered_until is not None and not pd.isna(offered_until):
        words += f" until {offered_until}"
    if isinstance(conditions, str) and conditions.strip():
        words += f": {conditions.strip()}"
    return words


def offers_by_candidate(conn: sa.Connection, cands: pd.DataFrame, day: dt.date) -> dict[str, str]:
    """candidate_key -> the offer in words, for the candidates (candidate_key, kind, source_ids) an offer matches."""
    targets = offer_targets(conn, day)
    if targets.empty or cands.empty:
        return {}
    hit = match(targets, list(cands["candidate_key"]), list(cands["source_ids"]), list(cands["kind"]))
    out: dict[str, str] = {}
    for t, key in zip(targets.itertuples(), hit):
        if key and key not in out:
            out[key] = offer_words(t.offered_from, t.offered_until, t.conditions)
    return out


def offered_candidates(conn: sa.Connection, cands: pd.DataFrame, cfg: dict, day: dt.date, run_id: int) -> gpd.GeoDataFrame:
    """New candidates (result.candidate columns, as :func:`plekzoeker.scoring.detect.candidate_frame` makes
    them) for the offered places no detected candidate matches; empty when there are none."""
    targets = offer_targets(conn, day)
    keys = list(cands["candidate_key"]) if len(cands) else []
    if targets.empty:
        return gpd.GeoDataFrame(geometry=[], crs=28992)
    hit = match(targets, keys, list(cands["source_ids"]) if len(cands) else [], list(cands["kind"]) if len(cands) else [])
    free = targets[hit.isna()].drop_duplicates("target_key")
    pand = free[free["kind"] == "vacant_building"]
    rows = pd.read_sql(sa.text(CANDIDATES_SQL), conn, params={
        "pand_keys": list(pand["target_key"]), "pand_units": [u if isinstance(u, str) else None for u in pand["unit_id"]],
        "perceel_keys": list(free.loc[free["kind"] == "undeveloped_plot", "target_key"]),
        "gm": (cfg.get("area") or {}).get("municipality")})
    if rows.empty:
        return gpd.GeoDataFrame(geometry=[], crs=28992)
    offer = {t.target_key: offer_words(t.offered_from, t.offered_until, t.conditions) for t in free.itertuples()}
    rows["evidence"] = [f'[{{"signal": "offered_by_owner", "value": {json.dumps(offer.get(k, "offered by owner"), ensure_ascii=False)}, '
                        f'"weight": 1.0}}]' for k in rows["candidate_key"]]
    rows["confidence"] = [1.0 if k == "vacant_building" else None for k in rows["kind"]]
    rows["run_id"] = run_id
    geoms = shapely.from_wkb([bytes(b) for b in rows.pop("wkb")])
    return gpd.GeoDataFrame(rows, geometry=list(geoms), crs=28992)



def add_offered(engine: sa.Engine, cands: gpd.GeoDataFrame, cfg: dict, day: dt.date, run_id: int,
                detected: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """The detected candidates plus one for every offered place none of them matches (see the module doc).

    ``detected``: candidate_key, source_ids, kind of what was detected when that is not ``cands`` itself
    (the partitioned run matches offers against the union of its areas)."""
    with engine.connect() as conn:
        extra = offered_candidates(conn, cands if detected is None else detected, cfg, day, run_id)
    if extra.empty:
        return cands
    log.info("detect: %d offered place(s) matched no detected candidate and became candidates of their own", len(extra))
    extra = extra.reindex(columns=[c for c in cands.columns if c in extra.columns or c != "geometry"])
    return gpd.GeoDataFrame(pd.concat([cands, extra], ignore_index=True), geometry="geometry", crs=28992)
