"""3DBAG heights and floors per BAG pand into core.pand_3d: `ingest 3dbag FILE.gpkg|.csv`.

3DBAG (TU Delft / 3DGI, CC BY 4.0) publishes per pand ``identificatie`` (``NL.IMBAG.Pand.<16
digits>``), ``b3_h_maaiveld`` (ground level, m NAP), ``b3_h_dak_70p`` (70th percentile of the roof,
m NAP), ``b3_bouwlagen`` (estimated floors) and ``b3_opp_grond`` (footprint, m²). The GeoPackage
tiles carry these attributes on their ``pand`` layer (or any layer that has them: the first such
layer is read, without geometry). Rejected into ``meta.reject``: no pand id, a roof below the ground,
a negative number of floors, a pand id not in the loaded BAG. Heights outside -50..400 m NAP are
implausible (guards). A file without the height columns is refused with one line.

The tiles 3DBAG distributes (``tiles/…/<tile>.gpkg``, what ``plekzoeker fetch`` downloads) keep the
per-building attributes on ``pand`` and the roof heights on the building parts of the 2D layers
(``lod22_2d``, ``lod13_2d``, ``lod12_2d``: one row per roof part, with the pand's ``identificatie``).
When no single layer has every column, a column missing on ``pand`` is taken from the first 2D
layer that has it, aggregated per pand: the roof (``b3_h_dak_70p``) is the highest part's, the
ground (``b3_h_maaiveld``) the lowest part's — so ``height_m`` is the building's tallest part, the
figure a zoning height limit is about.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyogrio
import sqlalchemy as sa

from plekzoeker.db.guards import LoadPolicy
from plekzoeker.db.load import LoadStats, TableSpec, load_input
from plekzoeker.errors import SourceError

from .fact_common import bag_id, canonical, col, read_table_csv, unknown_id_check

ALIASES = {"pand_id": ("identificatie", "bag_pand_id", "pand_identificatie"),
           "h_maaiveld": ("b3_h_maaiveld",), "h_dak_70p": ("b3_h_dak_70p",), "bouwlagen": ("b3_bouwlagen",),
           "opp_grond": ("b3_opp_grond",)}
REQUIRED = [["pand_id"], ["h_maaiveld"], ["h_dak_70p"]]
PAND_3D = TableSpec(
    table="pand_3d", columns=("pand_id", "h_maaiveld", "h_dak_70p", "bouwlagen", "opp_grond", "input_id"),
    geometry=None, id_column="pand_id",
    checks=(("h_dak_70p < h_maaiveld", "roof below the ground (b3_h_dak_70p < b3_h_maaiveld)"),
            ("bouwlagen < 0", "negative number of floors (b3_bouwlagen)"),
            unknown_id_check("pand_id", "pand", "BAG")),
    plausible=(("h_maaiveld NOT BETWEEN -50 AND 400 OR h_dak_70p NOT BETWEEN -50 AND 700",
                "height outside -50..400 m NAP (ground) / 700 m (roof)"),),
    municipality="left(pand_id, 4)",
)


def tidy(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"pand_id": bag_id(col(df, "pand_id"))}, index=df.index)
    for c in ("h_maaiveld", "h_dak_70p", "opp_grond"):
        out[c] = pd.to_numeric(col(df, c), errors="coerce")
    out["bouwlagen"] = pd.to_numeric(col(df, "bouwlagen"), errors="coerce").round().astype("Int64")
    return out


PART_LAYERS = ("lod22_2d", "lod13_2d", "lod12_2d")   # 3DBAG tiles: roof parts, best level of detail first
PART_AGG = {"h_dak_70p": "max", "h_maaiveld": "min"}


def _gdal_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _layer_fields(p: Path) -> dict[str, set[str]]:
    try:
        return {str(n): {canonical(f, ALIASES) for f in pyogrio.read_info(p, layer=str(n))["fields"]}
                for n, _ in pyogrio.list_layers(p)}
    except Exception as exc:  # noqa: BLE001 - GDAL raises several kinds; the user needs one line
        raise SourceError(p, f"cannot read as a 3DBAG GeoPackage ({_gdal_line(exc)})") from None


def _read(p: Path, layer: str, columns: list[str]) -> pd.DataFrame:
    """The canonical ``columns`` of ``layer`` (no geometry), reading only what is needed."""
    names = [f for f in pyogrio.read_info(p, layer=layer)["fields"] if canonical(f, ALIASES) in columns]
    try:
        df = pyogrio.read_dataframe(p, layer=layer, columns=names, read_geometry=False)
    except Exception as exc:  # noqa: BLE001
        raise SourceError(p, f"cannot read layer {layer} ({_gdal_line(exc)})") from None
    df.columns = [canonical(c, ALIASES) for c in df.columns]
    return df


def read_3dbag_gpkg(p: Path) -> pd.DataFrame:
    """The pand attributes of a 3DBAG GeoPackage: one layer with them all, or ``pand`` + a 2D parts layer."""
    layers = _layer_fields(p)
    for name in sorted(layers, key=lambda n: n != "pand"):
        if all(any(c in layers[name] for c in g) for g in REQUIRED):
            return _read(p, name, list(ALIASES))
    base = layers.get("pand")
    if base is None or "pand_id" not in base:
        raise SourceError(p, "no layer with identificatie, b3_h_maaiveld and b3_h_dak_70p: not a 3DBAG file")
    df = _read(p, "pand", list(ALIASES))
    for name in (c for c in PART_AGG if c not in base):
        part = next((n for n in PART_LAYERS if n in layers and {"pand_id", name} <= layers[n]), None)
        if part is None:
            raise SourceError(p, f"layer pand has no b3_{name} and no 2D layer ({', '.join(PART_LAYERS)}) has it: "
                                 "not a 3DBAG file")
        parts = _read(p, part, ["pand_id", name])
        agg = pd.to_numeric(parts[name], errors="coerce").groupby(parts["pand_id"]).agg(PART_AGG[name])
        df[name] = df["pand_id"].map(agg)
    return df


def read_3dbag(path: str | Path, chunk_size: int = 100_000) -> Iterator[pd.DataFrame]:
    """Yield core.pand_3d rows from a 3DBAG GeoPackage (one layer, or a tile's pand + 2D layers) or CSV."""
    p = Path(path)
    if p.suffix.lower() == ".csv":
        for df in read_table_csv(p, ALIASES, REQUIRED, chunk_size):
            yield tidy(df)
        return
    df = read_3dbag_gpkg(p)
    for start in range(0, len(df), chunk_size):
        yield tidy(df.iloc[start:start + chunk_size])


def load_3dbag(engine: sa.Engine, path: str | Path, force: bool = False,
               policy: LoadPolicy | None = None) -> LoadStats:
    """Load 3DBAG attributes into core.pand_3d atomically (replacing the previous rows)."""
    return load_input(engine, "3dbag", path, {PAND_3D: lambda: read_3dbag(path)}, force=force, policy=policy)
