"""The planted truth: what each planted case must come out as under the default rules, the
signal and owner CSVs that make it so, and the checks of the templates.

The expectations follow from the design of the cells (:mod:`plekzoeker.demo.cells`);
:func:`build_truth` re-derives them from the placed data with the default rules
(:data:`~plekzoeker.demo.constants.ASSUMPTIONS`) and fails when the two disagree, so the manifest
never promises an outcome the data does not produce.
"""
from __future__ import annotations

import csv
import datetime as dt
import itertools
from pathlib import Path

import numpy as np
import shapely

from plekzoeker.demo.constants import ASSUMPTIONS, BUILT_STATUSES, EPOCH, EXCLUDED_CLASSES, PLOT_OUTCOME, REFERENCE_DATE, VBO_IN_USE
from plekzoeker.demo.identifiers import Placed, aanduiding
from plekzoeker.demo.noise import noise_above
from plekzoeker.demo.tiles import Frozen


def confidence(pos: list[float], counter: list[float]) -> float:
    """Noisy-OR of the positive weights damped by the counter-evidence (as scoring/vacancy.py)."""
    if not pos:
        return 0.0
    p = 1.0 - float(np.prod([1.0 - w for w in pos]))
    for c in counter:
        p *= 1.0 - c
    return round(p, 4)


def unit_signals(u: dict, pand_status: str, vdate: dt.date) -> tuple[list[str], float]:
    """The evidence the default rules see for one planted office unit, and its confidence."""
    w, cw = ASSUMPTIONS["weights"], ASSUMPTIONS["counter_weights"]
    sig: list[str] = []
    pos: list[float] = []
    neg: list[float] = []

    def add(name: str, weight: float, counter: bool = False) -> None:
        sig.append(name)
        (neg if counter else pos).append(weight)

    status = u.get("status", VBO_IN_USE)
    if status == "Verblijfsobject buiten gebruik":
        add("bag_status_buiten_gebruik", w["bag_status_buiten_gebruik"])
    if pand_status == "Pand buiten gebruik":
        add("bag_pand_buiten_gebruik", w["bag_pand_buiten_gebruik"])
    if status == "Verbouwing verblijfsobject" and (REFERENCE_DATE - vdate).days > ASSUMPTIONS["long_renovation_days"]:
        add("bag_long_renovation", w["bag_long_renovation"])
    if u.get("reg"):
        add("vacancy_register", w["vacancy_register"])
    if u.get("est") == "active":
        add("active_establishment", cw["active_establishment"], counter=True)
    else:
        add("no_establishment", w["no_establishment"])
    if u.get("energy") == "low":
        add("low_energy", w["low_energy"])
    elif u.get("energy") == "normal":
        add("normal_energy", cw["normal_energy"], counter=True)
    return sig, confidence(pos, neg)


def check_templates(core: dict[str, Frozen], variants: list[Frozen]) -> None:
    """Every parcel of at least 1000 m2 with building coverage below 5 % must be a planted plot,
    parcels must not overlap, and every building must lie in a parcel."""
    for f in [*core.values(), *variants]:
        parcels = f.parcel_geom
        planted = {p["parcel"] for p in f.tile.plots}
        built = f.pand_geom[np.isin(f.pand_status, BUILT_STATUSES)]
        tree = shapely.STRtree(parcels)
        btree = shapely.STRtree(built)
        for i, pg in enumerate(parcels):
            a = pg.area
            if a < 1000 or i in planted:
                continue
            near = built[btree.query(pg, predicate="intersects")]
            cov = shapely.area(shapely.intersection(near, pg)).sum() / a if len(near) else 0.0
            if cov < 0.05:
                raise AssertionError(f"{f.label}: unplanned open parcel {i} ({a:.0f} m2, coverage {cov:.3f})")
        u = shapely.union_all(parcels)
        if abs(u.area - shapely.area(parcels).sum()) > 0.1:
            raise AssertionError(f"{f.label}: parcels overlap")
        for j, bg in enumerate(f.pand_geom):
            hits = tree.query(bg, predicate="covered_by")
            if not len(hits):
                raise AssertionError(f"{f.label}: building {j} is not inside a parcel")


def _key(pl: Placed, j: int) -> dict:
    v = pl.vbo
    return {"postcode": v["postcode"][j], "huisnummer": int(v["huisnummer"][j]),
            "huisletter": v["huisletter"][j] or "", "toevoeging": v["toevoeging"][j] or ""}


def _row(pl: Placed, j: int, by: str, **extra) -> dict:
    """A signal CSV row keyed by verblijfsobject id (``by="id"``) or by address."""
    base = {"verblijfsobject_id": "", "postcode": "", "huisnummer": "", "huisletter": "", "toevoeging": ""}
    if by == "id":
        base["verblijfsobject_id"] = pl.vbo["identificatie"][j]
    else:
        base.update(_key(pl, j))
    base.update(extra)
    return base


