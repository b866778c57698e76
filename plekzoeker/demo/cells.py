"""The special cells of the core town: the centre (shops, services), the office park (the planted
vacant buildings), industry with the station, the open plots (the planted plots) and the cemetery
with its park; plus the residential cells of the core.

Each builder returns a :class:`~plekzoeker.demo.tiles.Tile` whose planted cases carry their
expected outcome (``offices``, ``plots``); :mod:`plekzoeker.demo.truth` checks the expectations
against the default rules when the manifest is written.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

from plekzoeker.demo.constants import COMPANIES, IN_USE, KANTOOR, LETTERS, NATURAL_PERSONS, OWNERS, VBO_IN_USE
from plekzoeker.demo.tiles import Tile, box, points_inside, residential, school_spec


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
    school_spec("Basisschool De Regenboog", "way", "Kerkstraat", 1)(t, rng, (206, 10, 390, 110), {"segment": 1})
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
            letter_k = LETTERS[k] if spec["style"] == "letter" and len(units) > 1 else None
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
    reserve = {(0, 1): school_spec(school, "node")} if school else None
    force = {(1, 1, 0): "newbuild"} if newbuild else None
    residential(t, rng, profile, reserve=reserve, force=force, oneway=oneway)
    return t
