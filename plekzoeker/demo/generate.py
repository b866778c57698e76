"""Generate *Demodorp*: a fictitious small Dutch town (municipality code 9999, GM9999) in the real
delivery formats, with a ``manifest.json`` of the planted truth for tests.

``generate_town(outdir, seed=7, units=None)`` writes into ``outdir``:

* ``bag.gpkg`` — layers ``pand`` and ``verblijfsobject`` with PDOK ``bag-light`` column names
  (plus ``documentdatum``), EPSG:28992;
* ``brk_percelen.gpkg`` — layer ``perceel`` (kadastrale kaart attributes), EPSG:28992;
* ``town.osm.pbf`` — streets, POIs and land use, WGS84 as OSM is;
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
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import logging
import math
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import shapely
from pyproj import Transformer

from .facts import write_demo_facts
from .gtfs import write_demo_gtfs
from .ranking import write_ranking_inputs

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# constants
# ---------------------------------------------------------------------------------------------
GM_CODE = "9999"                    # the code Kadaster uses for test data
MUNICIPALITY = "GM9999"
TOWN = "Demodorp"
ORIGIN_X, ORIGIN_Y = 150900, 440900  # RD New of the south-west corner of cell (0, 0)
TILE = 400                          # cell size (m)
CRS = "EPSG:28992"
REFERENCE_DATE = dt.date(2025, 6, 1)  # the "today" of the demo data (fixed, for determinism)
OSM_TIMESTAMP = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.UTC)
KAD_GEMEENTE = "DMD00"
RDF = "http://bag.basisregistraties.overheid.nl/bag/id/{kind}/{id}"
EPOCH = dt.date(1970, 1, 1).toordinal()
DRAW = -1                            # "draw a documentdatum" marker in the templates

PAND_STATUSES = ("Bouwvergunning verleend", "Bouw gestart", "Pand in gebruik", "Pand in gebruik (niet ingemeten)",
                 "Verbouwing pand", "Pand buiten gebruik", "Sloopvergunning verleend", "Pand gesloopt",
                 "Niet gerealiseerd pand", "Pand ten onrechte opgevoerd")
VBO_STATUSES = ("Verblijfsobject gevormd", "Verblijfsobject in gebruik", "Verblijfsobject in gebruik (niet ingemeten)",
                "Verbouwing verblijfsobject", "Verblijfsobject buiten gebruik", "Verblijfsobject ingetrokken",
                "Niet gerealiseerd verblijfsobject", "Verblijfsobject ten onrechte opgevoerd")
GEBRUIKSDOELEN = ("woonfunctie", "bijeenkomstfunctie", "celfunctie", "gezondheidszorgfunctie", "industriefunctie",
                  "kantoorfunctie", "logiesfunctie", "onderwijsfunctie", "sportfunctie", "winkelfunctie",
                  "overige gebruiksfunctie")
IN_USE, VBO_IN_USE = "Pand in gebruik", "Verblijfsobject in gebruik"
KANTOOR = "kantoorfunctie"

# What the manifest assumes (the defaults of plekzoeker/default.yaml at the time of writing).
BUILT_STATUSES = ("Bouwvergunning verleend", "Bouw gestart", "Pand in gebruik", "Pand in gebruik (niet ingemeten)",
                  "Verbouwing pand", "Pand buiten gebruik", "Sloopvergunning verleend")
ASSUMPTIONS = {
    "max_building_coverage": 0.05, "built_statuses": list(BUILT_STATUSES), "min_area_m2": 1000, "min_width_m": 20,
    "min_building_area_m2": 500, "vacancy_gebruiksdoelen": [KANTOOR], "min_confidence": 0.3,
    "long_renovation_days": 730, "low_energy_kwh_per_m2": 20, "noise_exclude_above_db": 65,
    "weights": {"bag_status_buiten_gebruik": 0.6, "bag_pand_buiten_gebruik": 0.6, "bag_long_renovation": 0.35,
                "vacancy_register": 0.7, "no_establishment": 0.25, "low_energy": 0.3},
    "counter_weights": {"active_establishment": 0.35, "normal_energy": 0.2},
    "exclude_osm": ["natural=water", "landuse=cemetery", "leisure=park", "natural=wood", "leisure=pitch"],
}
# The planted land-cover exclusions: expectation -> (OSM key, value) of the area that removes the plot.
EXCLUDED_CLASSES = {"excluded:cemetery": ("landuse", "cemetery"), "excluded:park": ("leisure", "park"),
                    "excluded:wood": ("natural", "wood"), "excluded:sports": ("leisure", "pitch")}

# Noise model: Lden(d) = L0 - 15 log10(1 + d / 8 m) - 0.005 d per source, summed energetically with
# a 45 dB background. ≈ 70 dB at the edge of the Provincialeweg, > 65 dB up to ~28 m from its axis.
NOISE_LEVELS = {"secondary": 75.0, "tertiary": 68.0, "railway": 72.0}
NOISE_BACKGROUND = 45.0
NOISE_RANGE = 1500.0
NOISE_CELL = 10.0
NOISE_MARGIN = 300.0
NODATA = -9999.0

# Letter pairs of Dutch postcodes (SA, SD and SS are never issued).
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PC_PAIRS = [a + b for a in _LETTERS for b in _LETTERS if a + b not in ("SA", "SD", "SS")]

STREET_BASES = ["Eiken", "Beuken", "Linden", "Essen", "Berken", "Populieren", "Wilgen", "Kastanje", "Iepen", "Elzen",
                "Platanen", "Esdoorn", "Hazelaar", "Meidoorn", "Vlier", "Lijsterbes", "Merel", "Lijster", "Vinken",
                "Mezen", "Spreeuwen", "Kievit", "Reiger", "Zwaluw", "Specht", "Fazant", "Roodborst", "Winterkoning",
                "Buizerd", "Grutto", "Rozen", "Tulpen", "Lelie", "Narcis", "Iris", "Krokus", "Anjer", "Dahlia",
                "Violen", "Hyacint", "Klaver", "Margriet", "Rembrandt", "Vermeer", "Mondriaan", "Frans Hals",
                "Jan Steen", "Breitner", "Mesdag", "Toorop", "Escher", "Appel", "Koren", "Haver", "Rogge", "Vlas"]
STREET_SUFFIXES = ["straat", "laan", "hof", "weg", "dreef", "singel", "erf", "plantsoen"]
WOONPLAATS_BASES = ["Demohuizen", "Demoveen", "Demobroek", "Demowoude", "Demodijk", "Demohoven", "Demomeer",
                    "Demorade", "Demoburg", "Demowijk", "Demozand", "Demobeek", "Demohorst", "Demoloo", "Demokerk"]
WOONPLAATS_PREFIXES = ["", "Nieuw-", "Oud-", "Oost-", "West-", "Noord-", "Zuid-"]
LINE_NAMES = ["Akkerweg", "Beemdweg", "Dijkweg", "Esweg", "Heideweg", "Kampweg", "Kouterweg", "Maatweg", "Veldweg",
              "Broekweg", "Polderweg", "Weideweg", "Bosweg", "Zandweg", "Leeuwerikweg", "Hoeveweg"]

# The through roads of the core town: lattice lines by index (x = 400 i, y = 400 j in cell units).
CORE_V_LINES = {0: ("Westelijke Ringweg", "tertiary"), 1: ("Stationsweg", "tertiary"), 2: ("Oosterstraat", "residential"),
                3: ("Oostelijke Ringweg", "tertiary")}
CORE_H_LINES = {0: ("Zuidelijke Ringweg", "tertiary"), 1: ("Molenstraat", "residential"), 2: ("Provincialeweg", "secondary"),
                3: ("Spoorlaan", "tertiary")}
CORE_NAMES = {"Dorpsstraat", "Kerkstraat", "Kantorenlaan", "Beurslaan", "Handelsweg", "Industrieweg", "Oostveldweg",
              "Kerkhoflaan", "Fabrieksweg"} | {v[0] for v in CORE_V_LINES.values()} | {v[0] for v in CORE_H_LINES.values()}

NATURAL_PERSONS = ["J. de Vries-Testpersoon", "A. Jansen-Testpersoon", "M. Bakker-Testpersoon", "P. de Jong-Testpersoon"]
OWNERS = {
    "municipality": "Gemeente Demodorp",
    "housing_corporation": "Woonstichting Demodorp Wonen (test)",
    "province": "Provincie Demoland (test)",
    "other": "Waterschap Demorivier (test)",
}
COMPANIES = ["Kantoorbelegging Demo B.V.", "Demo Vastgoed Holding B.V.", "Test Property Fund N.V.",
             "Oostveld Ontwikkeling B.V.", "Beleggingsmaatschappij Proef B.V."]

LAYER_COLUMNS = {
    "pand": ["identificatie", "bouwjaar", "status", "gebruiksdoel", "oppervlakte_min", "oppervlakte_max",
             "aantal_verblijfsobjecten", "rdf_seealso", "documentdatum", "geom"],
    "verblijfsobject": ["identificatie", "openbare_ruimte_naam", "huisnummer", "huisletter", "toevoeging", "postcode",
                        "woonplaats_naam", "bouwjaar", "pand_identificatie", "pandstatus", "status", "gebruiksdoel",
                        "oppervlakte", "rdf_seealso", "documentdatum", "geom"],
    "perceel": ["identificatie", "kadastraleGemeenteCode", "kadastraleGemeenteWaarde", "sectie", "perceelnummer",
                "kadastraleGrootteWaarde", "geometry"],
}
SCHEMAS = {
    "pand": pa.schema([("identificatie", pa.string()), ("bouwjaar", pa.int32()), ("status", pa.string()),
                       ("gebruiksdoel", pa.string()), ("oppervlakte_min", pa.int32()), ("oppervlakte_max", pa.int32()),
                       ("aantal_verblijfsobjecten", pa.int32()), ("rdf_seealso", pa.string()),
                       ("documentdatum", pa.date32()), ("geom", pa.binary())]),
    "verblijfsobject": pa.schema([("identificatie", pa.string()), ("openbare_ruimte_naam", pa.string()),
                                  ("huisnummer", pa.int32()), ("huisletter", pa.string()), ("toevoeging", pa.string()),
                                  ("postcode", pa.string()), ("woonplaats_naam", pa.string()), ("bouwjaar", pa.int32()),
                                  ("pand_identificatie", pa.string()), ("pandstatus", pa.string()),
                                  ("status", pa.string()), ("gebruiksdoel", pa.string()), ("oppervlakte", pa.int32()),
                                  ("rdf_seealso", pa.string()), ("documentdatum", pa.date32()), ("geom", pa.binary())]),
    "perceel": pa.schema([("identificatie", pa.string()), ("kadastraleGemeenteCode", pa.string()),
                          ("kadastraleGemeenteWaarde", pa.string()), ("sectie", pa.string()),
                          ("perceelnummer", pa.int32()), ("kadastraleGrootteWaarde", pa.int32()),
                          ("geometry", pa.binary())]),
}

# Scorer-style outcome each semantic plot expectation corresponds to (see scoring/plots.py).
PLOT_OUTCOME = {"usable": "usable", "too_small": "too_small", "too_narrow": "too_narrow", "built": "built",
                "water": "too_small_after_exclusions", "excluded:cemetery": "too_small_after_exclusions",
                "excluded:park": "too_small_after_exclusions", "excluded:wood": "too_small_after_exclusions",
                "excluded:sports": "too_small_after_exclusions",
                "noise": "too_small_after_exclusions"}


def _days(d: dt.date) -> int:
    return d.toordinal() - EPOCH


DOC_LO, DOC_HI = _days(dt.date(2009, 7, 1)), _days(dt.date(2025, 5, 31))


# ---------------------------------------------------------------------------------------------
# tile builder (local coordinates 0..TILE)
# ---------------------------------------------------------------------------------------------
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
        self.pand_date.append(DRAW if date is None else _days(date))
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
        self.vbo_date.append(DRAW if date is None else _days(date))
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


# ---------------------------------------------------------------------------------------------
# residential rows
# ---------------------------------------------------------------------------------------------
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
                      letter=_LETTERS[u] if style == "letter" else None, toev=str(u + 1) if style == "toev" else None)


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


def _school(name: str, osm_as: str, street: str = "@v", side: int | None = None):
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


# ---------------------------------------------------------------------------------------------
# the special cells of the core town
# ---------------------------------------------------------------------------------------------
def centre_tile(rng) -> Tile:
    t = Tile("centre", "centrum")
    # streets: Dorpsstraat (east-west) and Kerkstraat (north-south, one-way north of the Dorpsstraat)
    t.street([(0, 200), (200, 200), (400, 200)], {"highway": "residential", "maxspeed": "30"}, "Dorpsstraat")
    t.street([(200, 0), (200, 100), (200, 200)], {"highway": "residential", "maxspeed": "30"}, "Kerkstraat")
    t.street([(200, 200), (200, 300), (200, 400)], {"highway": "residential", "oneway": "yes", "maxspeed": "30"},
             "Kerkstraat")
    # Dorpspark (SW): park, pond, footway; shops south of the Dorpsstraat
    t.area([(15, 15), (190, 15), (190, 150), (15, 150)], {"leisure": "park", "name": "Dorpspark"})
    t.area([(120, 95), (165, 92), (172, 130), (130, 138)], {"natural": "water", "water": "pond", "name": "Dorpsvijver"})
    t.street([(0, 60), (60, 70), (120, 60), (200, 100)], {"highway": "footway"}, None)
    shops = []
    shops += _shop_row(t, rng, 10, 194, 194.0, -1, 34.0, "Dorpsstraat", 0)
    shops += _shop_row(t, rng, 10, 194, 206.0, 1, 40.0, "Dorpsstraat", 1)
    shops += _shop_row(t, rng, 206, 300, 206.0, 1, 40.0, "Dorpsstraat", 1)
    # Kerkstraat east side (north part): a few more shops, parcels 40 m deep eastwards
    shops += _shop_row_vertical(t, rng, 246, 390, 206.0, "Kerkstraat", 1)
    t.shops += shops
    t.marks["shop_vbos"] = shops
    # supermarket (OSM: building way with shop=supermarket)
    t.parcel(box(300, 206, 390, 390))
    sm = box(315, 215, 375, 255)
    p = t.pand(sm, 1998)
    a = t.address("Dorpsstraat", 1, 345)
    cx, cy = sm.centroid.x, sm.centroid.y
    t.shops.append(t.vbo(p, cx, cy, a, "winkelfunctie", 1850))
    t.area(list(sm.exterior.coords)[:-1], {"building": "supermarket", "shop": "supermarket",
                                            "name": "Supermarkt De Korf"})
    # apartment block "Marktflat" behind the shops (NW), on the Kerkstraat
    t.parcel(box(100, 246, 194, 390))
    flat = box(165, 262, 179, 372)
    p = t.pand(flat, 1971)
    floors, n_port = 4, 5
    ph = 110 / n_port
    for j in range(n_port):
        a = t.address("Kerkstraat", 0, 262 + (j + 0.5) * ph)
        for u in range(floors * 2):
            fl, lr = divmod(u, 2)
            t.vbo(p, 165 + (lr + 0.5) * 7, 262 + j * ph + (fl + 0.5) * ph / floors, a, "woonfunctie",
                  float(rng.uniform(58, 82)), toev=str(u + 1))
    # NW interior west of the flat: gardens of the shops only (their parcels end at y=246)
    # SE: health centre (GP + pharmacy), community centre + shelter, school with a building way
    t.parcel(box(206, 130, 300, 194))
    hc = box(230, 150, 280, 172)
    p = t.pand(hc, 2006)
    a = t.address("Dorpsstraat", 0, 250)
    (gx, gy), (fx, fy) = points_inside(hc, 2)
    t.shops.append(t.vbo(p, gx, gy, a, "gezondheidszorgfunctie", 640, letter="A"))
    t.shops.append(t.vbo(p, fx, fy, a, "winkelfunctie", 260, letter="B"))
    t.poi(gx, gy, {"amenity": "doctors", "healthcare": "doctor", "name": "Huisartsenpraktijk Demodorp"})
    t.poi(fx, fy, {"amenity": "pharmacy", "healthcare": "pharmacy", "name": "Apotheek De Gaper"})
    t.parcel(box(300, 110, 390, 194))
    cc = box(320, 135, 365, 170)
    p = t.pand(cc, 1984)
    a = t.address("Dorpsstraat", 0, 340)
    ccx, ccy = points_inside(cc, 1)[0]
    t.shops.append(t.vbo(p, ccx, ccy, a, "bijeenkomstfunctie", 1100))
    t.poi(ccx, ccy, {"amenity": "community_centre", "name": "Wijkcentrum De Ontmoeting"})
    sh = box(370, 120, 385, 135)
    p = t.pand(sh, 2019)
    a = t.address("Dorpsstraat", 0, 378)
    t.shops.append(t.vbo(p, 377.5, 127.5, a, "logiesfunctie", 190))
    t.poi(377.5, 127.5, {"amenity": "social_facility", "social_facility": "shelter",
                         "social_facility:for": "homeless", "name": "Nachtopvang De Herberg"})
    _school("Basisschool De Regenboog", "way", "Kerkstraat", 1)(t, rng, (206, 10, 390, 110), {"segment": 1})
    return t


def _shop_row(t: Tile, rng, x0, x1, edge_y, direction, depth, street, side) -> list[int]:
    """Shops with one or two flats above (huisletter A/B) along a street, parcels ``depth`` deep."""
    out = []
    py0, py1 = sorted((edge_y, edge_y + direction * depth))
    pos = x0
    lots = []
    while True:
        w = round(float(rng.uniform(9.0, 15.0)), 2)
        if pos + w > x1:
            break
        lots.append([pos, pos + w])
        pos += w
    lots[-1][1] = x1
    for px0, px1 in lots:
        t.parcel(box(px0, py0, px1, py1))
        d = round(float(rng.uniform(12.0, 18.0)), 2)
        poly = box(px0, edge_y + direction * 1.5, px1, edge_y + direction * (1.5 + d))
        p = t.pand(poly, int(rng.integers(1890, 1975)))
        a = t.address(street, side, (px0 + px1) / 2)
        cy = edge_y + direction * (1.5 + d / 2)
        w = px1 - px0
        out.append(t.vbo(p, (px0 + px1) / 2, cy, a, "winkelfunctie", w * d * 0.85))
        for k in range(int(rng.integers(1, 3))):
            t.vbo(p, px0 + (k + 1) * w / 3, cy + direction * 2.0, a, "woonfunctie", w * d * 0.45, letter="AB"[k])
    return out


def _shop_row_vertical(t: Tile, rng, y0, y1, edge_x, street, side) -> list[int]:
    """Shops along a north-south street, parcels 40 m deep eastwards from ``edge_x``."""
    out = []
    pos = y0
    lots = []
    while True:
        w = round(float(rng.uniform(10.0, 15.0)), 2)
        if pos + w > y1:
            break
        lots.append([pos, pos + w])
        pos += w
    lots[-1][1] = y1
    for py0, py1 in lots:
        t.parcel(box(edge_x, py0, edge_x + 40.0, py1))
        d = round(float(rng.uniform(12.0, 18.0)), 2)
        poly = box(edge_x + 1.5, py0, edge_x + 1.5 + d, py1)
        p = t.pand(poly, int(rng.integers(1890, 1975)))
        a = t.address(street, side, (py0 + py1) / 2)
        cx = edge_x + 1.5 + d / 2
        h = py1 - py0
        out.append(t.vbo(p, cx, (py0 + py1) / 2, a, "winkelfunctie", h * d * 0.85))
        t.vbo(p, cx + 2.0, py0 + h / 3, a, "woonfunctie", h * d * 0.5, letter="A")
    return out


def office_tile(rng) -> Tile:
    """Office park: 16 office buildings on 16 parcels; the planted vacancy cases are here."""
    t = Tile("offices", "kantorenpark")
    t.street([(130, 0), (130, 200), (130, 400)], {"highway": "residential"}, "Kantorenlaan")
    t.street([(270, 0), (270, 200), (270, 400)], {"highway": "residential"}, "Beurslaan")
    t.street([(0, 200), (130, 200), (270, 200), (400, 200)], {"highway": "tertiary", "maxspeed": "50"}, "Handelsweg")
    cols = {"W": (10.0, 124.0, "Kantorenlaan", 0), "M1": (136.0, 200.0, "Kantorenlaan", 1),
            "M2": (200.0, 264.0, "Beurslaan", 0), "E": (276.0, 390.0, "Beurslaan", 1)}
    rows = [(10.0, 102.0), (102.0, 194.0), (206.0, 298.0), (298.0, 390.0)]
    layout = {(0, "W"): "I", (0, "M1"): "J", (0, "M2"): "O", (0, "E"): "P",
              (1, "W"): "E", (1, "M1"): "F", (1, "M2"): "G", (1, "E"): "H",
              (2, "W"): "A", (2, "M1"): "B", (2, "M2"): "C", (2, "E"): "D",
              (3, "W"): "K", (3, "M1"): "L", (3, "M2"): "M", (3, "E"): "N"}
    specs = office_specs(rng)
    for (ri, col), letter in sorted(layout.items()):
        x0, x1, street, side = cols[col]
        y0, y1 = rows[ri]
        spec = specs[letter]
        pi = t.parcel(box(x0, y0, x1, y1))
        units = spec["units"]
        gfa = sum(u["area"] for u in units) / 0.85
        parcel_area = (x1 - x0) * (y1 - y0)
        floors = int(min(8, max(1, math.floor(gfa / (0.15 * parcel_area)))))
        foot = gfa / floors
        maxw, maxd = (x1 - x0) - 12, (y1 - y0) - 12
        fd = min(maxd, max(14.0, math.sqrt(foot * 0.9)))
        fw = min(maxw, foot / fd)
        fd = min(maxd, foot / fw)
        front_x = x1 - 6 if side == 0 else x0 + 6        # the front faces the street
        bx0, bx1 = (front_x - fw, front_x) if side == 0 else (front_x, front_x + fw)
        cy = (y0 + y1) / 2
        poly = box(round(bx0, 2), round(cy - fd / 2, 2), round(bx1, 2), round(cy + fd / 2, 2))
        p = t.pand(poly, spec["year"], spec.get("pand_status", IN_USE), date=spec.get("pand_date"))
        a = t.address(street, side, cy)
        pts = points_inside(poly, len(units))
        vbos = []
        for k, (u, (ux, uy)) in enumerate(zip(units, pts)):
            letter_k = _LETTERS[k] if spec["style"] == "letter" and len(units) > 1 else None
            toev_k = str(k + 1) if spec["style"] == "toev" and len(units) > 1 else None
            vbos.append(t.vbo(p, ux, uy, a, u["doel"], u["area"], u.get("status", VBO_IN_USE), letter_k, toev_k,
                              date=u.get("date")))
        t.offices.append({"case": spec["case"], "letter": letter, "pand": p, "parcel": pi, "vbos": vbos,
                          "units": units, "expected": spec["expected"], "floors": floors,
                          "owner": spec["owner"], "note": spec["note"]})
    return t


def office_specs(rng) -> dict[str, dict]:
    """The office buildings. Unit signals: reg (register key 'id'/'addr'), since, est ('active'/'inactive'),
    energy ('low'/'normal')."""
    K = KANTOOR
    occ = {"est": "active", "energy": "normal"}

    def occupied_units(n):
        return [dict(area=int(rng.integers(150, 1400)), doel=K, **occ) for _ in range(n)]

    d = dt.date
    specs = {
        "A": dict(case="bag_vbo_buiten_gebruik", expected="candidate", style="none", year=1988,
                  units=[dict(area=900, doel=K, status="Verblijfsobject buiten gebruik", date=d(2023, 9, 12))],
                  owner=("company", COMPANIES[0]),
                  note="BAG unit status 'Verblijfsobject buiten gebruik' is the only vacancy signal "
                       "(no establishment row, no energy row)"),
        "B": dict(case="register_by_id", expected="candidate", style="toev", year=1992,
                  units=[dict(area=420, doel=K, reg="id", since=d(2024, 2, 1), est="inactive"),
                         dict(area=380, doel=K, reg="id", since=d(2024, 2, 1))],
                  owner=("company", COMPANIES[1]),
                  note="both units in the vacancy register keyed by verblijfsobject_id; one has an inactive "
                       "establishment row, the other none"),
        "C": dict(case="register_by_address", expected="candidate", style="letter", year=1979,
                  units=[dict(area=350, doel=K, reg="addr", since=d(2023, 11, 15)),
                         dict(area=300, doel="kantoorfunctie,winkelfunctie", reg="addr", since=d(2023, 11, 15)),
                         dict(area=250, doel=K, **occ)],
                  owner=("natural_person", NATURAL_PERSONS[3]),
                  note="two units in the register keyed by postcode + huisnummer + huisletter (one mixed "
                       "office/shop); the third unit is occupied"),
        "D": dict(case="register_no_establishment_low_energy", expected="candidate", style="toev", year=1985,
                  units=[dict(area=450, doel=K, reg="id", since=d(2022, 6, 1), energy="low") for _ in range(4)],
                  owner=("company", COMPANIES[2]),
                  note="strong: in the register, no establishment, low energy use, all four units"),
        "E": dict(case="bag_pand_buiten_gebruik", expected="candidate", style="toev", year=1975,
                  pand_status="Pand buiten gebruik", pand_date=d(2022, 10, 1),
                  units=[dict(area=700, doel=K), dict(area=500, doel=K)],
                  owner=("municipality", OWNERS["municipality"]),
                  note="the building has status 'Pand buiten gebruik'; its units are still 'in gebruik'"),
        "F": dict(case="long_renovation", expected="candidate", style="none", year=1990,
                  units=[dict(area=1500, doel=K, status="Verbouwing verblijfsobject", date=d(2021, 3, 1))],
                  owner=("company", COMPANIES[3]),
                  note="'Verbouwing verblijfsobject' since 2021-03-01 (more than two years), no establishment"),
        "G": dict(case="conflicting_signals", expected="candidate", style="none", year=1996,
                  units=[dict(area=1100, doel=K, reg="id", since=d(2024, 9, 1), est="active", energy="normal")],
                  owner=("company", COMPANIES[4]),
                  note="in the register but with an active establishment and normal energy use: a candidate "
                       "with low confidence (0.7 x 0.65 x 0.8 = 0.364 with the default weights)"),
        "H": dict(case="demolition_permit", expected="excluded:demolition", style="none", year=1969,
                  pand_status="Sloopvergunning verleend", pand_date=d(2024, 11, 20),
                  units=[dict(area=2000, doel=K, status="Verblijfsobject buiten gebruik", reg="id",
                              since=d(2023, 5, 1), date=d(2023, 4, 3))],
                  owner=("housing_corporation", OWNERS["housing_corporation"]),
                  note="vacant office in a building with a demolition permit: excluded"),
        "I": dict(case="below_min_area", expected="below_min_area", style="toev", year=1999,
                  units=[dict(area=320, doel=K, status="Verblijfsobject buiten gebruik", reg="id",
                              since=d(2024, 3, 1), date=d(2024, 1, 22)),
                         dict(area=900, doel=K, **occ)],
                  owner=("company", COMPANIES[0]),
                  note="only one 320 m2 unit is vacant: below the 500 m2 minimum per building"),
        "J": dict(case="partially_vacant", expected="candidate", style="toev", year=2001,
                  units=[dict(area=210, doel=K, **occ), dict(area=260, doel=K, reg="addr", since=d(2024, 1, 10),
                                                                energy="low"),
                         dict(area=300, doel=K, reg="id", since=d(2024, 1, 10), energy="low"),
                         dict(area=340, doel=K, reg="addr", since=d(2024, 1, 10), energy="low"),
                         dict(area=380, doel=K, **occ), dict(area=420, doel=K, **occ),
                         dict(area=480, doel=K, **occ), dict(area=560, doel=K, **occ)],
                  owner=("company", COMPANIES[1]),
                  note="3 of 8 units vacant (900 m2 of 2950 m2): register (by id and by address + toevoeging), "
                       "no establishment, low energy; the other units are occupied"),
        "K": dict(case="occupied_mixed", expected="occupied", style="letter", year=1994,
                  units=[dict(area=600, doel="kantoorfunctie,winkelfunctie", **occ),
                         dict(area=450, doel="kantoorfunctie,winkelfunctie", **occ), dict(area=800, doel=K, **occ)],
                  owner=("company", COMPANIES[2]), note="occupied office/shop building"),
        "L": dict(case="occupied", expected="occupied", style="toev", year=1983, units=occupied_units(6),
                  owner=("company", COMPANIES[3]), note="occupied"),
        "M": dict(case="occupied", expected="occupied", style="letter", year=2003, units=occupied_units(3),
                  owner=("company", COMPANIES[4]), note="occupied"),
        "N": dict(case="occupied", expected="occupied", style="toev", year=1977,
                  units=[dict(area=1250, doel=K, est="active"), dict(area=700, doel=K, **occ)],
                  owner=("municipality", OWNERS["municipality"]),
                  note="occupied (one unit has no energy row, only an active establishment)"),
        "O": dict(case="occupied", expected="occupied", style="toev", year=1990, units=occupied_units(5),
                  owner=("company", COMPANIES[0]), note="occupied"),
        "P": dict(case="occupied_recent_renovation", expected="occupied", style="none", year=1986,
                  units=[dict(area=1200, doel=K, status="Verbouwing verblijfsobject", date=d(2025, 3, 10), **occ)],
                  owner=("company", COMPANIES[1]),
                  note="'Verbouwing verblijfsobject' since 2025-03-10 (recent) and occupied: no vacancy signal"),
    }
    return specs


def industrial_tile(rng) -> Tile:
    t = Tile("industry", "bedrijventerrein")
    t.street([(0, 200), (300, 200), (400, 200)], {"highway": "residential", "maxspeed": "50"}, "Industrieweg")
    t.street([(300, 200), (300, 330)], {"highway": "service", "access": "private"}, "Fabrieksweg")
    t.area([(12, 12), (388, 12), (388, 388), (12, 388)], {"landuse": "industrial"})
    halls = [  # parcel, hall, street side, n units
        ((10, 10, 100, 120), (20, 30, 85, 95), 0, 1),
        ((100, 10, 250, 194), (115, 40, 235, 160), 0, 3),
        ((250, 10, 390, 194), (265, 30, 375, 150), 0, 2),
        ((10, 206, 200, 390), (25, 230, 185, 360), 1, 2),
        ((200, 206, 390, 390), (315, 220, 380, 375), 1, 1),
    ]
    for (px0, py0, px1, py1), (hx0, hy0, hx1, hy1), side, n in halls:
        t.parcel(box(px0, py0, px1, py1))
        poly = box(hx0, hy0, hx1, hy1)
        p = t.pand(poly, int(rng.integers(1968, 2015)))
        a = t.address("Industrieweg", side, (px0 + px1) / 2)
        for k, (ux, uy) in enumerate(points_inside(poly, n)):
            t.shops.append(t.vbo(p, ux, uy, a, "industriefunctie", poly.area * 0.92 / n,
                                 toev=str(k + 1) if n > 1 else None))
    # second building on the factory parcel, west of the private road
    p = t.pand(box(215, 240, 290, 330), 1979)
    # the second supermarket: a node (OSM) on a small parcel at the Industrieweg / Stationsweg corner
    t.parcel(box(10, 120, 100, 194))
    sm = box(18, 140, 70, 185)
    p = t.pand(sm, 2011)
    a = t.address("Industrieweg", 0, 30)
    t.shops.append(t.vbo(p, 44.0, 162.5, a, "winkelfunctie", 1100))
    t.poi(44.0, 162.5, {"shop": "supermarket", "name": "Buurtsuper Demodorp"})
    # the station beside the railway north of the town (outside the cell, north of the Spoorlaan)
    t.street([(0, 400), (0, 428)], {"highway": "tertiary"}, "Stationsweg")
    t.street([(0, 428), (14, 428)], {"highway": "footway"}, None)
    t.poi(14.0, 432.0, {"railway": "station", "public_transport": "station", "train": "yes",
                        "name": "Station Demodorp"})
    return t


def plots_tile(rng) -> Tile:
    """Open land east of the centre (Oostveld): most planted plot cases."""
    t = Tile("plots", "oostveld")
    t.street([(200, 0), (200, 400)], {"highway": "residential", "maxspeed": "30"}, "Oostveldweg")
    t.area([(235, 15), (265, 15), (265, 195), (285, 205), (285, 385), (255, 385), (255, 205), (235, 195)],
           {"natural": "water", "water": "canal", "name": "Oostvaart"})

    def plot(case, coords, expected, owner, note):
        pi = t.parcel(box(*coords))
        t.plots.append({"case": case, "parcel": pi, "expected": expected, "owner": owner, "note": note})
        return pi

    plot("clean_open_plot", (30, 240, 110, 300), "usable", ("municipality", OWNERS["municipality"]),
         "open plot of 80 m x 60 m, no buildings, no exclusions")
    plot("exactly_min_area", (120, 240, 160, 265), "usable", ("company", COMPANIES[3]),
         "exactly 1000 m2 (40 m x 25 m, integer coordinates) and 25 m wide: usable at the threshold. "
         "Note: an opening with round joins cuts the corners (-86 m2); test the width with mitre joins "
         "or the negative buffer only")
    plot("too_small", (120, 300, 150, 325), "too_small", ("natural_person", NATURAL_PERSONS[1]),
         "750 m2 (30 m x 25 m): below the minimum area")
    plot("too_narrow", (20, 80, 35, 230), "too_narrow", ("municipality", OWNERS["municipality"]),
         "15 m x 150 m = 2250 m2 but 15 m wide: nothing is left after a 10 m negative buffer")
    built = plot("built_over", (50, 80, 110, 130), "built", ("natural_person", NATURAL_PERSONS[2]),
                 "farm: house and barn cover 16 % of the parcel")
    farm = t.pand(box(60, 110, 74, 121), 1912)
    a = t.address("Oostveldweg", 0, 105)
    t.vbo(farm, 67.0, 115.5, a, "woonfunctie", 185)
    t.pand(box(80, 92, 104, 106), 1955)  # barn, no units
    t.marks["farm_parcel"] = built
    shed_plot = plot("small_shed", (120, 80, 180, 120), "usable", ("natural_person", NATURAL_PERSONS[0]),
                     "60 m x 40 m with a 6 m x 8 m shed (2 % coverage, below 5 %): still usable")
    t.pand(box(171, 111, 177, 119), 1978)  # shed, no units
    t.marks["shed_parcel"] = shed_plot
    plot("half_in_pond", (220, 40, 260, 90), "water", ("other", OWNERS["other"]),
         "40 m x 50 m, the Oostvaart canal covers 1250 m2: 750 m2 left, too small")
    plot("partly_in_water", (250, 110, 320, 160), "usable", ("housing_corporation", OWNERS["housing_corporation"]),
         "70 m x 50 m, the canal covers 750 m2: 2750 m2 left, still usable")
    plot("noisy_main_road", (20, 10, 80, 45), "noise", ("province", OWNERS["province"]),
         "60 m x 35 m beside the Provincialeweg: Lden > 65 dB on its southern 20 m, 900 m2 left "
         "(usable without the noise constraint)")
    # public green next to the plots: open parcels a coordinator must not be offered
    t.area([(295, 172), (390, 172), (390, 248), (295, 248)], {"leisure": "park", "name": "Oostveldpark"})
    plot("public_park", (300, 175, 385, 245), "excluded:park", ("municipality", OWNERS["municipality"]),
         "85 m x 70 m of open land, all inside a leisure=park: a hard exclusion, recorded with its reason")
    t.area([(295, 255), (390, 255), (390, 325), (295, 325)], {"natural": "wood", "name": "Oostveldbos"})
    plot("wood", (300, 260, 385, 320), "excluded:wood", ("other", OWNERS["other"]),
         "85 m x 60 m under natural=wood: a hard exclusion")
    t.area([(295, 331), (390, 331), (390, 389), (295, 389)], {"leisure": "pitch", "sport": "soccer"})
    plot("sports_field", (300, 335, 385, 385), "excluded:sports", ("municipality", OWNERS["municipality"]),
         "85 m x 50 m football pitch (leisure=pitch): a hard exclusion")
    return t


def cemetery_tile(rng) -> Tile:
    t = Tile("cemetery", "begraafplaats")
    t.street([(0, 200), (200, 200), (300, 200), (400, 200)], {"highway": "residential", "maxspeed": "30"}, "Kerkhoflaan")
    residential(t, rng, "village40", y_start=210.0, y_end=390.0, x_v=200.0, v_from=200.0, cycleway=False,
                landuse=False)
    t.area([(12, 212), (388, 212), (388, 388), (12, 388)], {"landuse": "residential"})
    t.area([(20, 20), (190, 20), (190, 190), (20, 190)], {"landuse": "cemetery", "name": "Algemene Begraafplaats Demodorp"})
    pi = t.parcel(box(30, 30, 180, 180))
    t.plots.append({"case": "inside_cemetery", "parcel": pi, "expected": "excluded:cemetery",
                    "owner": ("municipality", OWNERS["municipality"]),
                    "note": "the cemetery grounds (150 m x 150 m), entirely inside landuse=cemetery"})
    t.area([(215, 20), (385, 20), (385, 185), (215, 185)], {"leisure": "park", "name": "Oosterpark"})
    t.street([(300, 200), (300, 120), (250, 60), (250, 0)], {"highway": "footway"}, None)
    return t


def residential_core(rng, label: str, profile: str, school: str | None = None, newbuild: bool = False,
                     oneway: Iterable[int] = ()) -> Tile:
    t = Tile("residential", label)
    reserve = {(0, 1): _school(school, "node")} if school else None
    force = {(1, 1, 0): "newbuild"} if newbuild else None
    residential(t, rng, profile, reserve=reserve, force=force, oneway=oneway)
    return t


# ---------------------------------------------------------------------------------------------
# the plan: which cell holds what
# ---------------------------------------------------------------------------------------------
CORE_CELLS = [  # (c, r, builder key)
    (0, 0, "res:zuidwijk"), (1, 0, "res:molenwijk"), (2, 0, "cemetery"),
    (0, 1, "res:westwijk"), (1, 1, "centre"), (2, 1, "offices"),
    (0, 2, "res:noordwijk"), (1, 2, "industry"), (2, 2, "plots"),
]
N_DENSE_VARIANTS = 8


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


def plan_cells(seed: int, units: int | None, core: dict[str, Frozen], variants: list[Frozen]) -> tuple[list[Cell], dict]:
    cells = [Cell(c, r, key, i, TOWN, -1) for i, (c, r, key) in enumerate(CORE_CELLS)]
    core_units = sum(core[k].n_vbo for _, _, k in CORE_CELLS)
    info = {"core_units": core_units, "units_requested": units, "extra_cells": 0}
    if not units or units <= core_units:
        if units:
            log.warning("the core town alone has %d units (asked for %d); not scaling", core_units, units)
        return cells, info
    rng = np.random.default_rng([seed, 3])
    need = units - core_units
    chosen: list[int] = []
    total = 0
    while True:
        k = int(rng.integers(0, len(variants)))
        n = variants[k].n_vbo
        if total + n / 2 > need:
            break
        chosen.append(k)
        total += n
    side = 3
    while side * side - 9 < len(chosen):
        side += 1
    slots = [(c, r) for r in range(2, 2 - side, -1) for c in range(2, 2 - side, -1) if not (c >= 0 and r >= 0)]
    for e, (k, (c, r)) in enumerate(zip(chosen, slots)):
        g = e // 25
        cells.append(Cell(c, r, f"variant:{k}", len(cells), woonplaats_name(g), g))
    info["extra_cells"] = len(chosen)
    return cells, info


def woonplaats_name(g: int) -> str:
    n = len(WOONPLAATS_BASES) * len(WOONPLAATS_PREFIXES)
    base = WOONPLAATS_BASES[g % len(WOONPLAATS_BASES)]
    pre = WOONPLAATS_PREFIXES[(g // len(WOONPLAATS_BASES)) % len(WOONPLAATS_PREFIXES)]
    name = pre + base
    return name if g < n else f"{name} {g // n + 1}"


# ---------------------------------------------------------------------------------------------
# instantiation: a frozen tile at its place, with identifiers, names and dates
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# GeoPackage writing (streamed record batches)
# ---------------------------------------------------------------------------------------------
def _batch(layer: str, cols: dict[str, np.ndarray]) -> pa.RecordBatch:
    schema = SCHEMAS[layer]
    arrays = []
    for fld in schema:
        v = cols[fld.name]
        if fld.name in ("geom", "geometry"):
            arrays.append(pa.array(shapely.to_wkb(v), type=pa.binary()))
        elif fld.type == pa.date32():
            arrays.append(pa.array(np.asarray(v, dtype=np.int32), type=pa.int32()).cast(pa.date32()))
        elif fld.type == pa.int32():
            v = np.asarray(v, dtype=np.int64)
            mask = v < 0 if fld.name in ("oppervlakte_min", "oppervlakte_max") else None
            arrays.append(pa.array(v.astype(np.int32), type=pa.int32(), mask=mask))
        else:
            arrays.append(pa.array(list(v), type=pa.string()))
    return pa.record_batch(arrays, schema=schema)


def _concat(parts: list[dict]) -> dict[str, np.ndarray]:
    keys = parts[0].keys()
    return {k: np.concatenate([np.asarray(p[k]) for p in parts]) for k in keys}


def layer_batches(layer: str, cells: list[Cell], ctx_factory: Callable[[], Context], chunk_rows: int,
                  on_placed: Callable[[Placed], None] | None = None) -> Iterator[pa.RecordBatch]:
    part = {"pand": "pand", "verblijfsobject": "vbo", "perceel": "parcel"}[layer]
    ctx = ctx_factory()
    buf: list[dict] = []
    rows = 0
    for cell in cells:
        pl = place(cell, ctx, {part})
        if on_placed is not None:
            on_placed(pl)
        cols = getattr(pl, part)
        n = len(cols["identificatie"])
        if not n:
            continue
        if layer in ("pand", "verblijfsobject"):
            cols = dict(cols)
            cols["rdf_seealso"] = np.array([RDF.format(kind=layer, id=i) for i in cols["identificatie"]], dtype=object)
        buf.append(cols)
        rows += n
        if rows >= chunk_rows:
            yield _batch(layer, _concat(buf))
            buf, rows = [], 0
    if buf:
        yield _batch(layer, _concat(buf))


def write_layer(path: Path, layer: str, batches: Iterator[pa.RecordBatch], geometry_type: str) -> None:
    schema = SCHEMAS[layer]
    geom_name = "geometry" if layer == "perceel" else "geom"
    reader = pa.RecordBatchReader.from_batches(schema, batches)
    pyogrio.write_arrow(reader, path, layer=layer, driver="GPKG", geometry_name=geom_name,
                        geometry_type=geometry_type, crs=CRS, layer_options={"GEOMETRY_NAME": geom_name})


# ---------------------------------------------------------------------------------------------
# OSM
# ---------------------------------------------------------------------------------------------
def line_class(axis: str, i: int, extent: tuple[int, int]) -> tuple[str, str]:
    """Name and highway class of lattice line ``i`` (x = 400 i for axis 'v', y = 400 i for 'h')."""
    core = CORE_V_LINES if axis == "v" else CORE_H_LINES
    if i in core:
        return core[i]
    hw = "tertiary" if i % 4 == 0 or i in extent else "residential"
    return LINE_NAMES[(i * (3 if axis == "v" else 5)) % len(LINE_NAMES)], hw


@dataclass
class OsmCollector:
    streets: list = field(default_factory=list)     # (int cm coords (n,2), tags)
    ports: dict = field(default_factory=dict)       # edge key -> set of positions (cm along the edge)
    edges: set = field(default_factory=set)
    pois: list = field(default_factory=list)        # (x_cm, y_cm, tags)
    areas: list = field(default_factory=list)       # (ring cm (n,2), tags)

    def add_cell(self, pl: Placed) -> None:
        c, r = pl.cell.c, pl.cell.r
        ox, oy = pl.offset
        for key in (("h", c, r), ("h", c, r + 1), ("v", c, r), ("v", c + 1, r)):
            self.edges.add(key)
        for coords, tags, name in pl.frozen.tile.streets:
            loc = np.asarray(coords)
            cm = np.round((loc + (ox, oy)) * 100).astype(np.int64)
            tags = dict(tags)
            if name:
                tags["name"] = pl.slot_names.get(name, name)
            self.streets.append((cm, tags))
            for (lx, ly), (gx, gy) in zip(coords, cm.tolist()):
                if ly == 0 and 0 <= lx <= TILE:
                    self.ports.setdefault(("h", c, r), set()).add(gx)
                elif ly == TILE and 0 <= lx <= TILE:
                    self.ports.setdefault(("h", c, r + 1), set()).add(gx)
                elif lx == 0 and 0 <= ly <= TILE:
                    self.ports.setdefault(("v", c, r), set()).add(gy)
                elif lx == TILE and 0 <= ly <= TILE:
                    self.ports.setdefault(("v", c + 1, r), set()).add(gy)
        for x, y, tags in pl.frozen.tile.pois:
            self.pois.append((int(round((x + ox) * 100)), int(round((y + oy) * 100)), tags))
        for ring, tags in pl.frozen.tile.areas:
            cm = np.round((np.asarray(ring) + (ox, oy)) * 100).astype(np.int64)
            self.areas.append((cm, tags))

    def finish(self) -> None:
        """Add the lattice roads (with every port as a node), road extensions, bus stops and the railway."""
        cs = [k[1] for k in self.edges]
        rs = [k[2] for k in self.edges]
        cmin, cmax, rmin, rmax = min(cs), max(cs), min(rs), max(rs)  # outermost lattice lines
        lattice = []
        for key in sorted(self.edges):
            axis, c, r = key
            if axis == "h":
                name, hw = line_class("h", r, (rmin, rmax))
                a = (ORIGIN_X + c * TILE) * 100
                b = a + TILE * 100
                pos = sorted({a, b} | {p for p in self.ports.get(key, ()) if a <= p <= b})
                y = (ORIGIN_Y + r * TILE) * 100
                cm = np.array([(p, y) for p in pos], dtype=np.int64)
            else:
                name, hw = line_class("v", c, (cmin, cmax))
                a = (ORIGIN_Y + r * TILE) * 100
                b = a + TILE * 100
                pos = sorted({a, b} | {p for p in self.ports.get(key, ()) if a <= p <= b})
                x = (ORIGIN_X + c * TILE) * 100
                cm = np.array([(x, p) for p in pos], dtype=np.int64)
            tags = {"highway": hw, "name": name, "maxspeed": {"secondary": "80", "tertiary": "50"}.get(hw, "30")}
            if hw == "secondary":
                tags["ref"] = "N999"
            lattice.append((key, cm, tags))
        self.streets = [(cm, tags) for _, cm, tags in lattice] + self.streets
        # the Provincialeweg leaves the town east and west
        y = (ORIGIN_Y + 2 * TILE) * 100
        xe = (ORIGIN_X + cmax * TILE) * 100
        xw = (ORIGIN_X + cmin * TILE) * 100
        prov = {"highway": "secondary", "name": "Provincialeweg", "ref": "N999", "maxspeed": "80"}
        self.streets.append((np.array([(xe, y), (xe + 20000, y), (xe + 40000, y)], dtype=np.int64), prov))
        self.streets.append((np.array([(xw - 40000, y), (xw - 20000, y), (xw, y)], dtype=np.int64), prov))
        # bus stops beside the main roads
        stops = []
        for key, cm, tags in lattice:
            if tags["highway"] == "secondary" or (tags["highway"] == "tertiary" and (key[1] + key[2]) % 2 == 0):
                mx, my = cm[0] + (cm[-1] - cm[0]) / 2
                dx, dy = (0, 900) if key[0] == "h" else (900, 0)
                sgn = 1 if (key[1] + key[2]) % 2 == 0 else -1
                seen = sum(1 for _, _, s in stops if s["name"].startswith(f"{TOWN}, {tags['name']}"))
                st = {"highway": "bus_stop", "bus": "yes",
                      "name": f"{TOWN}, {tags['name']}" + (f" {seen + 1}" if seen else "")}
                if len(stops) % 2 == 0:
                    st["public_transport"] = "platform"
                stops.append((int(mx + sgn * dx), int(my + sgn * dy), st))
        self.pois.extend(stops)
        # the railway north of the town
        yr = (ORIGIN_Y + rmax * TILE + 45) * 100
        self.railway = (np.array([((ORIGIN_X + cmin * TILE - 300) * 100, yr), ((ORIGIN_X + cmax * TILE + 300) * 100, yr)],
                                 dtype=np.int64), {"railway": "rail", "name": "Spoorlijn Demodorp", "usage": "branch",
                                                   "gauge": "1435"})

    def noise_sources(self) -> list[tuple[float, float, float, float, str]]:
        out = []
        for cm, tags in self.streets:
            hw = tags.get("highway")
            if hw in ("secondary", "tertiary"):
                xy = cm / 100.0
                for (ax, ay), (bx, by) in zip(xy[:-1], xy[1:]):
                    out.append((ax, ay, bx, by, hw))
        xy = self.railway[0] / 100.0
        out.append((xy[0][0], xy[0][1], xy[1][0], xy[1][1], "railway"))
        return out


def write_osm(path: Path, osm: OsmCollector) -> dict:
    import osmium
    from osmium.osm.mutable import Node, Way

    to_wgs = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    # street nodes: shared wherever coordinates coincide (to the centimetre)
    all_cm = np.concatenate([cm for cm, _ in osm.streets] + [osm.railway[0]])
    keys = all_cm[:, 0] * (1 << 32) + all_cm[:, 1]
    uniq, inv = np.unique(keys, return_inverse=True)
    n_street = len(uniq)
    node_cm = np.stack([uniq >> 32, uniq & ((1 << 32) - 1)], axis=1)
    area_node_ids = []
    nid = n_street
    for ring, _ in osm.areas:
        ids = list(range(nid + 1, nid + 1 + len(ring)))
        nid += len(ring)
        area_node_ids.append(ids)
    poi_ids = list(range(nid + 1, nid + 1 + len(osm.pois)))
    # order: street nodes, area nodes, POI nodes
    area_cm = [tuple(p) for ring, _ in osm.areas for p in ring.tolist()]
    poi_cm = [(x, y) for x, y, _ in osm.pois]
    xy = np.concatenate([node_cm, np.array(area_cm, dtype=np.int64).reshape(-1, 2),
                         np.array(poi_cm, dtype=np.int64).reshape(-1, 2)]) / 100.0
    lon, lat = to_wgs.transform(xy[:, 0], xy[:, 1])
    lon, lat = np.round(lon, 7), np.round(lat, 7)
    h = osmium.io.Header()
    h.set("generator", "plekzoeker demo generator (fictitious town Demodorp)")
    h.add_box(osmium.osm.Box(float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())))
    meta = dict(version=1, timestamp=OSM_TIMESTAMP, changeset=1, uid=1, user="demodorp")
    n_nodes = len(xy)
    tagged_nodes = {pid: tags for pid, (_, _, tags) in zip(poi_ids, osm.pois)}
    w = osmium.SimpleWriter(str(path), header=h, overwrite=True)
    try:
        lon_l, lat_l = lon.tolist(), lat.tolist()
        for i in range(n_nodes):
            nid = i + 1
            w.add_node(Node(id=nid, location=(lon_l[i], lat_l[i]), tags=tagged_nodes.get(nid, {}), **meta))
        wid = 0
        pos = 0
        n_highway = 0
        for cm, tags in osm.streets:
            ids = (inv[pos:pos + len(cm)] + 1).tolist()
            pos += len(cm)
            ids = [v for k, v in enumerate(ids) if k == 0 or v != ids[k - 1]]
            wid += 1
            w.add_way(Way(id=wid, nodes=ids, tags=tags, **meta))
            n_highway += 1
        rail_ids = (inv[pos:pos + len(osm.railway[0])] + 1).tolist()
        wid += 1
        w.add_way(Way(id=wid, nodes=rail_ids, tags=osm.railway[1], **meta))
        for ids, (_, tags) in zip(area_node_ids, osm.areas):
            wid += 1
            w.add_way(Way(id=wid, nodes=ids + [ids[0]], tags=tags, **meta))
    finally:
        w.close()
    street_nodes_rd = node_cm / 100.0
    # the intersections of the through roads of the core town, for round-trip checks
    corners = {(ORIGIN_X + i * TILE) * 100 * (1 << 32) + (ORIGIN_Y + j * TILE) * 100 for i in range(4) for j in range(4)}
    check = [{"osm_node_id": int(k + 1), "x": float(node_cm[k, 0] / 100), "y": float(node_cm[k, 1] / 100),
              "lon": float(lon[k]), "lat": float(lat[k])} for k in np.flatnonzero(np.isin(uniq, list(corners)))]
    return {"check_nodes": check, "nodes": n_nodes, "ways": wid, "highway_ways": n_highway, "street_nodes": n_street,
            "street_names": len({t["name"] for _, t in osm.streets if "name" in t}),
            "street_nodes_rd": street_nodes_rd}


# ---------------------------------------------------------------------------------------------
# noise raster
# ---------------------------------------------------------------------------------------------
def noise_grid(bounds: tuple[float, float, float, float], sources) -> tuple[np.ndarray, tuple[float, float]]:
    """Lden (dB) on 10 m cells over ``bounds`` (snapped outward to 10 m); returns (grid, (x0, y1))."""
    c = NOISE_CELL
    x0 = math.floor(bounds[0] / c) * c
    y0 = math.floor(bounds[1] / c) * c
    x1 = math.ceil(bounds[2] / c) * c
    y1 = math.ceil(bounds[3] / c) * c
    nx, ny = int(round((x1 - x0) / c)), int(round((y1 - y0) / c))
    xc = x0 + c / 2 + c * np.arange(nx)
    yc = y1 - c / 2 - c * np.arange(ny)
    energy = np.full((ny, nx), 10 ** (NOISE_BACKGROUND / 10))
    for cls, L0 in NOISE_LEVELS.items():
        dist = np.full((ny, nx), np.inf)
        for ax, ay, bx, by, k in sources:
            if k != cls:
                continue
            c0 = np.searchsorted(xc, min(ax, bx) - NOISE_RANGE)
            c1 = np.searchsorted(xc, max(ax, bx) + NOISE_RANGE)
            r0 = np.searchsorted(-yc, -(max(ay, by) + NOISE_RANGE))
            r1 = np.searchsorted(-yc, -(min(ay, by) - NOISE_RANGE))
            if c1 <= c0 or r1 <= r0:
                continue
            px = xc[c0:c1][None, :]
            py = yc[r0:r1][:, None]
            dx, dy = bx - ax, by - ay
            l2 = dx * dx + dy * dy
            t = np.clip(((px - ax) * dx + (py - ay) * dy) / l2, 0.0, 1.0) if l2 > 0 else 0.0
            d = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
            np.minimum(dist[r0:r1, c0:c1], d, out=dist[r0:r1, c0:c1])
        ok = np.isfinite(dist)
        lev = L0 - 15.0 * np.log10(1.0 + dist[ok] / 8.0) - 0.005 * dist[ok]
        energy[ok] += 10 ** (lev / 10)
    grid = (10 * np.log10(energy)).astype(np.float32)
    return grid, (x0, y1)


def write_noise(path: Path, grid: np.ndarray, origin: tuple[float, float]) -> None:
    import rasterio
    from affine import Affine

    prof = {"driver": "GTiff", "width": grid.shape[1], "height": grid.shape[0], "count": 1, "dtype": "float32",
            "crs": CRS, "transform": Affine(NOISE_CELL, 0.0, origin[0], 0.0, -NOISE_CELL, origin[1]), "nodata": NODATA,
            "compress": "deflate", "predictor": 3, "tiled": grid.shape[0] > 512 and grid.shape[1] > 512}
    if prof["tiled"]:
        prof.update(blockxsize=256, blockysize=256)
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(grid, 1)
        dst.update_tags(AREA_OR_POINT="Area", description="Lden (dB), fictitious demo data", units="dB")


def noise_above(grid: np.ndarray, origin: tuple[float, float], geom, threshold: float):
    """Union of the 10 m cells above ``threshold`` that touch ``geom``'s bounds."""
    x0, y1 = origin
    gx0, gy0, gx1, gy1 = geom.bounds
    c0, c1 = int(math.floor((gx0 - x0) / NOISE_CELL)), int(math.ceil((gx1 - x0) / NOISE_CELL))
    r0, r1 = int(math.floor((y1 - gy1) / NOISE_CELL)), int(math.ceil((y1 - gy0) / NOISE_CELL))
    sub = grid[r0:r1, c0:c1]
    rr, cc = np.nonzero(sub > threshold)
    if not len(rr):
        return shapely.Polygon()
    xs = x0 + (c0 + cc) * NOISE_CELL
    ys = y1 - (r0 + rr) * NOISE_CELL
    return shapely.union_all(shapely.box(xs, ys - NOISE_CELL, xs + NOISE_CELL, ys))


