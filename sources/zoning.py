"""Load zoning plans (IMRO2012 GML, Omgevingsplan GeoJSON; a file, directory or ZIP) into core.zoning.

One load replaces all zoning rows: pass every plan of the area at once (a directory or ZIP), and the
facts step (scoring/facts.py) decides per place which plan wins where plans overlap.
"""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from plekzoeker.db.guards import LoadPolicy
from plekzoeker.db.load import LoadStats, TableSpec, load_input

MAIN_USE = ("enkelbestemming", "dubbelbestemming", "functie")
ZONING = TableSpec(
    table="zoning",
    columns=("identificatie", "regime", "plan_id", "plan_name", "plan_status", "plan_date", "objecttype",
             "hoofdgroep", "naam", "waarde", "waarde_type", "source_file", "input_id"),
    geom_kind="multipolygon", id_column="identificatie",
    checks=(("geom IS NULL", "no surface (a point, a line or an empty geometry is not a zoning area)"),
            (f"objecttype IN ({', '.join(repr(t) for t in MAIN_USE)}) AND hoofdgroep IS NULL",
             "bestemming / functie without its hoofdgroep (bestemmingshoofdgroep or functiegroep)")),
    indexes=("(objecttype)",), duplicate_geometry=False,
)


def load_zoning(engine: sa.Engine, path: str | Path, force: bool = False,
                policy: LoadPolicy | None = None) -> LoadStats:
    """Load every zoning plan in ``path`` into core.zoning atomically (replacing the previous plans)."""
    from .zoning_read import read_zoning  # pulls in GDAL: import on use
    return load_input(engine, "zoning", path, {ZONING: lambda: read_zoning(path)}, force=force, policy=policy)