def office_cases(off: Placed, rng, kvk, source: str, sinks: tuple[list, list, list, list],
                 check: bool = True) -> list[tuple[str, str, dict]]:
    """The office buildings of one placed office cell: (outcome, pand id, truth row) each, with their
    signal and owner rows appended to ``sinks`` (vacancy, establishments, energy, owners).

    The outcome is re-derived from the placed data with the default rules; ``check`` asserts it is
    the designed one (the core cell); a copy's outcome is counted as derived.
    """
    rows_vac, rows_est, rows_en, rows_own = sinks
    out = []
    for k, b in enumerate(off.frozen.tile.offices):
        pand_id = off.pand_ids[b["pand"]]
        pstatus = off.pand["status"][b["pand"]]
        units_out, vac_area, n_vac, sig_all, confs = [], 0, 0, [], []
        for u, j in zip(b["units"], b["vbos"]):
            vdate = dt.date.fromordinal(int(off.vbo["documentdatum"][j]) + EPOCH)
            sig, conf = unit_signals(u, pstatus, vdate)
            vid = off.vbo["identificatie"][j]
            is_vac = conf >= ASSUMPTIONS["min_confidence"]
            if is_vac:
                vac_area += u["area"]
                n_vac += 1
                sig_all += [s for s in sig if s not in sig_all]
                confs.append((conf, u["area"]))
            units_out.append({"verblijfsobject_id": vid, "oppervlakte": u["area"], "gebruiksdoel": u["doel"],
                              "status": u.get("status", VBO_IN_USE), "signals": sig, "confidence_default": conf,
                              "vacant": bool(is_vac), **_key(off, j)})
            by = "addr" if u.get("reg") == "addr" else "id"
            if u.get("reg"):
                rows_vac.append(_row(off, j, by, vacant_since=u["since"].isoformat(), source=source))
            if u.get("est"):
                rows_est.append(_row(off, j, "addr" if (k + j) % 5 == 0 else "id", kvk_nummer=str(next(kvk)),
                                     active="true" if u["est"] == "active" else "false"))
            if u.get("energy"):
                kwh = float(rng.uniform(2, 12)) if u["energy"] == "low" else float(rng.uniform(85, 210))
                rows_en.append(_row(off, j, "addr" if (k + j) % 4 == 0 else "id", kwh_per_m2=f"{kwh:.1f}"))
        if n_vac == 0:
            exp = "occupied"
        else:
            exp = ("excluded:demolition" if pstatus == "Sloopvergunning verleend" else
                   "candidate" if vac_area >= ASSUMPTIONS["min_building_area_m2"] else "below_min_area")
        if check:  # the expectation follows from the design; check it against the default rules
            assert exp == b["expected"], (b["case"], exp, vac_area)
        detail: dict = {}
        if exp != "occupied" and check:
            total = sum(u["area"] for u in b["units"])
            conf = sum(c * a for c, a in confs) / sum(a for _, a in confs)
            detail = {
                "pand_id": pand_id, "case": b["case"], "expected": b["expected"],
                "vacant_office_area_m2": vac_area, "office_area_m2": total, "n_units": len(b["units"]),
                "n_units_vacant": n_vac, "signals": sig_all, "confidence_default": round(conf, 4),
                "pand_status": pstatus, "address": f"{units_out[0]['postcode']} {units_out[0]['huisnummer']}",
                "street": off.vbo["openbare_ruimte_naam"][b["vbos"][0]], "units": units_out, "note": b["note"],
                "perceel_kadastrale_aanduiding": aanduiding(off, b["parcel"]),
            }
        out.append((exp, pand_id, detail))
        rows_own.append({"kadastrale_aanduiding": aanduiding(off, b["parcel"]), "verblijfsobject_id": "",
                         "pand_id": "", "owner_name": b["owner"][1], "owner_kind": b["owner"][0]})
        if b["case"] == "occupied_mixed":  # an owner export may also be keyed by building
            rows_own.append({"kadastrale_aanduiding": "", "verblijfsobject_id": "", "pand_id": pand_id,
                             "owner_name": b["owner"][1], "owner_kind": b["owner"][0]})
    return out


def tile_exclusions(pl: Placed) -> tuple[list, dict[str, list]]:
    """The water and hard land-cover exclusion polygons of one placed cell (its own OSM areas)."""
    ox, oy = pl.offset
    polys = [(shapely.Polygon(np.asarray(ring) + (ox, oy)), tags) for ring, tags in pl.frozen.tile.areas]
    water = [g for g, tags in polys if tags.get("natural") == "water"]
    classes = {name.split(":", 1)[1]: [g for g, tags in polys if tags.get(k) == v]
               for name, (k, v) in EXCLUDED_CLASSES.items()}
    return water, classes


