"""The demo town's inputs for the ranking: places owners offer (``offers.csv``), the demand
(``demand.csv``, named by ``inputs.demand``) and a municipal weight profile (merged into ``demo.yaml``),
with the planted truth in the manifest.

Offers (all fictitious; contacts end in '-Testpersoon' like the invented owner names):

- ``matched``: a detected vacant office, named by its address: it must be marked "offered by owner"
  and ranked first;
- ``building``: an office the signals call occupied, named by its pand id: it must become a candidate
  of its own;
- ``parcel``: a parcel too narrow for the plot rules, named by its kadastrale aanduiding: a candidate of
  its own as well, with the usable area the plot rules leave of it (scoring/offers.py);
- ``expired``: an offer that ended in 2020: it must change nothing.
"""
from __future__ import annotations

import csv
from pathlib import Path

OFFER_COLUMNS = ["verblijfsobject_id", "pand_id", "postcode", "huisnummer", "huisletter", "toevoeging",
                 "kadastrale_aanduiding", "offered_from", "offered_until", "conditions", "contact"]
DEMAND = {"status_holders": 40, "homeless": 60, "source": "fictitious demo figures"}
DEMAND_COLUMNS = ["municipality", "status_holders", "homeless", "period", "source"]
PROFILE_WEIGHTS = {"stop": 3.0, "owner": 2.0}   # Demodorp values bus stops and willing owners more


def _unit(building: dict) -> dict:
    return next(u for u in building["units"] if u.get("vacant")) if building.get("units") else {}


def write_ranking_inputs(outdir: Path, manifest: dict) -> dict:
    """Write ``offers.csv`` into ``outdir``; return the manifest additions (``offers`` truth, the file)."""
    vacant = [b for b in manifest["vacant_buildings"] if b["expected"] == "candidate"]
    matched = max(vacant, key=lambda b: b["pand_id"])              # a fixed choice: the last planted office
    unit = _unit(matched)
    occupied = sorted(manifest["occupied_offices"])[0]
    narrow = next(p for p in manifest["plots"] if p["case"] == "too_narrow")
    expired = next(p for p in manifest["plots"] if p["case"] == "too_small")
    rows = [
        {"postcode": unit.get("postcode"), "huisnummer": unit.get("huisnummer"), "huisletter": unit.get("huisletter"),
         "toevoeging": unit.get("toevoeging"), "offered_from": "2026-01-01", "offered_until": "2031-12-31",
         "conditions": "temporary use up to 5 years; tenant pays utilities", "contact": "A. Aanbieder-Testpersoon, 06-00000001"},
        {"pand_id": occupied, "conditions": "free from spring; whole building",
         "contact": "B. Bieder-Testpersoon, b.bieder@example.org"},
        {"kadastrale_aanduiding": narrow["kadastrale_aanduiding"], "offered_until": "2036-12-31",
         "conditions": "10 years, modular homes only", "contact": "C. Grond-Testpersoon, 06-00000003"},
        {"kadastrale_aanduiding": expired["kadastrale_aanduiding"], "offered_from": "2019-01-01",
         "offered_until": "2020-12-31", "contact": "D. Verlopen-Testpersoon"},
    ]
    with (outdir / "offers.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=OFFER_COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({c: ("" if r.get(c) is None else r[c]) for c in OFFER_COLUMNS})
    with (outdir / "demand.csv").open("w", encoding="utf-8", newline="") as fh:  # the demand, as a CSV input
        w = csv.DictWriter(fh, fieldnames=DEMAND_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerow({"municipality": "GM9999", "period": "", **DEMAND})
    truth = {"matched": f"pand:{matched['pand_id']}", "building": f"pand:{occupied}",
             "parcel": f"perceel:{narrow['kadastrale_aanduiding']}", "expired": f"perceel:{expired['kadastrale_aanduiding']}",
             "contacts": [r["contact"] for r in rows]}
    return {"offers": truth, "files": sorted({*manifest["files"], "offers.csv", "demand.csv"})}


def ranking_config(municipality: str) -> dict:
    """What demo.yaml adds for the ranking: a profile of the demo municipality (the demand comes from
    ``demand.csv``, named in ``plekzoeker/demo/config.py``'s inputs)."""
    return {"score": {"profiles": {municipality: {"weights": dict(PROFILE_WEIGHTS)}}}}