# ---------------------------------------------------------------------------------------------
# planted truth
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# the generator
# ---------------------------------------------------------------------------------------------
def generate_town(outdir: Path, seed: int = 7, units: int | None = None) -> dict:
    """Write the demo town into ``outdir`` (created if needed) and return the manifest (also written)."""
    t_start = time.perf_counter()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    core = build_core(seed)
    variants = build_variants(seed) if units else []
    cells, scale = plan_cells(seed, units, core, variants)
    check_templates(core, variants)
    log.info("demo town: %d cells (%d extra), about %d units", len(cells), scale["extra_cells"],
             scale["core_units"] + sum(variants[int(c.key.split(':')[1])].n_vbo for c in cells if c.group >= 0))

    def ctx_factory():
        return Context(seed, core, variants)

    chunk = 100_000
    osm = OsmCollector()
    core_placed: dict[str, Placed] = {}
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
        if pl.cell.group < 0:
            core_placed[pl.cell.key] = pl

    def on_vbo(pl: Placed):
        counts["verblijfsobjecten"] += len(pl.vbo_ids)
        if pl.cell.group < 0:
            core_placed[pl.cell.key].vbo = pl.vbo

    def on_parcel(pl: Placed):
        counts["percelen"] += len(pl.parcel_ids)
        grow(pl.parcel["geometry"])
        if pl.cell.group < 0:
            core_placed[pl.cell.key].parcel = pl.parcel

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

    manifest = build_truth(outdir, seed, core_placed, osm, noise, origin)
    manifest.update({
        "municipality": MUNICIPALITY, "woonplaats": TOWN, "seed": seed, "units_requested": units,
        "reference_date": REFERENCE_DATE.isoformat(), "crs": CRS,
        "bbox_rd": [round(v, 3) for v in bbox],
        "counts": {**counts, "streets": osm_info["highway_ways"], "street_names": osm_info["street_names"],
                   "osm_nodes": osm_info["nodes"], "osm_ways": osm_info["ways"], "cells": len(cells),
                   "extra_cells": scale["extra_cells"], "noise_cells": int(noise.size)},
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


def build_truth(outdir: Path, seed: int, core: dict[str, Placed], osm: OsmCollector, noise, origin) -> dict:
    """Planted cases with their identifiers, checks of the planted geometry, and the signal CSVs."""
    vacant, occupied = [], []
    rows_vac, rows_est, rows_en, rows_own = [], [], [], []
    rng = np.random.default_rng([seed, 8])
    kvk = iter(int(v) for v in rng.permutation(np.arange(90000000, 90000000 + 5000)))

    def key(pl: Placed, j: int) -> dict:
        v = pl.vbo
        return {"postcode": v["postcode"][j], "huisnummer": int(v["huisnummer"][j]),
                "huisletter": v["huisletter"][j] or "", "toevoeging": v["toevoeging"][j] or ""}

    def row(pl: Placed, j: int, by: str, **extra) -> dict:
        base = {"verblijfsobject_id": "", "postcode": "", "huisnummer": "", "huisletter": "", "toevoeging": ""}
        if by == "id":
            base["verblijfsobject_id"] = pl.vbo["identificatie"][j]
        else:
            base.update(key(pl, j))
        base.update(extra)
        return base

    off = core["offices"]
    source = "Leegstandsregister gemeente Demodorp (test)"
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
                              "vacant": bool(is_vac), **key(off, j)})
            by = "addr" if u.get("reg") == "addr" else "id"
            if u.get("reg"):
                rows_vac.append(row(off, j, by, vacant_since=u["since"].isoformat(), source=source))
            if u.get("est"):
                rows_est.append(row(off, j, "addr" if (k + j) % 5 == 0 else "id", kvk_nummer=str(next(kvk)),
                                    active="true" if u["est"] == "active" else "false"))
            if u.get("energy"):
                kwh = float(rng.uniform(2, 12)) if u["energy"] == "low" else float(rng.uniform(85, 210))
                rows_en.append(row(off, j, "addr" if (k + j) % 4 == 0 else "id", kwh_per_m2=f"{kwh:.1f}"))
        # the expectation follows from the design; check it against the default rules
        if b["expected"] == "occupied":
            assert n_vac == 0, b
            occupied.append(pand_id)
        else:
            exp = ("excluded:demolition" if pstatus == "Sloopvergunning verleend" else
                   "candidate" if vac_area >= ASSUMPTIONS["min_building_area_m2"] else "below_min_area")
            assert exp == b["expected"], (b["case"], exp, vac_area)
            total = sum(u["area"] for u in b["units"])
            conf = sum(c * a for c, a in confs) / sum(a for _, a in confs)
            vacant.append({
                "pand_id": pand_id, "case": b["case"], "expected": b["expected"],
                "vacant_office_area_m2": vac_area, "office_area_m2": total, "n_units": len(b["units"]),
                "n_units_vacant": n_vac, "signals": sig_all, "confidence_default": round(conf, 4),
                "pand_status": pstatus, "address": f"{units_out[0]['postcode']} {units_out[0]['huisnummer']}",
                "street": off.vbo["openbare_ruimte_naam"][b["vbos"][0]], "units": units_out, "note": b["note"],
                "perceel_kadastrale_aanduiding": aanduiding(off, b["parcel"]),
            })
        rows_own.append({"kadastrale_aanduiding": aanduiding(off, b["parcel"]), "verblijfsobject_id": "",
                         "pand_id": "", "owner_name": b["owner"][1], "owner_kind": b["owner"][0]})
        if b["case"] == "occupied_mixed":  # an owner export may also be keyed by building
            rows_own.append({"kadastrale_aanduiding": "", "verblijfsobject_id": "", "pand_id": pand_id,
                             "owner_name": b["owner"][1], "owner_kind": b["owner"][0]})
    # shops, services, industry: active establishments at most of them; one vacant shop in the register
    shops_out = []
    for ck in ("centre", "industry", "res:zuidwijk"):
        pl = core[ck]
        for n, j in enumerate(pl.frozen.tile.shops):
            vid = pl.vbo["identificatie"][j]
            if ck == "centre" and n == 3:
                rows_vac.append(row(pl, j, "addr", vacant_since="2024-04-01", source=source))
                shops_out.append({"verblijfsobject_id": vid, "case": "vacant_shop_in_register",
                                  "gebruiksdoel": pl.vbo["gebruiksdoel"][j],
                                  "note": "winkelfunctie only: not a candidate with the default gebruiksdoelen"})
                continue
            if ck == "centre" and n in (7, 11):
                shops_out.append({"verblijfsobject_id": vid, "case": "shop_without_establishment",
                                  "gebruiksdoel": pl.vbo["gebruiksdoel"][j], "note": "no KvK row"})
                continue
            rows_est.append(row(pl, j, "addr" if n % 4 == 1 else "id", kvk_nummer=str(next(kvk)), active="true"))
    # plots
    water = [shapely.Polygon(ring / 100.0) for ring, tags in osm.areas if tags.get("natural") == "water"]
    classes = {name.split(":", 1)[1]: [shapely.Polygon(ring / 100.0) for ring, tags in osm.areas if tags.get(k) == v]
               for name, (k, v) in EXCLUDED_CLASSES.items()}
    plots = []
    for ck in ("plots", "cemetery"):
        pl = core[ck]
        built_mask = np.isin(pl.pand["status"], BUILT_STATUSES)
        panden = pl.pand["geom"][built_mask]
        for p in pl.frozen.tile.plots:
            i = p["parcel"]
            g = pl.parcel["geometry"][i]
            res = evaluate_plot(g, panden, water, classes, noise, origin)
            outcome = PLOT_OUTCOME[p["expected"]]
            assert res["outcome"] == outcome, (p["case"], res)
            if p["expected"] in ("water", "noise") or p["expected"] in EXCLUDED_CLASSES:
                main = max(res["removed_m2"], key=res["removed_m2"].get)
                assert main == p["expected"].split(":")[-1], res
                k, v = EXCLUDED_CLASSES.get(p["expected"], ("natural", "water") if p["expected"] == "water" else (None, None))
                # what detection records as the reason (result.exclusion, "removed" in the evidence)
                res["expected_reason"] = f"osm:{k}={v}" if k else "raster:noise_lden>65"
            kad = aanduiding(pl, i)
            plots.append({"perceel_id": pl.parcel_ids[i], "kadastrale_aanduiding": kad, "case": p["case"],
                          "area_m2": round(float(g.area), 3), "kadastrale_grootte": int(pl.parcel["kadastraleGrootteWaarde"][i]),
                          "expected": p["expected"], "expected_outcome": outcome, **res,
                          "owner_kind": p["owner"][0], "note": p["note"]})
            rows_own.append({"kadastrale_aanduiding": kad, "verblijfsobject_id": "", "pand_id": "",
                             "owner_name": p["owner"][1], "owner_kind": p["owner"][0]})
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


# ---------------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m plekzoeker.demo.generate",
        description="Generate the fictitious demo town Demodorp (GM9999) in the real delivery formats "
                    "(BAG/BRK GeoPackages, OSM PBF, signal CSVs, noise GeoTIFF) plus manifest.json.")
    ap.add_argument("outdir", type=Path, help="directory to write the files into (created if needed)")
    ap.add_argument("--seed", type=int, default=7, help="random seed; the same seed gives the same data (default 7)")
    ap.add_argument("--units", type=int, default=None,
                    help="scale to about this many verblijfsobjecten by adding neighbourhoods (benchmarks)")
    ap.add_argument("--quiet", action="store_true", help="no progress messages")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    t0 = time.perf_counter()
    m = generate_town(args.outdir, seed=args.seed, units=args.units)
    print(f"Demodorp written to {args.outdir} in {time.perf_counter() - t0:.1f} s: {json.dumps(m['counts'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
