"""Places owners offer (core.offer): matched to candidates, or candidates of their own.

Each offer valid on the day (``offered_from`` ≤ day ≤ ``offered_until``, open ends allowed) is resolved
to the place it names (``sql/offer_targets.sql``): a building (``pand:<id>``) or a parcel
(``perceel:<aanduiding>``). It *matches* the candidate with that key, or — for a parcel — the plot
candidate whose parcels include it. Detection then adds a candidate for every offered place that
matched none, so an owner who comes forward is never lost because the signals did not flag the place;
the ranking marks every matched candidate "offered by owner" and puts it first. Only the offer's dates
and conditions are read: the contact never leaves core.offer.

An unmatched offer's candidate carries what detection computes for a candidate of its kind, by the
detectors' own SQL and functions (no second implementation, so both always agree):

* **building**: its units (the offered unit, or every unit of the building) from
  ``sql/vacancy_units.sql``, scored by :func:`~plekzoeker.scoring.vacancy.unit_evidence` and summed by
  :func:`~plekzoeker.scoring.vacancy.building_facts`: vacant floor area and units, special objects,
  evidence and confidence *from the signals present* (0 and no vacancy evidence when there are none:
  ``details.detection`` says so). The offer itself is an evidence item of weight 0: it says the place
  is available, not that it is empty, so it adds nothing to the confidence. ``area_m2`` is the offered
  floor area (its units less special objects): the owner says that is free, whatever the signals say.
* **parcel**: the parcel on its own through ``sql/plots.sql`` and
  :func:`~plekzoeker.scoring.plots.classify_plots` (:func:`~plekzoeker.scoring.plots.assess_parcels`):
  buildings, hard land-cover exclusions (water, roads, ...), raster exclusions and the width test are
  subtracted exactly as for a detected plot; ``area_m2`` is the usable area that is left (0 when nothing
  is), the geometry that usable part (the parcel when nothing is left), ``evidence`` what was removed,
  ``details.plot_rules`` why the plot rules alone did not list it.

The facts step (scoring/facts.py) then runs over every candidate of the run, offered ones included.
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

from plekzoeker.db.ledger import registered_rasters
from plekzoeker.scoring.plots import assess_parcels, plot_candidates
from plekzoeker.scoring.plots_config import PlotsConfig
from plekzoeker.scoring.vacancy import building_facts, read_units, signal_kinds, unit_evidence
from plekzoeker.scoring.vacancy_config import VacancyConfig

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


def offer_item(words: str) -> dict:
    """The offer as an evidence item: weight 0, it says the place is available, not that it is empty."""
    return {"signal": "offered_by_owner", "value": words, "weight": 0.0, "source": "offers"}


def detection_words(units_total: int, units_vacant: int, evidence: list[dict]) -> str:
    """What detection alone says about an offered building, in words."""
    if units_total == 0:
        return "no BAG units registered in this building: floor area unknown"
    if not any(e.get("signal") != "offered_by_owner" for e in evidence):
        return "no vacancy signal: detection alone would not list it; a candidate because its owner offers it"
    if units_vacant == 0:
        return "vacancy signals too weak to count a unit as vacant; a candidate because its owner offers it"
    return "vacancy signals below the detection threshold (min_building_area_m2); a candidate because its owner offers it"


def offered_buildings(conn: sa.Connection, pand: pd.DataFrame, words: dict[str, str], cfg: dict,
                      day: dt.date) -> list[dict]:
    """Candidate rows (with ``geometry``) for the offered buildings ``pand`` (offer targets), see the module doc."""
    if pand.empty:
        return []
    vc = VacancyConfig.from_config(cfg)
    ids = [k[5:] for k in pand["target_key"]]
    units = read_units(conn, cfg, pand_ids=ids)
    if len(units):
        units = unit_evidence(units, vc, signal_kinds(conn), today=day)
    outline = {r.pand_id: r for r in conn.execute(sa.text(CANDIDATES_SQL), {"pand_ids": ids})}
    rows = []
    for t in pand.itertuples():
        pand_id = t.target_key[5:]
        if pand_id not in outline:
            continue
        g = units[[pand_id in list(p or []) for p in units["pand_ids"]]] if len(units) else units
        if isinstance(t.unit_id, str):
            g = g[g["identificatie"] == t.unit_id]
        offer = offer_item(words.get(t.target_key, "offered by owner"))
        geom = shapely.from_wkb(bytes(outline[pand_id].wkb))
        if g.empty:
            rows.append({"candidate_key": t.target_key, "kind": "vacant_building", "source_ids": [pand_id],
                         "municipality": f"GM{pand_id[:4]}", "label": None, "area_m2": 0.0, "confidence": 0.0,
                         "evidence": [offer], "details": {"pand_id": pand_id, "units_total": 0, "units_vacant": 0,
                                                          "vacant_area_m2": 0.0, "offered_area_m2": 0.0, "offered": True,
                                                          "detection": detection_words(0, 0, [])},
                         "access_point": outline[pand_id].surface_point, "geometry": geom})
            continue
        b = building_facts(pand_id, g, vc)
        b.pop("vacant"), b.pop("special_vacant")
        ordinary = b.pop("ordinary")
        offered_area = float(ordinary["area"].sum())
        x, y = b.pop("x"), b.pop("y")
        b["source_ids"] = [pand_id, *ordinary["identificatie"]]
        b["area_m2"] = offered_area
        b["evidence"] = [offer, *b["evidence"]]
        b["details"].update({"offered": True, "offered_area_m2": offered_area, "units_offered": int(len(ordinary)),
                             "detection": detection_words(b["details"]["units_total"], b["details"]["units_vacant"],
                                                          b["evidence"])})
        rows.append({**b, "access_point": shapely.to_wkb(shapely.set_srid(shapely.Point(x, y), 28992), hex=True,
                                                         include_srid=True), "geometry": geom})
    return rows


def plot_rules_words(r, cfg: dict) -> str:
    """Why the plot rules alone did not list an offered parcel (a classified row of assess_parcels)."""
    pc = PlotsConfig.from_config(cfg)
    cov = float(r.covered) / float(r.area) if r.area else 0.0
    if cov >= pc.max_building_coverage:
        return (f"building coverage {cov * 100:.0f}% (the plot rules list parcels below "
                f"{pc.max_building_coverage * 100:g}%)")
    if r.outcome != "usable":
        return (f"{r.outcome.replace('_', ' ')}: {float(r.usable_area):.0f} m2 usable (the plot rules need "
                f"{pc.min_area_m2:g} m2 at least {pc.min_width_m:g} m wide)")
    return "meets the plot rules"


def offered_parcels(conn: sa.Connection, engine: sa.Engine, parcels: pd.DataFrame, words: dict[str, str],
                    cfg: dict) -> list[dict]:
    """Candidate rows (with ``geometry``) for the offered parcels (offer targets), see the module doc."""
    ids = [p for p in parcels["perceel_id"] if isinstance(p, str)]
    if not ids:
        return []
    res = assess_parcels(conn, cfg, registered_rasters(engine), perceel_ids=ids)
    if res.empty:
        return []
    rows = plot_candidates(res, cfg)
    out = []
    for (_, c), r in zip(rows.iterrows(), res.itertuples()):
        usable = float(r.usable_area) > 0.5
        c = c.to_dict()
        c["area_m2"] = round(float(r.usable_area), 1) if usable else 0.0
        c["evidence"] = [offer_item(words.get(c["candidate_key"], "offered by owner")), *c["evidence"]]
        c["details"].update({"offered": True, "usable_area_m2": c["area_m2"], "plot_rules": plot_rules_words(r, cfg),
                             "note": "offered by the owner: a candidate whatever the plot rules say; the usable area "
                                     "is what is left after their exclusions (buildings, water, roads, land cover, width)"})
        c["geometry"] = r.usable if usable else shapely.force_2d(r.geom)
        c["access_point"] = shapely.to_wkb(shapely.set_srid(shapely.point_on_surface(c["geometry"]), 28992),
                                           hex=True, include_srid=True)
        out.append(c)
    return out


def offered_candidates(conn: sa.Connection, cands: pd.DataFrame, cfg: dict, day: dt.date, run_id: int,
                       engine: sa.Engine | None = None) -> gpd.GeoDataFrame:
    """New candidates (result.candidate columns, as :func:`plekzoeker.scoring.detect.candidate_frame` makes
    them) for the offered places no detected candidate matches; empty when there are none."""
    targets = offer_targets(conn, day)
    keys = list(cands["candidate_key"]) if len(cands) else []
    if targets.empty:
        return gpd.GeoDataFrame(geometry=[], crs=28992)
    hit = match(targets, keys, list(cands["source_ids"]) if len(cands) else [], list(cands["kind"]) if len(cands) else [])
    free = targets[hit.isna()].drop_duplicates("target_key")
    words = {t.target_key: offer_words(t.offered_from, t.offered_until, t.conditions) for t in free.itertuples()}
    rows = offered_buildings(conn, free[free["kind"] == "vacant_building"], words, cfg, day)
    rows += offered_parcels(conn, engine or conn.engine, free[free["kind"] == "undeveloped_plot"], words, cfg)
    if not rows:
        return gpd.GeoDataFrame(geometry=[], crs=28992)
    df = pd.DataFrame(rows)
    df["evidence"] = [json.dumps(e, ensure_ascii=False, default=str) for e in df["evidence"]]
    df["details"] = [json.dumps(d, ensure_ascii=False, default=str) for d in df["details"]]
    df["confidence"] = df["confidence"].astype(object).where(df["confidence"].notna(), None)
    df["run_id"] = run_id
    return gpd.GeoDataFrame(df, geometry="geometry", crs=28992)


def add_offered(engine: sa.Engine, cands: gpd.GeoDataFrame, cfg: dict, day: dt.date, run_id: int,
                detected: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """The detected candidates plus one for every offered place none of them matches (see the module doc).

    ``detected``: candidate_key, source_ids, kind of what was detected when that is not ``cands`` itself
    (the partitioned run matches offers against the union of its areas)."""
    with engine.connect() as conn:
        extra = offered_candidates(conn, cands if detected is None else detected, cfg, day, run_id, engine)
    if extra.empty:
        return cands
    log.info("detect: %d offered place(s) matched no detected candidate and became candidates of their own", len(extra))
    extra = extra.reindex(columns=[c for c in cands.columns if c in extra.columns or c != "geometry"])
    return gpd.GeoDataFrame(pd.concat([cands, extra], ignore_index=True), geometry="geometry", crs=28992)
