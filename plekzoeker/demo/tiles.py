"""Building one 400 m x 400 m tile in local coordinates (0..400): the :class:`Tile` builder, its
frozen (numpy) form :class:`Frozen`, and the residential rows every neighbourhood is made of.

A tile is built once per template and frozen; placing it in the town (identifiers, names, dates)
is :mod:`plekzoeker.demo.identifiers`. A row of houses or apartments fills one side of a street
between two x positions; its parcels tile the row exactly, so parcels never overlap and every
building lies inside its parcel (checked by :func:`plekzoeker.demo.truth.check_templates`).
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import shapely

from plekzoeker.demo.constants import DRAW, GEBRUIKSDOELEN, IN_USE, LETTERS, REFERENCE_DATE, TILE, VBO_IN_USE, epoch_days


class Tile:
    """Content of one 400 m cell in local coordinates, built with plain Python lists."""

    def __init__(self, kind: str, label: str):
        self.kind, self.label = kind, label
        self.pand_geom: list = []
        self.pand_status: list[str] = []
        self.pand_year: list[int] = []
        self.pand_date: list[int] = []
        self.addr_street: list[str] = []
        self.addr_side: list[int] = []
        self.addr_order: list[float] = []
        self.vbo_pand: list[int] = []
        self.vbo_xy: list[tuple[float, float]] = []
        self.vbo_addr: list[int] = []
        self.vbo_letter: list = []
        self.vbo_toev: list = []
        self.vbo_doel: list[str] = []
        self.vbo_area: list[int] = []
        self.vbo_status: list[str] = []
        self.vbo_date: list[int] = []
        self.parcel_geom: list = []
        self.streets: list[tuple[list[tuple[float, float]], dict, str | None]] = []
        self.pois: list[tuple[float, float, dict]] = []
        self.areas: list[tuple[list[tuple[float, float]], dict]] = []
        self.offices: list[dict] = []     # planted office buildings
        self.plots: list[dict] = []       # planted plots
        self.shops: list[int] = []        # vbo indices of shops / services (for establishments)
        self.marks: dict[str, object] = {}
        self.owner_parcels: list[tuple[int, str, str]] = []  # (parcel idx, owner kind, owner name)

    # -- objects ------------------------------------------------------------------------------
    def parcel(self, geom) -> int:
        self.parcel_geom.append(geom)
        return len(self.parcel_geom) - 1

    def pand(self, geom, year: int, status: str = IN_USE, date: dt.date | None = None) -> int:
        self.pand_geom.append(geom)
        self.pand_year.append(int(year))
        self.pand_status.append(status)
        self.pand_date.append(DRAW if date is None else epoch_days(date))
        return len(self.pand_geom) - 1

    def address(self, street: str, side: int, order: float) -> int:
        self.addr_street.append(street)
        self.addr_side.append(int(side))
        self.addr_order.append(float(order))
        return len(self.addr_street) - 1

    def vbo(self, pand: int, x: float, y: float, addr: int, doel: str, area: float, status: str = VBO_IN_USE,
            letter: str | None = None, toev: str | None = None, date: dt.date | None = None) -> int:
        self.vbo_pand.append(pand)
        self.vbo_xy.append((float(x), float(y)))
        self.vbo_addr.append(addr)
        self.vbo_letter.append(letter)
        self.vbo_toev.append(toev)
        self.vbo_doel.append(doel)
        self.vbo_area.append(int(round(area)))
        self.vbo_status.append(status)
        self.vbo_date.append(DRAW if date is None else epoch_days(date))
        return len(self.vbo_pand) - 1

    def street(self, coords: list[tuple[float, float]], tags: dict, name: str | None) -> None:
        """``name``: a fixed street name, a slot ``"@x"`` named per tile at instantiation, or None."""
        self.streets.append(([(float(x), float(y)) for x, y in coords], dict(tags), name))

    def poi(self, x: float, y: float, tags: dict) -> None:
        self.pois.append((float(x), float(y), dict(tags)))

    def area(self, ring: list[tuple[float, float]], tags: dict) -> None:
        self.areas.append(([(float(x), float(y)) for x, y in ring], dict(tags)))

    def freeze(self) -> Frozen:
        return Frozen.build(self)


def box(x0, y0, x1, y1):
    return shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def points_inside(poly, n: int) -> list[tuple[float, float]]:
    """n distinct deterministic points inside ``poly`` (grid cell centres, then fallbacks)."""
    x0, y0, x1, y1 = poly.bounds
    k = max(2, math.ceil(math.sqrt(n)) + 1)
    while True:
        xs = x0 + (np.arange(k) + 0.5) * (x1 - x0) / k
        ys = y0 + (np.arange(k) + 0.5) * (y1 - y0) / k
        gx, gy = np.meshgrid(xs, ys)
        pts = shapely.points(gx.ravel(), gy.ravel())
        inside = shapely.contains_properly(poly, pts)
        cand = list(zip(gx.ravel()[inside], gy.ravel()[inside]))
        if len(cand) >= n:
            step = len(cand) / n
            return [(round(float(cand[int(i * step)][0]), 2), round(float(cand[int(i * step)][1]), 2)) for i in range(n)]
        k += 2


@dataclass


class Frozen:
    """A tile as numpy arrays with everything that does not depend on where it is placed."""

    kind: str
    label: str
    tile: Tile
    pand_geom: np.ndarray
    pand_status: np.ndarray
    pand_year: np.ndarray
    pand_date: np.ndarray
    pand_doel: np.ndarray
    pand_amin: np.ndarray
    pand_amax: np.ndarray
    pand_nvbo: np.ndarray
    vbo_pand: np.ndarray
    vbo_xy: np.ndarray
    vbo_addr: np.ndarray
    vbo_letter: np.ndarray
    vbo_toev: np.ndarray
    vbo_doel: np.ndarray
    vbo_area: np.ndarray
    vbo_status: np.ndarray
    vbo_date: np.ndarray
    addr_slot: np.ndarray       # street slot code per address group
    addr_hn: np.ndarray         # house number per address group
    addr_pc: np.ndarray         # local postcode group per address group
    n_pc: int
    slots: list[str]            # street keys in code order
    parcel_geom: np.ndarray

    @classmethod
    def build(cls, t: Tile) -> Frozen:
        npand, nvbo = len(t.pand_geom), len(t.vbo_pand)
        vbo_pand = np.asarray(t.vbo_pand, dtype=np.int64)
        area = np.asarray(t.vbo_area, dtype=np.int64)
        nvbo_per = np.bincount(vbo_pand, minlength=npand) if nvbo else np.zeros(npand, dtype=np.int64)
        amin = np.full(npand, -1, dtype=np.int64)
        amax = np.full(npand, -1, dtype=np.int64)
        doelen: list[set[str]] = [set() for _ in range(npand)]
        for p, a, d in zip(t.vbo_pand, t.vbo_area, t.vbo_doel):
            amin[p] = a if amin[p] < 0 else min(amin[p], a)
            amax[p] = max(amax[p], a)
            doelen[p].update(d.split(","))
        pand_doel = np.array([",".join(g for g in GEBRUIKSDOELEN if g in ds) if ds else None for ds in doelen],
                             dtype=object)
        # house numbers: per (street, side), address groups in order; odd on side 0, even on side 1
        slots = sorted(set(t.addr_street))
        code = {s: i for i, s in enumerate(slots)}
        a_slot = np.array([code[s] for s in t.addr_street], dtype=np.int64)
        a_side = np.asarray(t.addr_side, dtype=np.int64)
        a_order = np.asarray(t.addr_order, dtype=float)
        n_addr = len(a_slot)
        hn = np.zeros(n_addr, dtype=np.int64)
        pc = np.zeros(n_addr, dtype=np.int64)
        n_pc = 0
        if n_addr:
            order = np.lexsort((a_order, a_side, a_slot))
            key = a_slot[order] * 2 + a_side[order]
            start = np.r_[0, np.flatnonzero(np.diff(key)) + 1]
            grp = np.repeat(np.arange(len(start)), np.diff(np.r_[start, n_addr]))
            rank = np.arange(n_addr) - start[grp]
            hn[order] = 2 * rank + 1 + a_side[order]
            pkey = grp * 100000 + rank // 12
            _, pcode = np.unique(pkey, return_inverse=True)
            pc[order] = pcode
            n_pc = int(pcode.max()) + 1
        return cls(
            kind=t.kind, label=t.label, tile=t,
            pand_geom=np.array(t.pand_geom, dtype=object), pand_status=np.array(t.pand_status, dtype=object),
            pand_year=np.asarray(t.pand_year, dtype=np.int64), pand_date=np.asarray(t.pand_date, dtype=np.int64),
            pand_doel=pand_doel, pand_amin=amin, pand_amax=amax, pand_nvbo=nvbo_per,
            vbo_pand=vbo_pand, vbo_xy=np.asarray(t.vbo_xy, dtype=float).reshape(-1, 2),
            vbo_addr=np.asarray(t.vbo_addr, dtype=np.int64), vbo_letter=np.array(t.vbo_letter, dtype=object),
            vbo_toev=np.array(t.vbo_toev, dtype=object), vbo_doel=np.array(t.vbo_doel, dtype=object),
            vbo_area=area, vbo_status=np.array(t.vbo_status, dtype=object),
            vbo_date=np.asarray(t.vbo_date, dtype=np.int64),
            addr_slot=a_slot, addr_hn=hn, addr_pc=pc, n_pc=n_pc, slots=slots,
            parcel_geom=np.array(t.parcel_geom, dtype=object),
        )

    @property
    def n_vbo(self) -> int:
        return len(self.vbo_pand)


PROFILES = {
    # H: half the distance between two woonstraten (front edge to the back of a row is H - 6 m)
    "village": {"H": 50.0, "kinds": (("detached", .55), ("semi", .20), ("terraced", .05), ("green", .20)),
                "years": (1928, 2012)},
    "suburb40": {"H": 40.0, "kinds": (("terraced", .20), ("semi", .15), ("apartments", .30), ("green", .35)),
                 "years": (1958, 2010), "floors": (2, 4)},
    "village40": {"H": 40.0, "kinds": (("detached", .50), ("semi", .30), ("terraced", .20)), "years": (1948, 2005)},
    "suburb": {"H": 30.0, "kinds": (("terraced", .40), ("semi", .15), ("apartments", .25), ("green", .20)),
               "years": (1955, 2016)},
    "dense": {"H": 30.0, "kinds": (("apartments", .60), ("terraced", .30), ("green", .10)), "years": (1952, 2020)},
}


def _choose(rng, kinds) -> str:
    names = [k for k, _ in kinds]
    p = np.array([w for _, w in kinds], dtype=float)
    return str(names[int(rng.choice(len(names), p=p / p.sum()))])


def _house_polygon(hx0, hx1, edge_y, direction, front, hdepth, ext):
    """A house footprint in a row: main block, optionally a rear extension (L/T shape)."""
    v = lambda d: edge_y + direction * d  # noqa: E731 - distance from the street edge to y
    yf, yb = v(front), v(front + hdepth)
    if not ext:
        return box(hx0, yf, hx1, yb)
    ye = v(front + hdepth + ext)
    ring = [(hx0, yf), (hx1, yf), (hx1, yb), (hx1 - 0.6, yb), (hx1 - 0.6, ye), (hx0 + 0.6, ye), (hx0 + 0.6, yb), (hx0, yb)]
    return shapely.Polygon(ring)


def fill_row(t: Tile, rng, kind: str, x0: float, x1: float, edge_y: float, direction: int, depth: float,
             street: str, side: int, year: int, floors: tuple[int, int] = (3, 5)) -> None:
    """Fill one side of a street segment [x0, x1] with parcels (depth ``depth`` away from the street)."""
    if kind == "green" or x1 - x0 < 12:
        return
    front = round(float(rng.uniform(2.0, 5.0)), 2)
    hdepth = round(float(rng.uniform(8.5, 11.0)), 2)
    py0, py1 = sorted((edge_y, edge_y + direction * depth))
    if kind == "apartments":
        _apartment_row(t, rng, x0, x1, edge_y, direction, depth, street, side, year, floors)
        return
    lots: list[tuple[float, float, float, float]] = []  # parcel x0, x1, house x0, x1
    if kind == "terraced":
        blocks = []
        pos = x0 + round(float(rng.uniform(0.0, 3.0)), 2)
        while True:
            w = round(float(rng.uniform(5.1, 6.6)), 2)
            n = min(int(rng.integers(4, 9)), int((x1 - 1.0 - pos) // w))
            if n < 2:
                break
            blocks.append((pos, n, w))
            pos = pos + n * w + round(float(rng.uniform(3.0, 6.0)), 2)
        for bi, (bx, n, w) in enumerate(blocks):
            left = x0 if bi == 0 else (blocks[bi - 1][0] + blocks[bi - 1][1] * blocks[bi - 1][2] + bx) / 2
            right = x1 if bi == len(blocks) - 1 else (bx + n * w + blocks[bi + 1][0]) / 2
            for i in range(n):
                hx0, hx1 = bx + i * w, bx + (i + 1) * w
                lots.append((left if i == 0 else hx0, right if i == n - 1 else hx1, hx0, hx1))
        floors = 2.4
    elif kind in ("semi", "newbuild"):
        pos = x0
        while True:
            w = round(float(rng.uniform(7.0, 9.5)), 2)
            s = round(float(rng.uniform(2.5, 5.0)), 2)
            if pos + 2 * w + 2 * s > x1:
                break
            lots.append((pos, pos + s + w, pos + s, pos + s + w))
            lots.append((pos + s + w, pos + 2 * s + 2 * w, pos + s + w, pos + s + 2 * w))
            pos = pos + 2 * s + 2 * w
        if x1 - pos >= 14.0:  # a detached house on what is left
            w = round(min(9.0, x1 - pos - 5.0), 2)
            lots.append((pos, x1, pos + 2.5, pos + 2.5 + w))
        floors = 2.2
    elif kind == "detached":
        pos = x0
        while True:
            W = round(float(rng.uniform(15.0, 22.0)), 2)
            if pos + W > x1:
                break
            w = round(float(rng.uniform(9.0, min(12.0, W - 5.0))), 2)
            off = round((W - w) / 2 + float(rng.uniform(-1.0, 1.0)), 2)
            lots.append((pos, pos + W, pos + off, pos + off + w))
            pos = pos + W
        if x1 - pos >= 14.0:
            w = round(min(9.0, x1 - pos - 5.0), 2)
            lots.append((pos, x1, pos + 2.5, pos + 2.5 + w))
        floors = 2.0
    else:
        raise ValueError(kind)
    if not lots:
        return
    px0, _, hx0, hx1 = lots[-1]
    lots[-1] = (px0, x1, hx0, hx1)  # the last lot takes what is left of the segment
    newbuild = kind == "newbuild"
    for px0, px1, hx0, hx1 in lots:
        t.parcel(box(px0, py0, px1, py1))
        ext = round(float(rng.uniform(2.5, 3.5)), 2) if (rng.random() < 0.3 and not newbuild) else 0.0
        poly = _house_polygon(hx0, hx1, edge_y, direction, front, hdepth, ext)
        if newbuild:
            p = t.pand(poly, REFERENCE_DATE.year, "Bouw gestart", date=dt.date(2025, 2, 14))
            vstat, vdate = "Verblijfsobject gevormd", dt.date(2025, 2, 14)
        else:
            measured = rng.random() > 0.02
            p = t.pand(poly, year, IN_USE if measured else "Pand in gebruik (niet ingemeten)")
            vstat, vdate = (VBO_IN_USE if measured else "Verblijfsobject in gebruik (niet ingemeten)"), None
        a = t.address(street, side, (hx0 + hx1) / 2)
        cy = edge_y + direction * (front + hdepth / 2)
        area = (hx1 - hx0) * hdepth * floors * 0.8 + (hx1 - hx0 - 1.2) * ext * 0.9
        t.vbo(p, (hx0 + hx1) / 2, cy, a, "woonfunctie", max(40, area), vstat, date=vdate)


def _apartment_row(t: Tile, rng, x0, x1, edge_y, direction, depth, street, side, year, floor_range) -> None:
    py0, py1 = sorted((edge_y, edge_y + direction * depth))
    lots = []
    pos = x0
    while True:
        W = round(float(rng.uniform(45.0, 70.0)), 2)
        if pos + W > x1:
            break
        lots.append([pos, pos + W])
        pos = pos + W
    if not lots:
        return
    lots[-1][1] = x1
    for px0, px1 in lots:
        t.parcel(box(px0, py0, px1, py1))
        L = round((px1 - px0) - 2 * float(rng.uniform(4.0, 8.0)), 2)
        bx0 = round(px0 + (px1 - px0 - L) / 2, 2)
        d = round(float(rng.uniform(10.0, 12.5)), 2)
        front = round(float(rng.uniform(3.0, 6.0)), 2)
        floors = int(rng.integers(floor_range[0], floor_range[1] + 1))
        poly = box(bx0, edge_y + direction * front, bx0 + L, edge_y + direction * (front + d))
        p = t.pand(poly, year)
        n_port = max(2, int(round(L / 14.0)))
        pw = L / n_port
        per = floors * 2
        style = "letter" if rng.random() < 0.4 else "toev"
        area = L * d * floors * 0.78 / (n_port * per)
        for j in range(n_port):
            a = t.address(street, side, bx0 + (j + 0.5) * pw)
            for u in range(per):
                fl, lr = divmod(u, 2)
                x = bx0 + j * pw + (lr + 0.5) * pw / 2
                y = edge_y + direction * (front + (fl + 0.5) * d / floors)
                t.vbo(p, x, y, a, "woonfunctie", area * float(rng.uniform(0.9, 1.1)),
                      letter=LETTERS[u] if style == "letter" else None, toev=str(u + 1) if style == "toev" else None)


def residential(t: Tile, rng, profile: str, *, y_start: float = 10.0, y_end: float = 390.0, x_v: float | None = None,
                v_from: float = 0.0, reserve: dict | None = None, force: dict | None = None,
                cycleway: bool = True, landuse: bool = True, oneway: Iterable[int] = ()) -> dict:
    """Woonstraten (east-west) every 2H m crossing one north-south street; rows of houses on both sides.

    ``reserve`` maps (zone, segment) → callable(t, rng, rect, info) for special use of the area
    between woonstraat ``zone`` and ``zone + 1`` on segment 0 (west) / 1 (east).
    ``force`` maps (street k, direction, segment) → row kind. Returns layout info.
    """
    P = PROFILES[profile]
    H = P["H"]
    if x_v is None:
        x_v = float(rng.choice([140.0, 170.0, 200.0, 230.0, 260.0]))
    ys = []
    y = y_start + H
    while y + H <= y_end + 1e-9:
        ys.append(y)
        y += 2 * H
    top = ys[-1] + H
    vverts = {v_from, *ys, float(TILE)}
    cyc = (top + y_end) / 2 if cycleway and y_end - top >= 14 else None
    if cyc is not None:
        vverts.add(cyc)
    t.street([(x_v, yy) for yy in sorted(vverts)], {"highway": "residential", "maxspeed": "30"}, "@v")
    for k, yy in enumerate(ys):
        xa, xb = 0.0, float(TILE)
        roll = rng.random()
        if roll < 0.12:
            xa = 40.0
        elif roll < 0.24:
            xb = TILE - 40.0
        tags = {"highway": "residential", "maxspeed": "30"}
        if rng.random() < 0.1 or k in oneway:
            tags["oneway"] = "yes"
        t.street([(xa, yy), (x_v, yy), (xb, yy)], tags, f"@s{k}")
    if cyc is not None:
        t.street([(0.0, cyc), (x_v, cyc), (float(TILE), cyc)], {"highway": "cycleway", "surface": "asphalt"}, None)
    segs = [(10.0, x_v - 6.0), (x_v + 6.0, 390.0)]
    reserve = reserve or {}
    force = force or {}
    for k, yy in enumerate(ys):
        year = int(rng.integers(*P["years"]))
        for si, (x0, x1) in enumerate(segs):
            for direction, side in ((-1, 0), (1, 1)):
                zone = k - 1 if direction == -1 else k
                kind = _choose(rng, P["kinds"])
                if (zone, si) in reserve:
                    continue
                kind = force.get((k, direction, si), kind)
                fill_row(t, rng, kind, x0, x1, yy + direction * 6.0, direction, H - 6.0, f"@s{k}", side, year,
                         P.get("floors", (3, 5)))
    for (zone, si), fn in sorted(reserve.items()):
        x0, x1 = segs[si]
        fn(t, rng, (x0, ys[zone] + 6.0, x1, ys[zone + 1] - 6.0), {"x_v": x_v, "segment": si})
    if landuse:
        t.area([(12, y_start + 2), (388, y_start + 2), (388, 388), (12, 388)], {"landuse": "residential"})
    return {"x_v": x_v, "streets_y": ys, "top": top}


def school_spec(name: str, osm_as: str, street: str = "@v", side: int | None = None):
    def build(t: Tile, rng, rect, info):
        x0, y0, x1, y1 = rect
        t.parcel(box(x0, y0, x1, y1))
        w, h = x1 - x0, y1 - y0
        bx0 = x0 + 8
        main = box(bx0, y1 - 8 - 16, bx0 + max(40.0, 0.55 * w), y1 - 8)
        wing = box(bx0, y1 - 8 - 16 - 0.45 * h, bx0 + 18, y1 - 8)
        poly = shapely.union(main, wing).normalize()
        p = t.pand(poly, int(rng.integers(1965, 2010)))
        sd = side if side is not None else (0 if info["segment"] == 1 else 1)
        a = t.address(street, sd, (y0 + y1) / 2)
        cx, cy = points_inside(poly, 1)[0]
        t.shops.append(t.vbo(p, cx, cy, a, "onderwijsfunctie", poly.area * 1.6))
        if osm_as == "node":
            t.poi(cx, cy, {"amenity": "school", "name": name, "isced:level": "1"})
        else:
            t.area(list(poly.exterior.coords)[:-1], {"building": "school", "amenity": "school", "name": name})
    return build
