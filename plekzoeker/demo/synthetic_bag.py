"""A synthetic BAG GeoPackage (PDOK bag-light column names) of N verblijfsobjecten, written in chunks.

Fictitious municipality 9999, points on a jittered grid in RD New. Used to compare load speed
with ogr2ogr on the same file; not a plausible town (see plekzoeker.demo for that).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import shapely

DOELEN = np.array(["woonfunctie", "kantoorfunctie", "winkelfunctie", "woonfunctie,winkelfunctie", "industriefunctie"])
STATUS = np.array(["Verblijfsobject in gebruik", "Verblijfsobject buiten gebruik", "Verbouwing verblijfsobject"])


def write_bag_gpkg(path: Path, n_units: int, seed: int = 1, chunk: int = 250_000) -> Path:
    """Write ``n_units`` verblijfsobject points and n_units/4 square panden; returns the path."""
    rng = np.random.default_rng(seed)
    path.unlink(missing_ok=True)
    side = int(np.ceil(np.sqrt(n_units)))
    for layer, total in (("verblijfsobject", n_units), ("pand", max(1, n_units // 4))):
        for start in range(0, total, chunk):
            idx = np.arange(start, min(start + chunk, total))
            x = 120000 + (idx % side) * 15.0
            y = 420000 + (idx // side) * 15.0
            if layer == "verblijfsobject":
                geom = shapely.points(x + rng.uniform(0, 5, len(idx)), y + rng.uniform(0, 5, len(idx)))
                cols = {
                    "identificatie": pa.array(np.char.add("999901", np.char.zfill(idx.astype(str), 10))),
                    "openbare_ruimte_naam": pa.array(np.full(len(idx), "Benchmarkstraat")),
                    "huisnummer": pa.array(idx % 300 + 1, pa.int32()),
                    "huisletter": pa.nulls(len(idx), pa.string()),
                    "toevoeging": pa.nulls(len(idx), pa.string()),
                    "postcode": pa.array(np.char.add("9999", np.array(["AA", "AB", "BA", "ZZ"])[idx % 4])),
                    "woonplaats_naam": pa.array(np.full(len(idx), "Demodorp")),
                    "bouwjaar": pa.array(1900 + idx % 120, pa.int32()),
                    "pand_identificatie": pa.array(np.char.add("999910", np.char.zfill((idx // 4).astype(str), 10))),
                    "pandstatus": pa.array(np.full(len(idx), "Pand in gebruik")),
                    "status": pa.array(STATUS[rng.integers(0, 3, len(idx))]),
                    "gebruiksdoel": pa.array(DOELEN[rng.integers(0, 5, len(idx))]),
                    "oppervlakte": pa.array(rng.integers(20, 2000, len(idx)), pa.int32()),
                }
            else:
                geom = shapely.box(x, y, x + 12, y + 12)
                cols = {
                    "identificatie": pa.array(np.char.add("999910", np.char.zfill(idx.astype(str), 10))),
                    "bouwjaar": pa.array(1900 + idx % 120, pa.int32()),
                    "status": pa.array(np.full(len(idx), "Pand in gebruik")),
                    "gebruiksdoel": pa.array(np.full(len(idx), "woonfunctie")),
                }
            cols["geom"] = pa.array(shapely.to_wkb(geom), pa.binary())
            table = pa.table(cols)
            pyogrio.write_arrow(table, path, layer=layer, driver="GPKG", geometry_name="geom",
                                geometry_type="Point" if layer == "verblijfsobject" else "Polygon", crs="EPSG:28992",
                                append=start > 0 or layer == "pand")
    return path


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--units", type=int, default=1_000_000)
    a = ap.parse_args()
    write_bag_gpkg(a.out, a.units)
