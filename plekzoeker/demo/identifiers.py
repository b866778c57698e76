"""A frozen tile at its place in the town, with identifiers, names and dates.

A :class:`Context` holds the counters (pand, verblijfsobject, perceel, postcode) and the street
name pools of one pass over the cells; every writer makes its own pass with a fresh context, and
as the cells are visited in the same order each pass sees identical values, so the BAG layers, the
BRK layer and the OSM file agree on every identifier without keeping the whole town in memory.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import shapely

from plekzoeker.demo.constants import (
    CORE_NAMES,
    DOC_HI,
    DOC_LO,
    DRAW,
    GM_CODE,
    KAD_GEMEENTE,
    ORIGIN_X,
    ORIGIN_Y,
    PC_PAIRS,
    REFERENCE_DATE,
    STREET_BASES,
    STREET_SUFFIXES,
    TILE,
    TOWN,
)
from plekzoeker.demo.plan import Cell
from plekzoeker.demo.tiles import Frozen


class Context:
    """Counters and name pools; one per pass over the cells (each pass sees identical values)."""

    def __init__(self, seed: int, core: dict[str, Frozen], variants: list[Frozen]):
        self.seed = seed
        self.core, self.variants = core, variants
        self.n_pand = self.n_vbo = self.n_parcel = self.n_pc = 0
        self.perceelnummer: dict[tuple[str, str], int] = {}
        self.pools: dict[str, list[str]] = {}

    def frozen(self, cell: Cell) -> Frozen:
        if cell.key.startswith("variant:"):
            return self.variants[int(cell.key.split(":")[1])]
        return self.core[cell.key]

    def names(self, woonplaats: str, n: int) -> list[str]:
        pool = self.pools.get(woonplaats)
        if pool is None:
            h = int(hashlib.sha256(woonplaats.encode()).hexdigest()[:8], 16)
            names = [b + s for b in STREET_BASES for s in STREET_SUFFIXES]
            names = [nm for nm in names if nm not in CORE_NAMES]
            order = np.random.default_rng([self.seed, 4, h]).permutation(len(names))
            pool = [names[i] for i in order]
            self.pools[woonplaats] = pool
        if len(pool) < n:
            raise RuntimeError(f"street name pool of {woonplaats} exhausted")
        out, pool[:] = pool[:n], pool[n:]
        return out

    def postcodes(self, n: int) -> np.ndarray:
        idx = self.n_pc + np.arange(n)
        self.n_pc += n
        digits = 9999 - idx // len(PC_PAIRS)
        if n and digits.min() < 1000:
            raise RuntimeError("ran out of postcodes")
        pairs = np.array(PC_PAIRS, dtype=object)[idx % len(PC_PAIRS)]
        return np.array([f"{d}{p}" for d, p in zip(digits.tolist(), pairs.tolist())], dtype=object)


def _ids(prefix: str, start: int, n: int, width: int) -> np.ndarray:
    nums = np.arange(start + 1, start + n + 1)
    return np.char.add(prefix, np.char.zfill(nums.astype(str), width)).astype(object)


SECTIES = "ABCDEF"


def cell_kadaster(cell: Cell) -> tuple[str, str, str]:
    """(kadastrale gemeente code, its name, sectie) of a cell."""
    if cell.group < 0:
        return KAD_GEMEENTE, TOWN, SECTIES[(cell.c + 3 * cell.r) % 6]
    g = cell.group + 1
    code = f"DM{'DEFGHJKLMNPRSTUVWXYZ'[(g // 100) % 20]}{g % 100:02d}"
    return code, cell.woonplaats, SECTIES[(cell.c * 7 + cell.r) % 6]


@dataclass


class Placed:
    """A cell's objects with identifiers and RD New coordinates (only the parts asked for)."""

    cell: Cell
    frozen: Frozen
    offset: tuple[int, int]
    slot_names: dict[str, str]
    pand_ids: np.ndarray
    vbo_ids: np.ndarray
    parcel_ids: np.ndarray
    kadaster: tuple[str, str, str]
    perceelnummers: np.ndarray
    addr_pc: np.ndarray
    pand: dict | None = None
    vbo: dict | None = None
    parcel: dict | None = None


