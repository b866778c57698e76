"""RFC 7946 checks used by several tests."""
import json
from pathlib import Path

import shapely
from shapely.geometry import shape

NL_LON = (3.2, 7.3)
NL_LAT = (50.7, 53.6)


def _coords(obj):
    if isinstance(obj, (int, float)):
        yield obj
    else:
        for o in obj:
            yield from _coords(o)


def check_rfc7946(path: Path) -> dict:
    """Assert RFC 7946 basics and return the parsed FeatureCollection."""
    fc = json.loads(path.read_text(encoding="utf-8"))
    assert fc["type"] == "FeatureCollection"
    assert "crs" not in fc, f"{path}: RFC 7946 has no crs member"
    for f in fc["features"]:
        g = f["geometry"]
        pts = list(_coords(g["coordinates"]))
        lons, lats = pts[0::2], pts[1::2]
        assert all(NL_LON[0] <= x <= NL_LON[1] for x in lons), f"{path}: lon outside NL"
        assert all(NL_LAT[0] <= y <= NL_LAT[1] for y in lats), f"{path}: lat outside NL"
        assert all(len(repr(float(v)).split(".")[-1]) <= 7 for v in pts), f"{path}: more than 7 decimals"
        geom = shape(g)
        if geom.geom_type in ("Polygon", "MultiPolygon"):
            polys = [geom] if geom.geom_type == "Polygon" else list(geom.geoms)
            for p in polys:
                assert p.exterior.is_ccw, f"{path}: exterior ring not counter-clockwise (right-hand rule)"
                assert all(not r.is_ccw for r in p.interiors), f"{path}: hole not clockwise"
        assert shapely.is_valid(geom) or geom.geom_type == "Point"
        assert not any(isinstance(v, (dict, list)) for v in f["properties"].values()), "properties must be flat"
    return fc
