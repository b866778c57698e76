"""The OpenStreetMap extract ``town.osm.pbf``: streets, POIs and land use collected cell by cell
(:class:`OsmCollector`), plus the BAG import's buildings and address nodes
(:mod:`~plekzoeker.demo.osm_buildings`), and written as a PBF with fixed ids, versions and timestamp
(:data:`~plekzoeker.demo.constants.OSM_TIMESTAMP`), so the same seed gives the same bytes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pyproj import Transformer

from plekzoeker.demo.constants import CORE_H_LINES, CORE_V_LINES, CRS, LINE_NAMES, ORIGIN_X, ORIGIN_Y, OSM_TIMESTAMP, TILE, TOWN
from plekzoeker.demo.identifiers import Placed
from plekzoeker.demo.osm_buildings import BuildingCollector, write_nodes, write_ways


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
    buildings: BuildingCollector = field(default_factory=BuildingCollector)  # panden and units (BAG import)

    def add_cell(self, pl: Placed) -> None:
        self.buildings.add_panden(pl)
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

    def add_units(self, pl: Placed) -> None:
        """The cell's verblijfsobjecten as address nodes."""
        self.buildings.add_units(pl)

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
        first_building_node = n_nodes + 1
        n_nodes = write_nodes(w, osm.buildings, first_building_node, to_wgs, meta) - 1
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
        wid = write_ways(w, osm.buildings, first_building_node, wid + 1, meta) - 1
    finally:
        w.close()
    street_nodes_rd = node_cm / 100.0
    # the intersections of the through roads of the core town, for round-trip checks
    corners = {(ORIGIN_X + i * TILE) * 100 * (1 << 32) + (ORIGIN_Y + j * TILE) * 100 for i in range(4) for j in range(4)}
    check = [{"osm_node_id": int(k + 1), "x": float(node_cm[k, 0] / 100), "y": float(node_cm[k, 1] / 100),
              "lon": float(lon[k]), "lat": float(lat[k])} for k in np.flatnonzero(np.isin(uniq, list(corners)))]
    return {"check_nodes": check, "nodes": n_nodes, "ways": wid, "highway_ways": n_highway, "street_nodes": n_street,
            "street_names": len({t["name"] for _, t in osm.streets if "name" in t}),
            "street_nodes_rd": street_nodes_rd, "building_ways": osm.buildings.n_buildings,
            "building_nodes": osm.buildings.n_building_nodes, "address_nodes": osm.buildings.n_addresses,
            "building_levels": osm.buildings.n_levels}
