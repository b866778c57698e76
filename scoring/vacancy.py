"""Vacant units and buildings: combine the signals a user has into a confidence with evidence.

No register says "empty" (DOMAIN.md), so each unit gets a list of evidence items
``{signal, value, weight, source}`` and a confidence in [0, 1]::

    confidence = (1 - prod(1 - w_i for positive signals)) * prod(1 - c_j for counter-evidence)

Positive signals: BAG unit status *buiten gebruik*, the building *buiten gebruik*, a long
*Verbouwing*, a vacancy-register entry, no registered establishment (only when an establishments
export was loaded), low energy use, a long listing. Counter-evidence: an active establishment,
normal energy use. Units in a building with a demolition permit (or demolished) are excluded with
that reason. Special objects (garage boxes, utility huts, tiny units: scoring/special_objects.py) never
count as vacant floor area. Units aggregate to their building: a building is a candidate when the floor
area of its vacant units (confidence >= ``min_confidence``, not special objects) reaches
``min_building_area_m2``; a building that would reach it only with its special objects is excluded
with the special-object reason (so a filter that is too broad shows up in result.exclusion, where it
can be checked, instead of silently shrinking the list).

:func:`building_facts` computes a building's figures from its scored units; :func:`aggregate_buildings`
applies the thresholds to it for detection, and scoring/offers.py calls it without thresholds for an
offered building, so both say the same about the same units.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa

from plekzoeker.area import bbox_params
from plekzoeker.scoring.special_objects import classify_units, exclusion_reason
from plekzoeker.scoring.vacancy_config import VacancyConfig

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).with_name("sql")
DEMOLITION = {"Sloopvergunning verleend": "demolition permit", "Pand gesloopt": "demolished",
              "Niet gerealiseerd pand": "never built", "Pand ten onrechte opgevoerd": "registered in error"}


def unit_evidence(units: pd.DataFrame, vc: VacancyConfig, loaded_kinds: set[str], today: dt.date | None = None) -> pd.DataFrame:
    """Add ``confidence``, ``evidence`` (list of dicts) and ``excluded`` (reason or None) per unit.

    ``units`` has the columns of ``sql/vacancy_units.sql``; ``vc`` is the ``vacancy`` config section;
    ``loaded_kinds`` are the signal kinds present in the database (absence of data is no evidence).
    """
    today = today or dt.date.today()
    w, cw = vc.weights, vc.counter_weights
    out = units.copy()
    evid: list[list[dict]] = []
    conf = np.zeros(len(out))
    for i, r in enumerate(out.itertuples(index=False)):
        items: list[dict] = []
        counter: list[dict] = []
        if r.status == "Verblijfsobject buiten gebruik":
            items.append({"signal": "bag_status_buiten_gebruik", "value": r.status, "weight": w["bag_status_buiten_gebruik"], "source": "BAG"})
        if r.pand_status == "Pand buiten gebruik":
            items.append({"signal": "bag_pand_buiten_gebruik", "value": r.pand_status, "weight": w["bag_pand_buiten_gebruik"], "source": "BAG"})
        if r.status == "Verbouwing verblijfsobject" or r.pand_status == "Verbouwing pand":
            since = _date(r.documentdatum)
            if since is not None and (today - since).days > vc.long_renovation_days:
                items.append({"signal": "bag_long_renovation", "value": f"Verbouwing since {since.isoformat()}",
                              "weight": w["bag_long_renovation"], "source": "BAG"})
        if r.in_register:
            since = _date(r.register_since)
            items.append({"signal": "vacancy_register", "value": f"listed since {since.isoformat()}" if since else "listed",
                          "weight": w["vacancy_register"], "source": r.register_file or "vacancy register"})
        if "establishments" in loaded_kinds:
            if r.establishment_active is True:
                counter.append({"signal": "active_establishment", "value": "active establishment registered",
                                "weight": -cw["active_establishment"], "source": "establishments"})
            elif not r.establishment_active:
                items.append({"signal": "no_establishment", "value": "no active establishment registered",
                              "weight": w["no_establishment"], "source": "establishments"})
        if "energy" in loaded_kinds and r.kwh_per_m2 is not None and not pd.isna(r.kwh_per_m2):
            if r.kwh_per_m2 < vc.low_energy_kwh_per_m2:
                items.append({"signal": "low_energy", "value": f"{r.kwh_per_m2:g} kWh/m2", "weight": w["low_energy"], "source": "energy"})
            else:
                counter.append({"signal": "normal_energy", "value": f"{r.kwh_per_m2:g} kWh/m2",
                                "weight": -cw["normal_energy"], "source": "energy"})
        listed = _date(r.listed_since)
        if listed is not None and (today - listed).days > vc.listed_long_days:
            items.append({"signal": "listed_long", "value": f"listed since {listed.isoformat()}", "weight": w["listed_long"], "source": "listings"})
        conf[i] = confidence([it["weight"] for it in items], [-c["weight"] for c in counter])
        evid.append(items + counter)
    out["confidence"] = conf
    out["evidence"] = evid
    out["excluded"] = out["pand_status"].map(DEMOLITION).where(out["pand_status"].isin(list(DEMOLITION)), None)
    return out


def confidence(weights: list[float], counter: list[float]) -> float:
    """Noisy-OR of the positive weights, damped by each piece of counter-evidence; in [0, 1]."""
    if not weights:
        return 0.0
    p = 1.0 - float(np.prod([1.0 - min(max(x, 0.0), 1.0) for x in weights]))
    for c in counter:
        p *= 1.0 - min(max(c, 0.0), 1.0)
    return round(min(max(p, 0.0), 1.0), 4)


def _date(v) -> dt.date | None:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.date()
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v)[:10])
    except ValueError:
        return None


def address(r) -> str | None:
    if r.openbare_ruimte is None or pd.isna(r.openbare_ruimte):
        return r.postcode if isinstance(r.postcode, str) else None
    num = "" if pd.isna(r.huisnummer) else str(int(r.huisnummer))
    num += (r.huisletter or "") if isinstance(r.huisletter, str) else ""
    num += f"-{r.toevoeging}" if isinstance(r.toevoeging, str) and r.toevoeging else ""
    tail = ", ".join(x for x in (r.postcode, r.woonplaats) if isinstance(x, str) and x)
    return f"{r.openbare_ruimte} {num}".strip() + (f", {tail}" if tail else "")


def building_facts(pand_id: str, g: pd.DataFrame, vc: VacancyConfig) -> dict:
    """A building's figures from its scored units ``g`` (``unit_evidence`` output, optional ``special``).

    Vacant units: confidence >= ``min_confidence`` and no special object. Confidence and evidence: the
    area-weighted mean over the vacant units and their evidence, or, when none is vacant, over all units
    that are no special object (the signals present; 0 and no evidence without any). Returns the
    candidate columns (``area_m2`` = the vacant floor area) plus the unit frames ``vacant``,
    ``special_vacant`` and ``ordinary`` (no special object) for the caller's thresholds."""
    g = g.copy()
    g["area"] = g["oppervlakte"].fillna(0).astype(float)
    special = g["special"] if "special" in g.columns else pd.Series(None, index=g.index, dtype=object)
    ordinary = g[special.isna()]
    vac = ordinary[ordinary["confidence"] >= vc.min_confidence]
    special_vac = g[special.notna() & (g["confidence"] >= vc.min_confidence)]
    basis = vac if len(vac) else ordinary
    vac_area = float(vac["area"].sum())
    conf = float(np.average(basis["confidence"], weights=basis["area"].where(basis["area"] > 0, 1.0))) if len(basis) else 0.0
    main = (basis if len(basis) else g).sort_values(["area", "identificatie"], ascending=[False, True]).iloc[0]
    details = {"pand_id": pand_id, "units_total": int(len(g)), "units_vacant": int(len(vac)),
               "office_area_m2": float(g["area"].sum()), "vacant_area_m2": vac_area,
               "vacant_share": round(vac_area / float(g["area"].sum()), 3) if g["area"].sum() else None,
               "gebruiksdoelen": sorted({d for ds in g["gebruiksdoelen"] for d in ds})}
    if special.notna().any():
        details["special_objects"] = {str(k): int(n) for k, n in special.dropna().map(lambda r: r.split(":")[0])
                                      .value_counts().sort_index().items()}
    return {"candidate_key": f"pand:{pand_id}", "kind": "vacant_building", "source_ids": [pand_id, *vac["identificatie"]],
            "municipality": f"GM{pand_id[:4]}", "label": address(main), "area_m2": vac_area,
            "confidence": round(conf, 4),
            "evidence": [dict(item, unit=r.identificatie) for r in basis.itertuples() for item in r.evidence],
            "details": details, "x": float(main.x), "y": float(main.y), "vacant": vac, "special_vacant": special_vac,
            "ordinary": ordinary}


