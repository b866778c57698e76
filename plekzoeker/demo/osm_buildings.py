"""The BAG import of the demo PBF: one closed building way per pand, one address node per verblijfsobject.

Dutch OSM is dominated by the BAG import (~10 M building ways, ~9 M address nodes), so a reader that
is fast on streets alone can still be slow on a real extract. :class:`BuildingCollector` gathers the
panden and units cell by cell, as the GeoPackage passes stream them, into compact numpy chunks
(integer centimetre coordinates, integer ids, codes into one string table) — no Python object per
building or address survives the cell — and :func:`write_nodes` / :func:`write_ways` write them
after the town's own nodes and ways (a PBF holds all nodes before all ways).

Tags, as the BAG import sets them:

* building way: ``building`` from the pand's use and unit count (``house`` = one dwelling,
  ``apartments`` = several, ``retail``, ``office``, ``industrial``, ``school``, ``yes`` otherwise),
  ``ref:bag`` = the pand id without leading zeros, ``start_date`` = bouwjaar, ``source=BAG``.
  ``building:levels=2`` only on every fifth single-dwelling house of the *added* residential
  neighbourhoods (``units=N``; cells ``variant:<i>``, not the copies of the office and plot cells) —
  those houses have two storeys by construction (tiles.py's rows), and no planted case lies there,
  so the floors facts of every planted candidate (3DBAG or unknown) are unchanged.
  Demolished and never-built panden (:data:`NOT_STANDING`) are not in OSM and are skipped;
  ``Bouw gestart`` and ``Sloopvergunning verleend`` panden stand, so they are written.
* address node at the unit's point: ``addr:street``, ``addr:housenumber`` (number + huisletter),
  ``addr:unit`` (toevoeging, when present), ``addr:postcode``, ``addr:city``, ``ref:bag`` = the
  verblijfsobject id without leading zeros.

Corners shared by neighbouring panden of a cell (terraced houses) are one node, as in the import.
Ids continue after the town's own nodes and ways, in cell order, so the output is deterministic.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from plekzoeker.demo.identifiers import Placed

NOT_STANDING = frozenset({"Pand gesloopt", "Niet gerealiseerd pand", "Bouwvergunning verleend"})
BUILDING_VALUES = ("yes", "house", "apartments", "retail", "office", "industrial", "school")
LEVELS_EVERY = 5  # every fifth single-dwelling house of an added neighbourhood carries building:levels=2


def building_value(doel: str | None, n_vbo: int) -> int:
    """Index into :data:`BUILDING_VALUES` for a pand's gebruiksdoelen and unit count."""
    uses = set((doel or "").split(","))
    if uses == {"woonfunctie"}:
        return 1 if n_vbo == 1 else 2
    if "winkelfunctie" in uses:
        return 3
    if "kantoorfunctie" in uses:
        return 4
    if "industriefunctie" in uses:
        return 5
    if "onderwijsfunctie" in uses:
        return 6
    return 0


@dataclass
class _Panden:
    xy: np.ndarray        # (n_nodes, 2) int32 cm, the cell's unique corners
    refs: np.ndarray      # int32 index into xy, ring by ring, closing node not repeated
    ring_len: np.ndarray  # int32 corners per ring
    ids: np.ndarray       # int64 pand id
    year: np.ndarray      # int16 bouwjaar
    kind: np.ndarray      # uint8 index into BUILDING_VALUES
    levels: np.ndarray    # int8, -1 = no building:levels


@dataclass
class _Units:
    xy: np.ndarray        # (n, 2) int32 cm
    ids: np.ndarray       # int64 verblijfsobject id
    codes: np.ndarray     # (n, 6) int32: street, house number, letter, toevoeging, postcode, city