def plot_cases(pl: Placed, noise, origin, rows_own: list, check: bool = True) -> list[dict]:
    """The planted plots of one placed cell evaluated with the default rules against the cell's own
    buildings, OSM areas (:func:`tile_exclusions`: a cell's areas lie inside it, so no other cell's
    can cut its parcels) and the noise grid; owner rows appended. ``check`` asserts the designed
    outcome and reason (the core cells)."""
    water, classes = tile_exclusions(pl)
    built_mask = np.isin(pl.pand["status"], BUILT_STATUSES)
    panden = pl.pand["geom"][built_mask]
    plots = []
    for p in pl.frozen.tile.plots:
        i = p["parcel"]
        g = pl.parcel["geometry"][i]
        res = evaluate_plot(g, panden, water, classes, noise, origin)
        outcome = PLOT_OUTCOME[p["expected"]]
        kad = aanduiding(pl, i)
        rows_own.append({"kadastrale_aanduiding": kad, "verblijfsobject_id": "", "pand_id": "",
                         "owner_name": p["owner"][1], "owner_kind": p["owner"][0]})
        if not check:
            plots.append({**res, "kadastrale_aanduiding": kad})
            continue
        assert res["outcome"] == outcome, (p["case"], res)
        if p["expected"] in ("water", "noise") or p["expected"] in EXCLUDED_CLASSES:
            main = max(res["removed_m2"], key=res["removed_m2"].get)
            assert main == p["expected"].split(":")[-1], res
            k, v = EXCLUDED_CLASSES.get(p["expected"], ("natural", "water") if p["expected"] == "water" else (None, None))
            # what detection records as the reason (result.exclusion, "removed" in the evidence)
            res["expected_reason"] = f"osm:{k}={v}" if k else "raster:noise_lden>65"
        plots.append({"perceel_id": pl.parcel_ids[i], "kadastrale_aanduiding": kad, "case": p["case"],
                      "area_m2": round(float(g.area), 3), "kadastrale_grootte": int(pl.parcel["kadastraleGrootteWaarde"][i]),
                      "expected": p["expected"], "expected_outcome": outcome, **res,
                      "owner_kind": p["owner"][0], "note": p["note"]})
    return plots


