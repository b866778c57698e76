"""High-voltage lines (OSM ``power=line``) from an OSM file, for core.power_line.

A second, light pass over the same file the OSM reader reads (sources/osm_read.py): only ways with
a ``power`` key pass osmium's filter, so the cost is the node-location pass (about the time of the
main read's first phase) and the lines themselves. ``power=minor_line`` (distribution) and cables
(underground) are not high-voltage overhead lines and are not read. Coordinates are projected to RD
New with the OSM reader's transformer; a line with fewer than two located nodes is skipped.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from plekzoeker.area import Area
from plekzoeker.errors import SourceError

log = logging.getLogger(__name__)
COLUMNS = ["osm_id", "voltage", "geometry"]


def read_power_lines(path: str | os.PathLike[str], area: Area | None = None,
                     location_storage: str = "flex_mem") -> gpd.GeoDataFrame:
    """The ``power=line`` ways of an OSM PBF/XML file as LineStrings in EPSG:28992."""
    import osmium
    import osmium.filter

    from .osm_build import to_rd
    from .osm_read import sniff_format

    p = Path(path)
    fmt = sniff_format(p)
    ids, volts, lines = [], [], []
    try:
        fp = (osmium.FileProcessor(osmium.io.File(str(p), fmt), osmium.osm.NODE | osmium.osm.WAY)
              .with_locations(location_storage)
              .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
              .with_filter(osmium.filter.TagFilter(("power", "line"))))
        for o in fp:
            xy = [(n.lon, n.lat) for n in o.nodes if n.location.valid()]
            if len(xy) < 2:
                continue
            ids.append(f"w{o.id}")
            volts.append(o.tags.get("voltage"))
            lines.append(np.asarray(xy, dtype=float))
    except (RuntimeError, OSError, EOFError) as exc:  # osmium's io/pbf/xml/gzip errors
        raise SourceError(p, f"truncated or corrupt OSM file ({str(exc).strip() or type(exc).__name__})") from exc
    tr = to_rd()
    geoms = [shapely.linestrings(np.column_stack(tr.transform(c[:, 0], c[:, 1]))) for c in lines]
    gdf = gpd.GeoDataFrame({"osm_id": ids, "voltage": volts}, geometry=geoms, crs=28992)
    mask = area.mask() if area is not None else None
    if mask is not None and len(gdf):
        gdf = gdf[shapely.intersects(mask, gdf.geometry.values)].reset_index(drop=True)
    log.info("%s: %d power line(s)", p, len(gdf))
    return gdf[COLUMNS]
