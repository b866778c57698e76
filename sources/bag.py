"""Load BAG (buildings and units) into core.pand and core.verblijfsobject.

Reads either delivery form (PDOK BAG GeoPackage or an LVBAG XML extract; see ``bag_read``),
filtered to the area while reading, and swaps both tables in one transaction.
"""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from plekzoeker.area import Area
from plekzoeker.db.guards import LoadPolicy
from plekzoeker.db.load import LoadStats, TableSpec, load_input

# exactly 16 ASCII digits (the same as !~ '^[0-9]{16}$', at half the cost of the regular expression)
BAG_ID = ("identificatie IS NULL OR octet_length(identificatie) <> 16 OR ltrim(identificatie, '0123456789') <> ''",
          "malformed BAG identificatie (not 16 digits)")

# Plausibility (plekzoeker/db/guards.py): certain errors only. A documentdatum is the date of the document
# behind a mutation, so it cannot lie in the future (one day of slack for time zones); beginGeldigheid can,
# and is not checked. The BAG catalogue allows a gebruiksoppervlakte of 1..999 999 m²: 0 or more is an
# export error, not a unit (an unknown area stays NULL and passes).
FUTURE_DOCUMENT = ("documentdatum > current_date + 1", "documentdatum in the future")
MAX_UNIT_AREA_M2 = 999_999
UNIT_AREA = (f"oppervlakte < 1 OR oppervlakte > {MAX_UNIT_AREA_M2}",
             f"floor area (oppervlakte) 0 or above {MAX_UNIT_AREA_M2:,} m² (the BAG catalogue's range is 1..999,999)")
BAG_MUNICIPALITY = "left(identificatie, 4)"  # every BAG identifier starts with its municipality code

PAND = TableSpec(
    table="pand",
    columns=("identificatie", "status", "bouwjaar", "documentdatum", "begingeldigheid", "input_id"),
    geom_kind="multipolygon", id_column="identificatie", checks=(BAG_ID,), indexes=("(status)",),
    plausible=(FUTURE_DOCUMENT,), municipality=BAG_MUNICIPALITY,
)
VERBLIJFSOBJECT = TableSpec(
    table="verblijfsobject",
    columns=("identificatie", "pand_ids", "gebruiksdoelen", "oppervlakte", "status", "openbare_ruimte", "huisnummer",
             "huisletter", "toevoeging", "postcode", "woonplaats", "documentdatum", "begingeldigheid", "input_id"),
    geom_kind="point", id_column="identificatie", checks=(BAG_ID,),
    plausible=(UNIT_AREA, FUTURE_DOCUMENT), municipality=BAG_MUNICIPALITY,
)


def load_bag(engine: sa.Engine, path: str | Path, area: Area | None = None, force: bool = False,
             policy: LoadPolicy | None = None) -> LoadStats:
    """Load a BAG GeoPackage or LVBAG extract into core.pand / core.verblijfsobject atomically
    (guarded by ``policy``, see plekzoeker/db/guards.py)."""
    # the reader pulls in GDAL/osmium: import on use. Units go to COPY as Arrow tables (no pandas).
    from .bag_read import read_bag_pand, read_bag_verblijfsobject_arrow
    area = area or Area()
    options = {"area": _area_options(area)}
    return load_input(engine, "bag", path, {
        PAND: lambda: read_bag_pand(path, area=area),
        VERBLIJFSOBJECT: lambda: read_bag_verblijfsobject_arrow(path, area=area),
    }, options=options, force=force, policy=(policy or LoadPolicy.default()).for_area(area))


def _area_options(area: Area) -> dict:
    return {"bbox": area.bbox, "municipality": area.municipality,
            "polygon": area.polygon.wkt if area.polygon is not None else None}