def place(cell: Cell, ctx: Context, parts: set[str]) -> Placed:
    f = ctx.frozen(cell)
    ox, oy = ORIGIN_X + cell.c * TILE, ORIGIN_Y + cell.r * TILE
    # street names for the slots of this cell
    slots = sorted({s for _, _, s in f.tile.streets if s and s.startswith("@")} |
                   {s for s in f.slots if s.startswith("@")})
    names = ctx.names(cell.woonplaats, len(slots))
    slot_names = dict(zip(slots, names))
    pand_ids = _ids(GM_CODE + "10", ctx.n_pand, len(f.pand_geom), 10)
    vbo_ids = _ids(GM_CODE + "01", ctx.n_vbo, f.n_vbo, 10)
    parcel_ids = _ids(GM_CODE + "0", ctx.n_parcel, len(f.parcel_geom), 11)
    ctx.n_pand += len(pand_ids)
    ctx.n_vbo += len(vbo_ids)
    ctx.n_parcel += len(parcel_ids)
    kad = cell_kadaster(cell)
    first = ctx.perceelnummer.get(kad[::2], 1000)
    pnum = first + 1 + np.arange(len(parcel_ids))
    ctx.perceelnummer[kad[::2]] = first + len(parcel_ids)
    addr_pc = ctx.postcodes(f.n_pc)[f.addr_pc] if f.n_pc else np.array([], dtype=object)
    pl = Placed(cell, f, (ox, oy), slot_names, pand_ids, vbo_ids, parcel_ids, kad, pnum, addr_pc)
    off = np.array([ox, oy], dtype=float)
    year_shift = 0
    if cell.group >= 0:
        year_shift = int(np.random.default_rng([ctx.seed, 5, cell.serial]).integers(-8, 9))
    years = np.where(f.pand_year >= REFERENCE_DATE.year, f.pand_year,
                     np.minimum(f.pand_year + year_shift, REFERENCE_DATE.year - 1))
    if "pand" in parts or "vbo" in parts:
        rng = np.random.default_rng([ctx.seed, 6, cell.serial])
        pdate = np.where(f.pand_date == DRAW, rng.integers(DOC_LO, DOC_HI, len(f.pand_date)), f.pand_date)
    if "pand" in parts:
        geom = shapely.transform(f.pand_geom, lambda a: np.round(a + off, 3))
        pl.pand = {"identificatie": pand_ids, "bouwjaar": years, "status": f.pand_status, "gebruiksdoel": f.pand_doel,
                   "oppervlakte_min": f.pand_amin, "oppervlakte_max": f.pand_amax,
                   "aantal_verblijfsobjecten": f.pand_nvbo, "documentdatum": pdate, "geom": geom}
    if "vbo" in parts:
        rng = np.random.default_rng([ctx.seed, 7, cell.serial])
        vdate = np.where(f.vbo_date == DRAW, rng.integers(DOC_LO, DOC_HI, f.n_vbo), f.vbo_date)
        # a unit's documentdatum is never before its building's
        vdate = np.where(f.vbo_date == DRAW, np.maximum(vdate, pdate[f.vbo_pand]) if f.n_vbo else vdate, vdate)
        xy = np.round(f.vbo_xy + off, 3)
        slot_arr = np.array([slot_names.get(s, s) for s in f.slots], dtype=object)
        a = f.vbo_addr
        pl.vbo = {"identificatie": vbo_ids, "openbare_ruimte_naam": slot_arr[f.addr_slot[a]] if f.n_vbo else a,
                  "huisnummer": f.addr_hn[a], "huisletter": f.vbo_letter, "toevoeging": f.vbo_toev,
                  "postcode": addr_pc[a] if f.n_vbo else a, "woonplaats_naam": np.full(f.n_vbo, cell.woonplaats, dtype=object),
                  "bouwjaar": years[f.vbo_pand], "pand_identificatie": pand_ids[f.vbo_pand],
                  "pandstatus": f.pand_status[f.vbo_pand], "status": f.vbo_status, "gebruiksdoel": f.vbo_doel,
                  "oppervlakte": f.vbo_area, "documentdatum": vdate,
                  "geom": shapely.points(xy) if f.n_vbo else np.array([], dtype=object)}
    if "parcel" in parts:
        geom = shapely.transform(f.parcel_geom, lambda a: np.round(a + off, 3))
        n = len(geom)
        pl.parcel = {"identificatie": parcel_ids, "kadastraleGemeenteCode": np.full(n, kad[0], dtype=object),
                     "kadastraleGemeenteWaarde": np.full(n, kad[1], dtype=object),
                     "sectie": np.full(n, kad[2], dtype=object), "perceelnummer": pnum,
                     "kadastraleGrootteWaarde": np.round(shapely.area(geom)).astype(np.int64), "geometry": geom}
    return pl


def aanduiding(pl: Placed, i: int) -> str:
    return f"{pl.kadaster[0]} {pl.kadaster[2]} {int(pl.perceelnummers[i])}"