def aggregate_buildings(units: pd.DataFrame, vc: VacancyConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Group scored units by building. Returns (candidates, exclusions) DataFrames.

    A building is a candidate when the area of its vacant units (confidence >= min_confidence, no
    special object) reaches ``min_building_area_m2``; confidence is the area-weighted mean over the
    vacant units. Exclusions: a demolition (or never built) status of a building with vacant units,
    and a building whose vacant special objects are what it would take to reach the area.
    """
    u = units.copy()
    u["area"] = u["oppervlakte"].fillna(0).astype(float)
    rows, excl = [], []
    for pand_id, g in u.groupby("pand_id", sort=True):
        if not (g["confidence"] >= vc.min_confidence).any():
            continue
        reason = g["excluded"].dropna()
        if not reason.empty:
            vac_all = g[g["confidence"] >= vc.min_confidence]
            excl.append({"candidate_key": f"pand:{pand_id}", "kind": "vacant_building", "reason": reason.iloc[0],
                         "details": {"pand_id": pand_id, "vacant_area_m2": float(vac_all["area"].sum())}})
            continue
        b = building_facts(pand_id, g, vc)
        vac, sv = b.pop("vacant"), b.pop("special_vacant")
        b.pop("ordinary")
        if b["area_m2"] >= vc.min_building_area_m2 and len(vac):
            rows.append(b)
        elif len(sv) and b["area_m2"] + float(sv["area"].sum()) >= vc.min_building_area_m2:
            excl.append({"candidate_key": f"pand:{pand_id}", "kind": "vacant_building",
                         "reason": exclusion_reason(sv["special"], sv["area"]),
                         "details": {"pand_id": pand_id, "vacant_area_m2": b["area_m2"],
                                     "special_vacant_area_m2": float(sv["area"].sum()),
                                     "special_units": [{"unit": r.identificatie, "area_m2": r.area, "reason": r.special}
                                                       for r in sv.itertuples()]}})
    return pd.DataFrame(rows), pd.DataFrame(excl)


def read_units(conn: sa.Connection, cfg: dict, pand_ids: list[str] | None = None) -> pd.DataFrame:
    """The units of ``sql/vacancy_units.sql`` with their special-object reason (column ``special``):
    the scan of the configured uses in the area, or (``pand_ids``) every unit of those buildings."""
    vc = VacancyConfig.from_config(cfg)
    sc = vc.special
    units = pd.read_sql(sa.text((SQL_DIR / "vacancy_units.sql").read_text()), conn,
                        params={"doelen": list(vc.gebruiksdoelen), "box_max": sc.garage_box_max_m2,
                                "pand_ids": pand_ids, **bbox_params(cfg)})
    units["special"] = classify_units(units, sc)
    return units


def signal_kinds(conn: sa.Connection) -> set[str]:
    """The signal kinds loaded (absence of a kind is no evidence)."""
    return {r[0] for r in conn.execute(sa.text("SELECT DISTINCT kind FROM core.signal"))}


def detect_vacant_buildings(conn: sa.Connection, cfg: dict, today: dt.date | None = None) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read units and signals from core.*, return building candidates (with footprints) and exclusions."""
    vc = VacancyConfig.from_config(cfg)
    units = read_units(conn, cfg)
    kinds = signal_kinds(conn)
    log.info("vacancy: %d candidate units (%s); signals loaded: %s", len(units), ", ".join(vc.gebruiksdoelen),
             ", ".join(sorted(kinds)) or "none")
    if units["special"].notna().any():
        log.info("vacancy: %d unit(s) are special objects, not counted (%s)", int(units["special"].notna().sum()),
                 ", ".join(f"{k} {n}" for k, n in units["special"].dropna().map(lambda r: r.split(":")[0])
                           .value_counts().sort_index().items()))
    if units.empty:
        return gpd.GeoDataFrame(columns=["candidate_key"], geometry=[], crs=28992), pd.DataFrame()
    scored = unit_evidence(units, vc, kinds, today=today)
    cands, excl = aggregate_buildings(scored, vc)
    if cands.empty:
        return gpd.GeoDataFrame(columns=["candidate_key"], geometry=[], crs=28992), excl
    foot = gpd.read_postgis(sa.text("SELECT identificatie AS pand_id, geom FROM core.pand WHERE identificatie = ANY(:ids)"),
                            conn, params={"ids": [d["pand_id"] for d in cands["details"]]}, geom_col="geom")
    geom = cands["details"].map(lambda d: d["pand_id"]).map(dict(zip(foot["pand_id"], foot.geometry)))
    gdf = gpd.GeoDataFrame(cands, geometry=list(geom), crs=28992)
    missing = gdf.geometry.isna()
    if missing.any():  # a unit whose building is not in core.pand: use the unit point buffered slightly
        log.warning("vacancy: %d candidate building(s) missing from core.pand; using the address point", int(missing.sum()))
        gdf.loc[missing, "geometry"] = gpd.points_from_xy(gdf.loc[missing, "x"], gdf.loc[missing, "y"]).buffer(5)
    return gdf, excl


def evidence_json(items: list[dict]) -> str:
    return json.dumps(items, ensure_ascii=False, default=str)
