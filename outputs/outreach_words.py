"""The lists' and the map's wording: what a candidate is, why it ranks where it does, and each piece
of vacancy evidence, in plain words for a coordinator.

Pure functions of a candidate's stored criteria, sub-scores, weights, evidence and details: no
database. A missing or non-numeric value is left out of the words (``finite_or_none``), never
shown as 0.
"""
from __future__ import annotations

from plekzoeker.numbers import finite_or_none

CATEGORY_WORDS = {"stop": "bus/tram stop", "train_station": "train station", "supermarket": "supermarket", "gp": "GP",
                  "pharmacy": "pharmacy", "primary_school": "primary school", "social_services": "social services",
                  "park": "park"}
USE_WORDS = {"kantoorfunctie": "office", "winkelfunctie": "shop", "bijeenkomstfunctie": "meeting venue",
             "onderwijsfunctie": "school", "logiesfunctie": "lodging", "gezondheidszorgfunctie": "healthcare",
             "industriefunctie": "industrial", "sportfunctie": "sports", "celfunctie": "detention",
             "woonfunctie": "residential", "overige gebruiksfunctie": "other use"}


def evidence_phrase(item: dict) -> str:
    """One vacancy evidence item in words, e.g. 'vacancy register since 2024-01-01'."""
    signal, value = item.get("signal", ""), str(item.get("value", ""))
    since = value.split(" since ", 1)[1] if " since " in value else None
    if signal == "vacancy_register":
        return f"vacancy register since {since}" if since else "in the vacancy register"
    if signal == "bag_status_buiten_gebruik":
        return "BAG: unit out of use"
    if signal == "bag_pand_buiten_gebruik":
        return "BAG: building out of use"
    if signal == "bag_long_renovation":
        return f"BAG: under renovation since {since}" if since else "BAG: long renovation"
    if signal == "no_establishment":
        return "no active business registered"
    if signal == "low_energy":
        return f"low energy use ({value.replace('kWh/m2', 'kWh/m²')})"
    if signal == "listed_long":
        return f"for rent/sale since {since}" if since else "listed for rent/sale a long time"
    if signal == "offered_by_owner":
        return value or "offered by owner"
    if signal == "osm_vacant_tag":
        return "OSM: tagged vacant"
    if signal == "active_establishment":
        return "active business registered"
    if signal == "normal_energy":
        return f"normal energy use ({value.replace('kWh/m2', 'kWh/m²')})"
    return f"{signal.replace('_', ' ')}: {value}".strip(": ")


def _criterion_phrase(name: str, kind: str, criteria: dict, evidence: list[dict]) -> str:
    if name == "vacancy_confidence":
        pos = [e for e in evidence or [] if float(e.get("weight", 0) or 0) > 0]
        if pos:
            return evidence_phrase(max(pos, key=lambda e: (float(e["weight"]), str(e.get("value")))))
        return "vacancy signals"
    if name == "area":
        area = finite_or_none(criteria.get("area_m2"))
        if area is None:
            return "size"
        return f"{area:.0f} m² vacant floor area" if kind == "vacant_building" else f"{area:.0f} m² usable"
    if name == "noise":
        db = finite_or_none(criteria.get("noise_lden_db"))
        return f"quiet (Lden {db:.0f} dB)" if db is not None else "quiet"
    if name.startswith("transit_") and (minutes := finite_or_none(criteria.get(f"{name}_min"))) is not None:
        return f"{CATEGORY_WORDS.get(name[8:], name[8:].replace('_', ' '))} {minutes:.0f} min by public transport"
    dist = finite_or_none(criteria.get(f"dist_{name}_m"))
    words = CATEGORY_WORDS.get(name, name.replace("_", " "))
    return f"{words} {round(dist, -1):.0f} m" if dist is not None else words


def why(kind: str, criteria: dict | None, subscores: dict | None, weights: dict | None,
        evidence: list[dict] | None, n: int = 3) -> str:
    """The ``n`` criteria that add most to the score (weight × sub-score), in words, ';'-separated.

    Ties keep a fixed order: vacancy evidence, size, then the access categories as configured.
    """
    criteria, subscores, weights = criteria or {}, subscores or {}, weights or {}
    order = ["vacancy_confidence", "area", *[k for k in subscores if k not in ("vacancy_confidence", "area", "noise")],
             "noise"]
    contrib = []
    for i, name in enumerate(order):
        sub, w = finite_or_none(subscores.get(name)), finite_or_none(weights.get(name))
        if sub is None or w is None or sub <= 0 or w <= 0:
            continue
        contrib.append((-(w * sub), i, name))
    contrib.sort()
    return "; ".join(_criterion_phrase(name, kind, criteria, evidence or []) for _, _, name in contrib[:n])


def what_it_is(kind: str | None, area_m2: float | None, details: dict | None) -> str:
    """'office building: 3 of 8 units possibly vacant (900 of 2950 m²)' or 'undeveloped plot: ...'."""
    d = details or {}
    if kind == "vacant_building":
        uses = [USE_WORDS.get(u, u) for u in d.get("gebruiksdoelen") or []]
        what = f"{'/'.join(uses) or 'non-residential'} building"
        if d.get("units_total"):
            what += f": {d.get('units_vacant', 0)} of {d['units_total']} units possibly vacant"
            if finite_or_none(d.get("vacant_area_m2")) is not None and finite_or_none(d.get("office_area_m2")):
                what += f" ({float(d['vacant_area_m2']):.0f} of {float(d['office_area_m2']):.0f} m²)"
        return what
    if kind == "undeveloped_plot":
        n = len(d.get("perceel_ids") or []) or 1
        parcel = finite_or_none(d.get("parcel_area_m2"))
        area = finite_or_none(area_m2)
        what = "undeveloped plot"
        if area is not None:
            what += f": {area:.0f} m² usable"
            if parcel:
                what += f" of {'a ' if n == 1 else f'{n} adjacent parcels, '}{parcel:.0f} m²{' parcel' if n == 1 else ''}"
        return what
    return (kind or "candidate").replace("_", " ")
