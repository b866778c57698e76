"""Load BGT surfaces (water, roads, terrain, buildings) into core.bgt_vlak."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from plekzoeker.area import Area
from plekzoeker.db.guards import LoadPolicy
from plekzoeker.db.load import LoadStats, TableSpec, load_input

from .bag import _area_options

BGT_VLAK = TableSpec(
    table="bgt_vlak", columns=("identificatie", "laag", "klasse", "input_id"), geom_kind="multipolygon",
    indexes=("(laag, klasse)",),
)


def load_bgt(engine: sa.Engine, path: str | Path, area: Area | None = None, force: bool = False,
             policy: LoadPolicy | None = None) -> LoadStats:
    """Load a BGT GML zip into core.bgt_vlak atomically."""
    from .bgt_read import read_bgt  # the reader pulls in GDAL/osmium: import on use
    area = area or Area()
    return load_input(engine, "bgt", path, {BGT_VLAK: lambda: read_bgt(path, area=area)},
                      options={"area": _area_options(area)}, force=force,
                      policy=(policy or LoadPolicy.default()).for_area(area))
