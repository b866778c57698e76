"""Generate *Demodorp*: a fictitious small Dutch town (municipality code 9999, GM9999) in the real
delivery formats, with a ``manifest.json`` of the planted truth for tests.

``generate_town(outdir, seed=7, units=None)`` writes into ``outdir``:

* ``bag.gpkg`` — layers ``pand`` and ``verblijfsobject`` with PDOK ``bag-light`` column names
  (plus ``documentdatum``), EPSG:28992;
* ``brk_percelen.gpkg`` — layer ``perceel`` (kadastrale kaart attributes), EPSG:28992;
* ``town.osm.pbf`` — streets, POIs, land use and, as the BAG import does, a building way per pand
  and an address node per verblijfsobject (:mod:`~plekzoeker.demo.osm_buildings`), WGS84 as OSM is;
* ``vacancy.csv``, ``establishments.csv``, ``energy.csv``, ``owners.csv`` — the optional
  signal/owner CSVs of docs/CONTRACTS.md;
* ``noise_lden.tif`` — Lden in dB, float32, 10 m cells, EPSG:28992, nodata -9999;
* ``manifest.json`` — the planted cases (vacant buildings, plots) with their expected outcome.

Everything is deterministic: the same seed gives the same feature data in the same order, the
same PBF bytes and the same manifest. No data is downloaded.

Layout
------
The town is a grid of 400 m × 400 m cells ("tiles") whose boundaries are the through roads
(a lattice of streets); each tile holds its own internal streets, buildings, units and parcels.
Local coordinates of a tile run from 0 to 400; cell (c, r) has its south-west corner at
``ORIGIN + (400 c, 400 r)`` in RD New. The default town is 3 × 3 cells around
x 150900–152100, y 440900–442100 (a rural area in reality; the town is fictitious)::

    r=2   residential (Noordwijk) | industry + station (north) | open plots (Oostveld, planted)
    r=1   residential (Westwijk)  | centre (shops, services)   | office park (planted)
    r=0   residential (Zuidwijk)  | residential + school       | cemetery, park, houses

The Provincialeweg (secondary road, the noisiest) runs east-west at y = 441700 (between r=1 and
r=2); the Stationsweg (tertiary) runs north-south at x = 151300 to the station beside the
railway north of the town. Addresses are only on internal streets, so house numbers are unique
per street; every address group of at most 12 house numbers on one side of a street has its own
postcode (``9999AA`` …).

``units=N`` adds residential tiles (denser neighbourhoods, other ``woonplaatsen``) west and
south of the core until the town has about N verblijfsobjecten. The layers are streamed to the
GeoPackages in chunks (``pyogrio.write_arrow`` with a record-batch reader), so memory stays
bounded; a million units take a few minutes at most.

Modules
-------
This module only runs the passes and writes the manifest. The town is built by
:mod:`~plekzoeker.demo.tiles` (the tile builder, residential rows), :mod:`~plekzoeker.demo.cells`
(the special cells with the planted cases) and :mod:`~plekzoeker.demo.plan` (which cell holds
what); :mod:`~plekzoeker.demo.identifiers` places a tile with its identifiers, names and dates;
the writers are :mod:`~plekzoeker.demo.gpkg` (BAG, BRK), :mod:`~plekzoeker.demo.osm`,
:mod:`~plekzoeker.demo.noise`, :mod:`~plekzoeker.demo.gtfs`, :mod:`~plekzoeker.demo.facts` and
:mod:`~plekzoeker.demo.ranking`; :mod:`~plekzoeker.demo.truth` derives the planted truth and the
signal CSVs; the fixed codes, dates and names are in :mod:`~plekzoeker.demo.constants`.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pyogrio
import shapely

from plekzoeker.demo.constants import ASSUMPTIONS, CRS, MUNICIPALITY, NOISE_MARGIN, REFERENCE_DATE, TOWN
from plekzoeker.demo.facts import write_demo_facts
from plekzoeker.demo.gpkg import layer_batches, write_layer
from plekzoeker.demo.gtfs import write_demo_gtfs
from plekzoeker.demo.identifiers import Context, Placed
from plekzoeker.demo.noise import noise_grid, write_noise
from plekzoeker.demo.osm import OsmCollector, write_osm
from plekzoeker.demo.plan import COPYABLE, DEFAULT_DENSITY, build_core, build_variants, plan_cells
from plekzoeker.demo.ranking import write_ranking_inputs
from plekzoeker.demo.truth import build_truth, check_templates

log = logging.getLogger(__name__)


def generate_town(outdir: Path, seed: int = 7, units: int | None = None,
                  density: tuple[float, float] = DEFAULT_DENSITY) -> dict:
    """Write the demo town into ``outdir`` (created if needed) and return the manifest (also written).

    ``density``: planted vacant buildings and usable plots per 1,000 units when ``units`` scales the
    town (copies of the office and plot cells, :mod:`plekzoeker.demo.plan`); ``(0, 0)`` for none.
    """
    t_start = time.perf_counter()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    core = build_core(seed)
    variants = build_variants(seed) if units else []
    cells, scale = plan_cells(seed, units, core, variants, density)
    check_templates(core, variants)
    ctx0 = Context(seed, core, variants)
    log.info("demo town: %d cells (%d extra: %s copies), about %d units", len(cells), scale["extra_cells"],
             scale["copies"], sum(ctx0.frozen(c).n_vbo for c in cells))

    def ctx_factory():
        return Context(seed, core, variants)

    chunk = 100_000
    osm = OsmCollector()
    # the cells whose placed objects the truth needs (the core, the office/plot copies), by cell serial
    kept: dict[int, Placed] = {}

    def keeps(pl: Placed) -> bool:
        return pl.cell.group < 0 or pl.cell.key in COPYABLE
    counts = {"panden": 0, "verblijfsobjecten": 0, "percelen": 0}
    bounds = [np.inf, np.inf, -np.inf, -np.inf]

    def grow(geoms):
        if len(geoms):
            b = shapely.total_bounds(geoms)
            bounds[0], bounds[1] = min(bounds[0], b[0]), min(bounds[1], b[1])
            bounds[2], bounds[3] = max(bounds[2], b[2]), max(bounds[3], b[3])

    def on_pand(pl: Placed):
        osm.add_cell(pl)
        counts["panden"] += len(pl.pand_ids)
        grow(pl.pand["geom"])
        if keeps(pl):
            kept[pl.cell.serial] = pl

    def on_vbo(pl: Placed):
        counts["verblijfsobjecten"] += len(pl.vbo_ids)
        osm.add_units(pl)
        if keeps(pl):
            kept[pl.cell.serial].vbo = pl.vbo

    def on_parcel(pl: Placed):
        counts["percelen"] += len(pl.parcel_ids)
        grow(pl.parcel["geometry"])
        if keeps(pl):
            kept[pl.cell.serial].parcel = pl.parcel

    bag, brk = outdir / "bag.gpkg", outdir / "brk_percelen.gpkg"
    for p in (bag, brk):
        if p.exists():
            p.unlink()
    prev = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": REFERENCE_DATE.isoformat() + "T00:00:00Z"})
    try:
        write_layer(bag, "pand", layer_batches("pand", cells, ctx_factory, chunk, on_pand), "Polygon")
        write_layer(bag, "verblijfsobject", layer_batches("verblijfsobject", cells, ctx_factory, chunk, on_vbo), "Point")
        write_layer(brk, "perceel", layer_batches("perceel", cells, ctx_factory, chunk, on_parcel), "Polygon")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": prev})
    t_gpkg = time.perf_counter()

    osm.finish()
    osm_info = write_osm(outdir / "town.osm.pbf", osm)
    osm_info["gtfs"] = write_demo_gtfs(outdir / "gtfs.zip", osm.pois)  # bus and train timetables (demo/gtfs.py)
    for cm, _ in osm.streets:
        grow(shapely.points(cm / 100.0))
    grow(shapely.points(osm.railway[0] / 100.0))
    bbox = tuple(float(v) for v in bounds)
    noise, origin = noise_grid((bbox[0] - NOISE_MARGIN, bbox[1] - NOISE_MARGIN, bbox[2] + NOISE_MARGIN,
                                bbox[3] + NOISE_MARGIN), osm.noise_sources())
    write_noise(outdir / "noise_lden.tif", noise, origin)
    t_osm = time.perf_counter()

    core_placed = {pl.cell.key: pl for pl in kept.values() if pl.cell.group < 0}
    copies = [pl for pl in kept.values() if pl.cell.group >= 0]
    manifest = build_truth(outdir, seed, core_placed, noise, origin, copies=copies)
    manifest.update({
        "municipality": MUNICIPALITY, "woonplaats": TOWN, "seed": seed, "units_requested": units,
        "reference_date": REFERENCE_DATE.isoformat(), "crs": CRS,
        "bbox_rd": [round(v, 3) for v in bbox],
        "counts": {**counts, "streets": osm_info["highway_ways"], "street_names": osm_info["street_names"],
                   "osm_nodes": osm_info["nodes"], "osm_ways": osm_info["ways"],
                   **{f"osm_{k}": osm_info[k] for k in ("building_ways", "building_nodes", "address_nodes", "building_levels")},
                   "cells": len(cells), "extra_cells": scale["extra_cells"], "noise_cells": int(noise.size),
                   "office_copies": scale["copies"]["offices"], "plot_copies": scale["copies"]["plots"]},
        "pois": poi_counts(osm),
        "osm_check_nodes": osm_info["check_nodes"],
        "assumptions": ASSUMPTIONS,
        "files": sorted(["bag.gpkg", "brk_percelen.gpkg", "town.osm.pbf", "vacancy.csv", "establishments.csv",
                         "energy.csv", "owners.csv", "noise_lden.tif", "manifest.json", "gtfs.zip"]),
        "note": "Demodorp is fictitious (municipality code 9999 is the code Kadaster uses for test data); "
                "it is placed in RD New in an area that is rural in reality. Names of natural persons are "
                "invented and end in '-Testpersoon'.",
    })
    manifest.update(write_ranking_inputs(outdir, manifest))  # offers.csv for the ranking (plekzoeker/demo/ranking.py)
    manifest = json.loads(json.dumps(manifest, default=_json_default))  # plain JSON types, as a reader sees them
    manifest["facts"] = write_demo_facts(outdir, manifest)  # zoning, labels, monuments, 3DBAG, Natura 2000
    (outdir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log.info("demo town written to %s in %.1f s (GeoPackages %.1f s, OSM + noise %.1f s)", outdir,
             time.perf_counter() - t_start, t_gpkg - t_start, t_osm - t_gpkg)
    return manifest


def _json_default(v):
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(f"not JSON serialisable: {type(v)}")


def poi_counts(osm: OsmCollector) -> dict[str, int]:
    from plekzoeker.sources.osm_read import DEFAULT_CATEGORIES

    objs = [tags for _, _, tags in osm.pois] + [tags for _, tags in osm.areas]
    out = {}
    for cat, rules in DEFAULT_CATEGORIES.items():
        n = 0
        for tags in objs:
            def hit(r, tags=tags):
                k, v = r.lstrip("!").split("=", 1)
                return v in (tags.get(k) or "").split(";")
            if any(hit(r) for r in rules if r[0] != "!") and not any(hit(r) for r in rules if r[0] == "!"):
                n += 1
        out[cat] = n
    return out


def parse_density(text: str) -> tuple[float, float]:
    """``"1,2"`` → (1.0, 2.0): planted vacant buildings and usable plots per 1,000 units."""
    parts = [x.strip() for x in text.split(",")]
    try:
        vals = tuple(float(x) for x in parts)
    except ValueError:
        vals = ()
    if len(vals) != 2 or min(vals) < 0 or max(vals) > 100:
        raise ValueError(f"{text!r} is not two numbers 0..100 (vacant buildings, plots per 1,000 units), e.g. 1,2")
    return vals[0], vals[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m plekzoeker.demo.generate",
        description="Generate the fictitious demo town Demodorp (GM9999) in the real delivery formats "
                    "(BAG/BRK GeoPackages, OSM PBF, signal CSVs, noise GeoTIFF) plus manifest.json.")
    ap.add_argument("outdir", type=Path, help="directory to write the files into (created if needed)")
    ap.add_argument("--seed", type=int, default=7, help="random seed; the same seed gives the same data (default 7)")
    ap.add_argument("--units", type=int, default=None,
                    help="scale to about this many verblijfsobjecten by adding neighbourhoods (benchmarks)")
    ap.add_argument("--density", type=parse_density, default=DEFAULT_DENSITY,
                    help="with --units: planted vacant buildings and usable plots per 1,000 units (default 1,2)")
    ap.add_argument("--quiet", action="store_true", help="no progress messages")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    t0 = time.perf_counter()
    m = generate_town(args.outdir, seed=args.seed, units=args.units, density=args.density)
    print(f"Demodorp written to {args.outdir} in {time.perf_counter() - t0:.1f} s: {json.dumps(m['counts'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