def build_truth(outdir: Path, seed: int, core: dict[str, Placed], noise, origin,
                copies: list[Placed] | None = None) -> dict:
    """Planted cases with their identifiers, checks of the planted geometry, and the signal CSVs.

    ``copies``: placed copies of the office and plot cells (a scaled town); their CSV rows are
    written after the core's (so the core's rows, and the demo, do not change) and their planted
    outcomes are counted in ``planted``, not listed case by case.
    """
    vacant, occupied = [], []
    rows_vac, rows_est, rows_en, rows_own = [], [], [], []
    rng = np.random.default_rng([seed, 8])
    kvk = iter(int(v) for v in rng.permutation(np.arange(90000000, 90000000 + 5000)))

    source = "Leegstandsregister gemeente Demodorp (test)"
    sinks = (rows_vac, rows_est, rows_en, rows_own)
    for exp, pand_id, detail in office_cases(core["offices"], rng, kvk, source, sinks):
        if exp == "occupied":
            occupied.append(pand_id)
        else:
            vacant.append(detail)
    # shops, services, industry: active establishments at most of them; one vacant shop in the register
    shops_out = []
    for ck in ("centre", "industry", "res:zuidwijk"):
        pl = core[ck]
        for n, j in enumerate(pl.frozen.tile.shops):
            vid = pl.vbo["identificatie"][j]
            if ck == "centre" and n == 3:
                rows_vac.append(_row(pl, j, "addr", vacant_since="2024-04-01", source=source))
                shops_out.append({"verblijfsobject_id": vid, "case": "vacant_shop_in_register",
                                  "gebruiksdoel": pl.vbo["gebruiksdoel"][j],
                                  "note": "winkelfunctie only: not a candidate with the default gebruiksdoelen"})
                continue
            if ck == "centre" and n in (7, 11):
                shops_out.append({"verblijfsobject_id": vid, "case": "shop_without_establishment",
                                  "gebruiksdoel": pl.vbo["gebruiksdoel"][j], "note": "no KvK row"})
                continue
            rows_est.append(_row(pl, j, "addr" if n % 4 == 1 else "id", kvk_nummer=str(next(kvk)), active="true"))
    # plots
    plots = []
    for ck in ("plots", "cemetery"):
        plots += plot_cases(core[ck], noise, origin, rows_own, check=True)
    # the office and plot copies of a scaled town (plekzoeker/demo/plan.py): their signal and owner
    # rows, and their planted outcome counted (re-derived from the placed data, not assumed)
    planted = {"vacant_buildings": sum(v["expected"] == "candidate" for v in vacant),
               "plots": sum(p["expected_outcome"] == "usable" for p in plots), "office_copies": 0, "plot_copies": 0}
    kvk_copies = itertools.count(91_000_000)
    copy_keys: dict[str, list[str]] = {"vacant_buildings": [], "plots": []}  # candidate keys, as detection writes them
    for pl in copies or ():
        if pl.cell.key == "offices":
            planted["office_copies"] += 1
            copy_keys["vacant_buildings"] += [f"pand:{pid}" for exp, pid, _ in
                                              office_cases(pl, rng, kvk_copies, source, sinks, check=False)
                                              if exp == "candidate"]
        else:
            planted["plot_copies"] += 1
            copy_keys["plots"] += [f"perceel:{p['kadastrale_aanduiding']}" for p in
                                   plot_cases(pl, noise, origin, rows_own, check=False) if p["outcome"] == "usable"]
    planted["vacant_buildings"] += len(copy_keys["vacant_buildings"])
    planted["plots"] += len(copy_keys["plots"])
    _write_csv(outdir / "vacancy.csv", ["verblijfsobject_id", "postcode", "huisnummer", "huisletter", "toevoeging",
                                        "vacant_since", "source"], rows_vac)
    _write_csv(outdir / "establishments.csv", ["verblijfsobject_id", "postcode", "huisnummer", "huisletter",
                                               "toevoeging", "kvk_nummer", "active"], rows_est)
    _write_csv(outdir / "energy.csv", ["verblijfsobject_id", "postcode", "huisnummer", "huisletter", "toevoeging",
                                       "kwh_per_m2"], rows_en)
    _write_csv(outdir / "owners.csv", ["kadastrale_aanduiding", "verblijfsobject_id", "pand_id", "owner_name",
                                       "owner_kind"], rows_own)
    return {
        "vacant_buildings": vacant, "occupied_offices": occupied, "plots": plots, "other_units": shops_out,
        "natural_person_names": sorted({r["owner_name"] for r in rows_own if r["owner_kind"] == "natural_person"}),
        "planted": planted, "planted_copy_keys": copy_keys,
        "csv_rows": {"vacancy": len(rows_vac), "establishments": len(rows_est), "energy": len(rows_en),
                     "owners": len(rows_own)},
    }


def evaluate_plot(g, panden, water, classes: dict[str, list], noise, origin) -> dict:
    """Apply the default plot rules with mitre-joined opening (see ASSUMPTIONS); ``classes``: name ->
    polygons of the hard land-cover exclusions (cemetery, park, wood, sports)."""
    area = g.area
    cov = float(shapely.area(shapely.intersection(panden, g)).sum()) / area if len(panden) else 0.0
    out = {"building_coverage": round(cov, 4)}
    if area < ASSUMPTIONS["min_area_m2"]:
        return {**out, "outcome": "too_small", "usable_area_m2": 0.0, "removed_m2": {}}
    if cov >= ASSUMPTIONS["max_building_coverage"]:
        return {**out, "outcome": "built", "usable_area_m2": 0.0, "removed_m2": {}}
    removed = {}
    usable = g
    for name, geoms in (("buildings", list(panden)), ("water", water), *classes.items(),
                        ("noise", [noise_above(noise, origin, g, ASSUMPTIONS["noise_exclude_above_db"])])):
        cut = shapely.union_all([x for x in geoms if not x.is_empty]) if geoms else shapely.Polygon()
        a = shapely.intersection(usable, cut).area
        if a > 0.5:
            removed[name] = round(a, 1)
        usable = shapely.difference(usable, cut)
    r = ASSUMPTIONS["min_width_m"] / 2
    inner = shapely.buffer(usable, -r, join_style="mitre")
    opened = shapely.intersection(shapely.buffer(inner, r, join_style="mitre"), usable)
    before, after = usable.area, opened.area
    if after >= ASSUMPTIONS["min_area_m2"] - 1e-6:
        outcome = "usable"
    elif before >= ASSUMPTIONS["min_area_m2"] - 1e-6:
        outcome = "too_narrow"
    else:
        outcome = "too_small_after_exclusions"
    return {**out, "outcome": outcome, "usable_area_m2": round(after, 1), "area_after_exclusions_m2": round(before, 1),
            "removed_m2": removed}


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in columns})
