"""The town plan: which cell holds which tile.

The core town is the fixed 3 x 3 grid of :data:`CORE_CELLS`; ``units=N`` adds residential cells
(copies of :data:`N_DENSE_VARIANTS` denser templates, other ``woonplaatsen``) west and south of it
until the town has about N verblijfsobjecten. Templates are built once per seed
(:func:`build_core`, :func:`build_variants`), so a million units cost no more tile building than
the demo.

Candidate density. A country is not only houses: ``units=N`` also places copies of the core's
office park and open-plot cells among the residential ones, enough for
:data:`DEFAULT_DENSITY` planted candidates per 1,000 units (1 vacant building and 2 plots, i.e.
10,000 and 20,000 at the country's 10M units; the Netherlands has ~10^5 office units and tens of
thousands of parcels that pass a plot filter). A copy is the same template as the core cell, so
it carries the same planted cases with their signals (:func:`plekzoeker.demo.truth.build_truth`
writes the CSV rows for every copy) and its planted outcome is known: 8 vacant buildings per office
copy, 4-5 usable plots per plot copy (the noise case depends on the road beside the copy, so the
truth re-evaluates the copies' plots). The copies are spread over the plan with a seeded shuffle.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from plekzoeker.demo.cells import cemetery_tile, centre_tile, industrial_tile, office_tile, plots_tile, residential_core
from plekzoeker.demo.constants import TOWN, WOONPLAATS_BASES, WOONPLAATS_PREFIXES
from plekzoeker.demo.tiles import Frozen, Tile, residential

log = logging.getLogger(__name__)


CORE_CELLS = [  # (c, r, builder key)
    (0, 0, "res:zuidwijk"), (1, 0, "res:molenwijk"), (2, 0, "cemetery"),
    (0, 1, "res:westwijk"), (1, 1, "centre"), (2, 1, "offices"),
    (0, 2, "res:noordwijk"), (1, 2, "industry"), (2, 2, "plots"),
]
N_DENSE_VARIANTS = 8
DEFAULT_DENSITY = (1.0, 2.0)  # planted vacant buildings, usable plots per 1,000 units (with ``units``)
COPYABLE = ("offices", "plots")  # core cells whose copies carry planted candidates


def build_core(seed: int) -> dict[str, Frozen]:
    def rng(k):
        return np.random.default_rng([seed, 1, k])
    tiles = {
        "res:zuidwijk": residential_core(rng(0), "zuidwijk", "village", school="Basisschool Het Kompas"),
        "res:molenwijk": residential_core(rng(1), "molenwijk", "village", newbuild=True),
        "cemetery": cemetery_tile(rng(2)),
        "res:westwijk": residential_core(rng(3), "westwijk", "suburb40", oneway=(1, 2)),
        "centre": centre_tile(rng(4)),
        "offices": office_tile(rng(5)),
        "res:noordwijk": residential_core(rng(6), "noordwijk", "village"),
        "industry": industrial_tile(rng(7)),
        "plots": plots_tile(rng(8)),
    }
    return {k: t.freeze() for k, t in tiles.items()}


def build_variants(seed: int) -> list[Frozen]:
    out = []
    for k in range(N_DENSE_VARIANTS):
        rng = np.random.default_rng([seed, 2, k])
        t = Tile("residential", f"variant{k}")
        residential(t, rng, "dense" if k % 3 != 2 else "suburb")
        out.append(t.freeze())
    return out


@dataclass


class Cell:
    c: int
    r: int
    key: str            # core key or "variant:<k>"
    serial: int         # order of the cell in the plan
    woonplaats: str
    group: int          # -1 for the core, else the woonplaats group of extra cells


def planted_per_copy(core: dict[str, Frozen]) -> dict[str, int]:
    """Planted candidates one copy of each copyable core cell carries by design."""
    return {"offices": sum(b["expected"] == "candidate" for b in core["offices"].tile.offices),
            "plots": sum(p["expected"] == "usable" for p in core["plots"].tile.plots)}


def copies_for(units: int, density: tuple[float, float], core: dict[str, Frozen]) -> dict[str, int]:
    """How many copies of the office and plot cells give ``density`` planted candidates per 1,000 units."""
    per = planted_per_copy(core)
    want = {"offices": units / 1000 * density[0], "plots": units / 1000 * density[1]}
    return {k: int(np.ceil(want[k] / per[k])) if want[k] > 0 else 0 for k in COPYABLE}


def plan_cells(seed: int, units: int | None, core: dict[str, Frozen], variants: list[Frozen],
               density: tuple[float, float] = DEFAULT_DENSITY) -> tuple[list[Cell], dict]:
    """The cells of the town: the core, then (with ``units``) residential cells and candidate copies."""
    cells = [Cell(c, r, key, i, TOWN, -1) for i, (c, r, key) in enumerate(CORE_CELLS)]
    core_units = sum(core[k].n_vbo for _, _, k in CORE_CELLS)
    info = {"core_units": core_units, "units_requested": units, "extra_cells": 0,
            "copies": {k: 0 for k in COPYABLE}, "density_per_1000_units": list(density)}
    if not units or units <= core_units:
        if units:
            log.warning("the core town alone has %d units (asked for %d); not scaling", core_units, units)
        return cells, info
    copies = copies_for(units, density, core)
    rng = np.random.default_rng([seed, 3])
    need = units - core_units - sum(core[k].n_vbo * n for k, n in copies.items())
    chosen: list[str] = []
    total = 0
    while True:
        k = int(rng.integers(0, len(variants)))
        n = variants[k].n_vbo
        if total + n / 2 > need:
            break
        chosen.append(f"variant:{k}")
        total += n
    if any(copies.values()):  # spread the copies over the plan (own stream: the residential draw is unchanged)
        keys = chosen + [k for k in COPYABLE for _ in range(copies[k])]
        chosen = [keys[i] for i in np.random.default_rng([seed, 9]).permutation(len(keys))]
    side = 3
    while side * side - 9 < len(chosen):
        side += 1
    slots = [(c, r) for r in range(2, 2 - side, -1) for c in range(2, 2 - side, -1) if not (c >= 0 and r >= 0)]
    for e, (key, (c, r)) in enumerate(zip(chosen, slots)):
        g = e // 25
        cells.append(Cell(c, r, key, len(cells), woonplaats_name(g), g))
    info["extra_cells"] = len(chosen)
    info["copies"] = copies
    return cells, info


def woonplaats_name(g: int) -> str:
    n = len(WOONPLAATS_BASES) * len(WOONPLAATS_PREFIXES)
    base = WOONPLAATS_BASES[g % len(WOONPLAATS_BASES)]
    pre = WOONPLAATS_PREFIXES[(g // len(WOONPLAATS_BASES)) % len(WOONPLAATS_PREFIXES)]
    name = pre + base
    return name if g < n else f"{name} {g // n + 1}"