@dataclass
class BuildingCollector:
    """Panden and units of the whole town as compact per-cell arrays (see the module docstring)."""

    panden: list[_Panden] = field(default_factory=list)
    units: list[_Units] = field(default_factory=list)
    strings: dict[str, int] = field(default_factory=lambda: {"": 0})

    def _code(self, values: Any) -> np.ndarray:
        s = self.strings
        return np.fromiter((s.setdefault("" if v is None else str(v), len(s)) for v in values), dtype=np.int32,
                           count=len(values))

    def add_panden(self, pl: Placed) -> None:
        p = pl.pand
        if p is None or not len(p["identificatie"]):
            return
        keep = np.fromiter((s not in NOT_STANDING for s in p["status"]), dtype=bool, count=len(p["identificatie"]))
        if not keep.any():
            return
        rings = shapely.get_exterior_ring(p["geom"][keep])
        coords = shapely.get_coordinates(rings)
        n = shapely.get_num_coordinates(rings)
        last = np.cumsum(n) - 1  # the closing point of each ring repeats its first
        cm = np.round(np.delete(coords, last, axis=0) * 100).astype(np.int64)
        keys = cm[:, 0] * (1 << 32) + cm[:, 1]
        uniq, inv = np.unique(keys, return_inverse=True)
        xy = np.stack([uniq >> 32, uniq & ((1 << 32) - 1)], axis=1).astype(np.int32)
        nvbo = np.asarray(p["aantal_verblijfsobjecten"])[keep]
        kind = np.array([building_value(d, int(k)) for d, k in zip(np.asarray(p["gebruiksdoel"])[keep], nvbo)],
                        dtype=np.uint8)
        levels = np.full(len(kind), -1, dtype=np.int8)
        if pl.cell.key.startswith("variant:"):  # an added neighbourhood: its single-dwelling houses have two storeys
            levels[np.flatnonzero(kind == 1)[::LEVELS_EVERY]] = 2
        self.panden.append(_Panden(xy, inv.astype(np.int32), (n - 1).astype(np.int32),
                                   np.asarray(p["identificatie"])[keep].astype(np.int64),
                                   np.asarray(p["bouwjaar"])[keep].astype(np.int16), kind, levels))

    def add_units(self, pl: Placed) -> None:
        v = pl.vbo
        if v is None or not len(v["identificatie"]):
            return
        xy = np.round(shapely.get_coordinates(v["geom"]) * 100).astype(np.int32)
        codes = np.stack([self._code(v["openbare_ruimte_naam"]), np.asarray(v["huisnummer"], dtype=np.int32),
                          self._code(v["huisletter"]), self._code(v["toevoeging"]), self._code(v["postcode"]),
                          self._code(v["woonplaats_naam"])], axis=1)
        self.units.append(_Units(xy, np.asarray(v["identificatie"]).astype(np.int64), codes))

    @property
    def n_building_nodes(self) -> int:
        return sum(len(p.xy) for p in self.panden)

    @property
    def n_buildings(self) -> int:
        return sum(len(p.ids) for p in self.panden)

    @property
    def n_addresses(self) -> int:
        return sum(len(u.ids) for u in self.units)

    @property
    def n_levels(self) -> int:
        return sum(int(np.count_nonzero(p.levels >= 0)) for p in self.panden)


def write_nodes(w: Any, bc: BuildingCollector, first_id: int, to_wgs: Any, meta: dict) -> int:
    """Write the building corners, then the address nodes, with ids from ``first_id``; return the next free id."""
    from osmium.osm.mutable import Node

    nid = first_id
    for p in bc.panden:
        for lon, lat in _lonlat(p.xy, to_wgs):
            w.add_node(Node(id=nid, location=(lon, lat), **meta))
            nid += 1
    table = list(bc.strings)
    for u in bc.units:
        codes = u.codes.tolist()
        for (lon, lat), vid, (st, hn, letter, toev, pc, city) in zip(_lonlat(u.xy, to_wgs), u.ids.tolist(), codes):
            tags = {"addr:street": table[st], "addr:housenumber": f"{hn}{table[letter]}"}
            if toev:
                tags["addr:unit"] = table[toev]
            tags.update({"addr:postcode": table[pc], "addr:city": table[city], "ref:bag": str(vid)})
            w.add_node(Node(id=nid, location=(lon, lat), tags=tags, **meta))
            nid += 1
    return nid


def write_ways(w: Any, bc: BuildingCollector, first_node_id: int, first_way_id: int, meta: dict) -> int:
    """Write one closed way per pand (node ids as :func:`write_nodes` gave them); return the next free way id."""
    from osmium.osm.mutable import Way

    wid, base = first_way_id, first_node_id
    for p in bc.panden:
        ids = (p.refs.astype(np.int64) + base).tolist()
        base += len(p.xy)
        pos = 0
        for n, pid, year, kind, lv in zip(p.ring_len.tolist(), p.ids.tolist(), p.year.tolist(), p.kind.tolist(),
                                         p.levels.tolist()):
            ring = ids[pos:pos + n]
            pos += n
            tags = {"building": BUILDING_VALUES[kind], "ref:bag": str(pid), "source": "BAG", "start_date": str(year)}
            if lv >= 0:
                tags["building:levels"] = str(lv)
            w.add_way(Way(id=wid, nodes=ring + ring[:1], tags=tags, **meta))
            wid += 1
    return wid


def _lonlat(xy: np.ndarray, to_wgs: Any) -> list[tuple[float, float]]:
    lon, lat = to_wgs.transform(xy[:, 0] / 100.0, xy[:, 1] / 100.0)
    return list(zip(np.round(lon, 7).tolist(), np.round(lat, 7).tolist()))
