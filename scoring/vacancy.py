"""Vacant units and buildings: combine the signals a user has into a confidence with evidence.

No register says "empty" (DOMAIN.md), so each unit gets a list of evidence items
``{signal, value, weight, source}`` and a confidence in [0, 1]::

    confidence = (1 - prod(1 - w_i for positive signals)) * prod(1 - c_j for counter-evidence)

Positive signals: BAG unit status *buiten gebruik*, the building *buiten gebruik*, a long
*Verbouwing*, a vacancy-register entry, no registered establishment (only when an establishments
export was loaded), low energy use, a long listing. Counter-evidence: an active establishment,
normal energy use. Units in a building with a demolition permit (or demolished) are excluded with
that reason. Units aggregate to their building: a building is a candidate when the floor area of
its vacant units (confidence >= ``min_confidence``) reaches ``min_building_area_m2``.
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

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).with_name("sql")
DEMOLITION = {"Sloopvergunning verleend": "demolition permit", "Pand gesloopt": "demolished",
              "Niet gerealiseerd pand": "never built", "Pand ten onrechte opgevoerd": "registered in error"}


def unit_evidence(units: pd.DataFrame, cfg: dict, loaded_kinds: set[str], today: dt.date | None = None) -> pd.DataFrame:
    """Add ``confidence``, ``evidence`` (list of dicts) and ``excluded`` (reason or None) per unit.

    ``units`` has the columns of ``sql/vacancy_units.sql``; ``cfg`` is the ``vacancy`` config section;
    ``loaded_kinds`` are the signal kinds present in the database (absence of data is no evidence).
    """
    today = today or dt.date.today()
    w, cw = cfg["weights"], cfg["counter_weights"]
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
            if since is not None and (today - since).days > cfg["long_renovation_days"]:
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
            if r.kwh_per_m2 < cfg["low_energy_kwh_per_m2"]:
                items.append({"signal": "low_energy", "value": f"{r.kwh_per_m2:g} kWh/m2", "weight": w["low_energy"], "source": "energy"})
            else:
                counter.append({"signal": "normal_energy", "value": f"{r.kwh_per_m2:g} kWh/m2",
                                "weight": -cw["normal_energy"], "source": "energy"})
        listed = _date(r.listed_since)
        if listed is not None and (today - listed).days > cfg["listed_long_days"]:
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


def aggregate_buildings(units: pd.DataFrame, cfg: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Group scored units by building. Returns (candidates, exclusions) DataFrames.

    A building is a candidate when the area of its vacant units (confidence >= min_confidence)
    reaches ``min_building_area_m2``; confidence is the area-weighted mean over the vacant units.
    """
    u = units.copy()
    u["area"] = u["oppervlakte"].fillna(0).astype(float)
    u["vacant"] = u["confidence"] >= cfg["min_confidence"]
    rows, excl = [], []
    for pand_id, g in u.groupby("pand_id", sort=True):
        vac = g[g["vacant"]]
        if vac.empty:
            continue
        reason = g["excluded"].dropna()
        if not reason.empty:
            excl.append({"candidate_key": f"pand:{pand_id}", "kind": "vacant_building", "reason": reason.iloc[0],
                         "details": {"pand_id": pand_id, "vacant_area_m2": float(vac["area"].sum())}})
            continue
        vac_area = float(vac["area"].sum())
        if vac_area < cfg["min_building_area_m2"]:
            continue
        main = vac.sort_values(["area", "identificatie"], ascending=[False, True]).iloc[0]
        weights = vac["area"].where(vac["area"] > 0, 1.0)
        conf = float(np.average(vac["confidence"], weights=weights))
        evidence = [dict(item, unit=r.identificatie) for r in vac.itertuples() for item in r.evidence]
        rows.append({
            "candidate_key": f"pand:{pand_id}", "kind": "vacant_building", "source_ids": [pand_id, *vac["identificatie"]],
            "municipality": f"GM{pand_id[:4]}", "label": address(main), "area_m2": vac_area,
            "confidence": round(conf, 4), "evidence": evidence,
            "details": {"pand_id": pand_id, "units_total": int(len(g)), "units_vacant": int(len(vac)),
                        "office_area_m2": float(g["area"].sum()), "vacant_area_m2": vac_area,
                        "vacant_share": round(vac_area / float(g["area"].sum()), 3) if g["area"].sum() else None,
                        "gebruiksdoelen": sorted({d for ds in g["gebruiksdoelen"] for d in ds})},
            "x": float(main.x), "y": float(main.y),
        })
    return pd.DataFrame(rows), pd.DataFrame(excl)


def detect_vacant_buildings(conn: sa.Connection, cfg: dict, today: dt.date | None = None) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read units and signals from core.*, return building candidates (with footprints) and exclusions."""
    vcfg = cfg["vacancy"]
    units = pd.read_sql(sa.text((SQL_DIR / "vacancy_units.sql").read_text()), conn,
                        params={"doelen": list(vcfg["gebruiksdoelen"]), "min_unit_area": int(vcfg["min_unit_area_m2"]),
                                **bbox_params(cfg)})
    kinds = {r[0] for r in conn.execute(sa.text("SELECT DISTINCT kind FROM core.signal"))}
    log.info("vacancy: %d candidate units (%s); signals loaded: %s", len(units), ", ".join(vcfg["gebruiksdoelen"]),
             ", ".join(sorted(kinds)) or "none")
    if units.empty:
        return gpd.GeoDataFrame(columns=["candidate_key"], geometry=[], crs=28992), pd.DataFrame()
    scored = unit_evidence(units, vcfg, kinds, today=today)
    cands, excl = aggregate_buildings(scored, vcfg)
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
