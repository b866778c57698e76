"""Load OpenStreetMap (street graph, POIs, land use, power lines, building levels) into core.network_*, core.poi,
core.landuse, core.power_line and core.osm_building."""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import geopandas as gpd
import sqlalchemy as sa
from shapely import points

from plekzoeker.area import Area
from plekzoeker.db.guards import LoadPolicy
from plekzoeker.db.load import LoadStats, TableSpec, load_input

from .bag import _area_options

# Guards: OSM rows outside the RD New domain (an extract reaching into Germany or Belgium) are kept with a
# warning, not rejected, since edges reference nodes; a file mostly outside the Netherlands is refused.
# The reader itself drops what lies outside the area, with a warning saying the share dropped.
NODE = TableSpec(table="network_node", columns=("node_id", "input_id"), geom_kind="point", id_column="node_id",
                 extent="warn")
EDGE = TableSpec(table="network_edge",
                 columns=("u", "v", "length_m", "highway", "walk", "bike", "oneway_bike", "osm_way_id", "input_id"),
                 geom_kind="linestring", checks=(("length_m IS NULL OR length_m < 0", "edge without a length"),),
                 indexes=("(u)", "(v)"), extent="warn")
POI = TableSpec(table="poi", columns=("category", "name", "osm_id", "tags", "input_id"), geom_kind="point",
                indexes=("(category)",), required=False, extent="warn")
LANDUSE = TableSpec(table="landuse", columns=("osm_id", "key", "value", "input_id"), geom_kind="multipolygon",
                    indexes=("(key, value)",), required=False, extent="warn")
POWER_LINE = TableSpec(table="power_line", columns=("osm_id", "voltage", "input_id"), geom_kind="linestring",
                       required=False, extent="warn", duplicate_geometry=False)  # sources/osm_ways_read.py
OSM_BUILDING = TableSpec(table="osm_building", columns=("osm_id", "pand_id", "levels", "height_m", "input_id"),
                         indexes=("(pand_id)",),
                         geom_kind="point", required=False, extent="warn", duplicate_geometry=False,
                         # a fallback fact source: an extract with fewer tagged buildings (another area, a mapper
                         # removing levels) is no sign of a broken file; the street network's guard catches that
                         shrink_guard=False)


def categories_from_config(cfg: dict) -> dict[str, list[str]]:
    """category -> list of 'key=value' tag filters (and '!key=value' vetoes from ``unless``), from the
    access section of the config."""
    return {name: list(c["tags"]) + [f"!{t}" for t in c.get("unless") or []]
            for name, c in cfg["access"]["categories"].items()}


def load_osm(engine: sa.Engine, path: str | Path, categories: dict[str, list[str]] | None = None,
             area: Area | None = None, force: bool = False, policy: LoadPolicy | None = None) -> LoadStats:
    """Read an .osm.pbf / .osm file with pyosmium and load graph, POIs and land use atomically."""
    from .osm_read import read_osm  # the reader pulls in GDAL/osmium: import on use
    area = area or Area()

    @cache
    def data():
        return read_osm(path, categories=categories, area=area)

    def nodes():
        d = data()
        yield gpd.GeoDataFrame({"node_id": d.nodes["node_id"].to_numpy()},
                               geometry=points(d.nodes["x"].to_numpy(), d.nodes["y"].to_numpy()), crs=28992)

    def edges():
        yield gpd.GeoDataFrame(data().edges, geometry="geometry", crs=28992)

    def pois():
        p = data().pois
        p = p.assign(tags=p["tags_json"]) if "tags_json" in p.columns else p.assign(tags=json.dumps({}))
        yield p

    def landuse():
        yield data().landuse

    def power():
        yield data().ways.power_lines  # read in the same pass as the graph (sources/osm_ways_read.py)

    def buildings():
        yield data().ways.buildings

    return load_input(engine, "osm", path, {NODE: nodes, EDGE: edges, POI: pois, LANDUSE: landuse, POWER_LINE: power,
                                            OSM_BUILDING: buildings},
                      options={"area": _area_options(area), "categories": categories}, force=force,
                      policy=(policy or LoadPolicy.default()).for_area(area))
