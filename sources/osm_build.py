"""From what the OSM reader collected to the contract's tables: the walk/bike graph, POIs, land use.

The collector (``osm_read``) keeps flat arrays of node ids, fixed-point coordinates and way
members; these functions project them to RD New once (vectorised), split ways into edges at shared
nodes, and build the POI and land-use GeoDataFrames (columns in ``osm_read``'s docstring).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

if TYPE_CHECKING:
    from plekzoeker.sources.osm_read import Collector  # the reader's collector, typed only

CRS_RD = "EPSG:28992"
UNDEF = 2147483647  # osmium's fixed-point value of an undefined coordinate
_TRANSFORMER: Transformer | None = None


def to_rd() -> Transformer:
    global _TRANSFORMER
    if _TRANSFORMER is None:
        _TRANSFORMER = Transformer.from_crs("EPSG:4326", CRS_RD, always_xy=True)
    return _TRANSFORMER


def project_fixed(xi: np.ndarray, yi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """osmium fixed-point lon/lat (1e-7 degrees) → RD New x, y."""
    x, y = to_rd().transform(xi / 1e7, yi / 1e7)
    return np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")


def project_geoms(geoms: np.ndarray) -> np.ndarray:
    tr = to_rd()

    def f(xy: np.ndarray) -> np.ndarray:
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, f)


def graph_frames(c: Collector) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    refs = np.frombuffer(c.refs, dtype=np.int64) if len(c.refs) else np.zeros(0, np.int64)
    xi = np.frombuffer(c.xi, dtype=np.int32).astype(np.int64) if len(c.xi) else np.zeros(0, np.int64)
    yi = np.frombuffer(c.yi, dtype=np.int32).astype(np.int64) if len(c.yi) else np.zeros(0, np.int64)
    way_len = np.asarray(c.way_len, dtype=np.int64)
    n_ways = len(way_len)
    way_of = np.repeat(np.arange(n_ways), way_len)

    # drop consecutive duplicate node refs within a way
    keep = np.ones(len(refs), dtype=bool)
    if len(refs) > 1:
        keep[1:] = ~((refs[1:] == refs[:-1]) & (way_of[1:] == way_of[:-1]))
    refs, xi, yi, way_of = refs[keep], xi[keep], yi[keep], way_of[keep]
    valid = (xi != UNDEF) & (yi != UNDEF)

    n = len(refs)
    if n < 2:
        return empty_nodes(), empty_edges()
    # a pair (i, i+1) is a street piece when both ends are in the same way and located
    pair_ok = (way_of[1:] == way_of[:-1]) & valid[1:] & valid[:-1]

    # intersection nodes: refs that occur at least twice among located way nodes
    vrefs = refs[valid]
    uniq, inv, counts = np.unique(vrefs, return_inverse=True, return_counts=True)
    shared = np.zeros(n, dtype=bool)
    shared[valid] = counts[inv] >= 2
    # run ends: located node without a street piece on one side
    left_ok = np.zeros(n, dtype=bool)
    left_ok[1:] = pair_ok
    right_ok = np.zeros(n, dtype=bool)
    right_ok[:-1] = pair_ok
    split = valid & (shared | ~left_ok | ~right_ok)

    pidx = np.flatnonzero(pair_ok)              # pairs, by their first position i
    if len(pidx) == 0:
        return empty_nodes(), empty_edges()
    # a new edge starts at pair i when node i is a split node
    starts = split[pidx]
    edge_of_pair = np.cumsum(starts) - 1
    n_edges = int(edge_of_pair[-1]) + 1

    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    x[valid], y[valid] = project_fixed(xi[valid], yi[valid])
    seg_len = np.hypot(x[pidx + 1] - x[pidx], y[pidx + 1] - y[pidx])
    length = np.bincount(edge_of_pair, weights=seg_len, minlength=n_edges)

    # an edge's pairs are contiguous in pidx (starts[0] is always True: see split above)
    first_idx = np.flatnonzero(starts)
    last_idx = np.append(first_idx[1:] - 1, len(pidx) - 1)
    start_pos = pidx[first_idx]                  # position of u
    end_pos = pidx[last_idx] + 1                 # position of v
    npts = end_pos - start_pos + 1
    offs = np.concatenate([[0], np.cumsum(npts)[:-1]])
    pos = np.repeat(start_pos - offs, npts) + np.arange(int(npts.sum()))
    geom = shapely.linestrings(np.column_stack([x[pos], y[pos]]),
                               indices=np.repeat(np.arange(n_edges), npts))

    w = way_of[start_pos]
    edges = gpd.GeoDataFrame(
        {
            "u": refs[start_pos].astype(np.int64),
            "v": refs[end_pos].astype(np.int64),
            "length_m": length.astype(np.float64),
            "highway": np.asarray(c.way_hw, dtype=object)[w],
            "walk": np.asarray(c.way_walk, dtype=bool)[w],
            "bike": np.asarray(c.way_bike, dtype=bool)[w],
            "oneway_bike": np.asarray(c.way_oneway, dtype=bool)[w],
            "osm_way_id": np.asarray(c.way_ids, dtype=np.int64)[w],
        },
        geometry=geom,
        crs=CRS_RD,
    )
    # node table from the end positions
    end_positions = np.concatenate([start_pos, end_pos])
    node_ids = refs[end_positions]
    _, first = np.unique(node_ids, return_index=True)
    sel = end_positions[first]
    nodes = pd.DataFrame({"node_id": refs[sel].astype(np.int64),
                          "x": x[sel].astype(np.float64), "y": y[sel].astype(np.float64)})
    return nodes, edges


def nodes_for_edges(nodes: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    used = np.union1d(edges["u"].to_numpy(), edges["v"].to_numpy())
    return nodes[nodes["node_id"].isin(used)].reset_index(drop=True)


def empty_nodes() -> pd.DataFrame:
    return pd.DataFrame({"node_id": pd.Series(dtype=np.int64), "x": pd.Series(dtype=np.float64),
                         "y": pd.Series(dtype=np.float64)})


def empty_edges() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"u": pd.Series(dtype=np.int64), "v": pd.Series(dtype=np.int64),
         "length_m": pd.Series(dtype=np.float64), "highway": pd.Series(dtype="str"),
         "walk": pd.Series(dtype=bool), "bike": pd.Series(dtype=bool),
         "oneway_bike": pd.Series(dtype=bool), "osm_way_id": pd.Series(dtype=np.int64)},
        geometry=gpd.GeoSeries([], crs=CRS_RD), crs=CRS_RD)


def poi_frame(c: Collector) -> gpd.GeoDataFrame:
    n = len(c.poi_rows)
    cols = ["category", "name", "osm_id", "tags_json"]
    if n == 0:
        empty = {k: pd.Series(dtype="str") for k in cols}
        empty["name"] = pd.Series(dtype=object)
        return gpd.GeoDataFrame(empty,
                                geometry=gpd.GeoSeries([], crs=CRS_RD), crs=CRS_RD)
    kinds = np.asarray(c.poi_kind)
    refs = np.asarray(c.poi_ref)
    # points
    pt_geoms = np.empty(0, dtype=object)
    if c.poi_pt:
        a = np.asarray(c.poi_pt, dtype=np.int64)
        px, py = project_fixed(a[:, 0], a[:, 1])
        pt_geoms = shapely.points(px, py)
    # ways: closed → polygon centroid, open → middle of the line
    way_geoms = np.empty(len(c.poi_way_coords), dtype=object)
    if c.poi_way_coords:
        lens = np.array([len(xs) for xs, _, _ in c.poi_way_coords])
        allx = np.concatenate([np.asarray(xs, dtype=np.int64) for xs, _, _ in c.poi_way_coords])
        ally = np.concatenate([np.asarray(ys, dtype=np.int64) for _, ys, _ in c.poi_way_coords])
        wx, wy = project_fixed(allx, ally)
        offs = np.concatenate([[0], np.cumsum(lens)])
        for i, (_, _, closed) in enumerate(c.poi_way_coords):
            cx, cy = wx[offs[i]:offs[i + 1]], wy[offs[i]:offs[i + 1]]
            if len(cx) == 1:
                way_geoms[i] = shapely.Point(cx[0], cy[0])
                continue
            if closed:
                poly = shapely.make_valid(shapely.Polygon(np.column_stack([cx, cy])))
                if not poly.is_empty and poly.area > 0:
                    way_geoms[i] = poly.centroid
                    continue
            line = shapely.LineString(np.column_stack([cx, cy]))
            way_geoms[i] = line.interpolate(0.5, normalized=True)
    area_geoms = np.empty(0, dtype=object)
    if c.poi_wkb:
        polys = project_geoms(shapely.from_wkb(c.poi_wkb))
        area_geoms = shapely.centroid(shapely.make_valid(polys))
    geoms = np.empty(n, dtype=object)
    for k, src in ((0, pt_geoms), (1, way_geoms), (2, area_geoms)):
        m = kinds == k
        if m.any():
            geoms[m] = src[refs[m]]
    df = pd.DataFrame(c.poi_rows, columns=cols)
    df["name"] = df["name"].astype(object).where(df["name"].notna(), None)
    gdf = gpd.GeoDataFrame(df, geometry=geoms, crs=CRS_RD)
    return gdf[~gdf.geometry.is_empty & gdf.geometry.notna()].reset_index(drop=True)


def polygonal_or_none(g: Any) -> Any:
    """Keep the polygonal part of a made-valid geometry (drop stray lines/points)."""
    if g is None or g.is_empty:
        return None
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for p in getattr(g, "geoms", []) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return None
    u = shapely.union_all(parts)
    return u if u.geom_type in ("Polygon", "MultiPolygon") else None


def landuse_frame(c: Collector) -> gpd.GeoDataFrame:
    cols = ["osm_id", "key", "value", "exclusion"]
    if not c.lu_rows:
        empty = {k: pd.Series(dtype="str") for k in cols[:3]}
        empty["exclusion"] = pd.Series(dtype=bool)
        return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=CRS_RD), crs=CRS_RD)
    geoms = project_geoms(shapely.from_wkb(c.lu_wkb))
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        geoms[bad] = [polygonal_or_none(g) for g in shapely.make_valid(geoms[bad])]
    # one geometry type for the loader (core.landuse is MultiPolygon): promote plain polygons
    single = shapely.get_type_id(geoms) == 3
    if single.any():
        geoms[single] = [shapely.MultiPolygon([g]) for g in geoms[single]]
    df = pd.DataFrame(c.lu_rows, columns=cols)
    df["exclusion"] = df["exclusion"].astype(bool)
    gdf = gpd.GeoDataFrame(df, geometry=geoms, crs=CRS_RD)
    keep = gdf.geometry.notna() & ~gdf.geometry.is_empty
    return gdf[keep].reset_index(drop=True)
