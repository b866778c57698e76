"""The BAG and BRK GeoPackages: layers streamed as Arrow record batches (``pyogrio.write_arrow``),
one chunk of cells at a time, so memory stays bounded for a million units.

The column names and types are the PDOK ones (:data:`~plekzoeker.demo.constants.LAYER_COLUMNS`,
:data:`~plekzoeker.demo.constants.SCHEMAS`); the caller pins ``OGR_CURRENT_DATE`` so the files carry
no wall-clock time.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import shapely

from plekzoeker.demo.constants import CRS, RDF, SCHEMAS
from plekzoeker.demo.identifiers import Context, Placed, place
from plekzoeker.demo.plan import Cell


def _batch(layer: str, cols: dict[str, np.ndarray]) -> pa.RecordBatch:
    schema = SCHEMAS[layer]
    arrays = []
    for fld in schema:
        v = cols[fld.name]
        if fld.name in ("geom", "geometry"):
            arrays.append(pa.array(shapely.to_wkb(v), type=pa.binary()))
        elif fld.type == pa.date32():
            arrays.append(pa.array(np.asarray(v, dtype=np.int32), type=pa.int32()).cast(pa.date32()))
        elif fld.type == pa.int32():
            v = np.asarray(v, dtype=np.int64)
            mask = v < 0 if fld.name in ("oppervlakte_min", "oppervlakte_max") else None
            arrays.append(pa.array(v.astype(np.int32), type=pa.int32(), mask=mask))
        else:
            arrays.append(pa.array(list(v), type=pa.string()))
    return pa.record_batch(arrays, schema=schema)


def _concat(parts: list[dict]) -> dict[str, np.ndarray]:
    keys = parts[0].keys()
    return {k: np.concatenate([np.asarray(p[k]) for p in parts]) for k in keys}


def layer_batches(layer: str, cells: list[Cell], ctx_factory: Callable[[], Context], chunk_rows: int,
                  on_placed: Callable[[Placed], None] | None = None) -> Iterator[pa.RecordBatch]:
    part = {"pand": "pand", "verblijfsobject": "vbo", "perceel": "parcel"}[layer]
    ctx = ctx_factory()
    buf: list[dict] = []
    rows = 0
    for cell in cells:
        pl = place(cell, ctx, {part})
        if on_placed is not None:
            on_placed(pl)
        cols = getattr(pl, part)
        n = len(cols["identificatie"])
        if not n:
            continue
        if layer in ("pand", "verblijfsobject"):
            cols = dict(cols)
            cols["rdf_seealso"] = np.array([RDF.format(kind=layer, id=i) for i in cols["identificatie"]], dtype=object)
        buf.append(cols)
        rows += n
        if rows >= chunk_rows:
            yield _batch(layer, _concat(buf))
            buf, rows = [], 0
    if buf:
        yield _batch(layer, _concat(buf))


def write_layer(path: Path, layer: str, batches: Iterator[pa.RecordBatch], geometry_type: str) -> None:
    schema = SCHEMAS[layer]
    geom_name = "geometry" if layer == "perceel" else "geom"
    reader = pa.RecordBatchReader.from_batches(schema, batches)
    pyogrio.write_arrow(reader, path, layer=layer, driver="GPKG", geometry_name=geom_name,
                        geometry_type=geometry_type, crs=CRS, layer_options={"GEOMETRY_NAME": geom_name})
