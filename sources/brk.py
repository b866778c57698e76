"""Load BRK kadastrale kaart parcels into core.perceel."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from plekzoeker.area import Area
from plekzoeker.db.guards import LoadPolicy
from plekzoeker.db.load import LoadStats, TableSpec, load_input

from .bag import _area_options

PERCEEL = TableSpec(
    table="perceel",
    columns=("identificatie", "kadastrale_gemeente_code", "kadastrale_gemeente", "sectie", "perceelnummer",
             "kadastrale_aanduiding", "kadastrale_grootte", "input_id"),
    geom_kind="multipolygon", id_column="identificatie",
    checks=(("identificatie IS NULL OR identificatie = ''", "parcel without identificatie"),),
    indexes=("(kadastrale_aanduiding)",),
)


def load_brk(engine: sa.Engine, path: str | Path, area: Area | None = None, force: bool = False,
             policy: LoadPolicy | None = None) -> LoadStats:
    """Load parcels (GML or GPKG) into core.perceel atomically."""
    from .brk_read import read_perceel  # the reader pulls in GDAL/osmium: import on use
    area = area or Area()
    return load_input(engine, "brk", path, {PERCEEL: lambda: read_perceel(path, area=area)},
                      options={"area": _area_options(area)}, force=force,
                      policy=(policy or LoadPolicy.default()).for_area(area))
