"""The readers' column coercion: file columns found by alias, cleaned into the contract's types.

Text stays text with missing = missing (an empty string is missing too), integers are nullable
``Int64`` (a float column's 123.0 is 123), dates ``datetime64[ms]`` at midnight (NaT when unknown or
unparsable: the local date of ``2000-11-20T14:29:09+01:00`` is 2000-11-20), BAG identifiers lose a
``NL.IMBAG.Pand.``-style prefix and get their leading zeros back. :func:`finish_frame` is the last
step of every reader: geometry attached, rows without one dropped, the exact area filter, the
contract's column order. Private to ``plekzoeker.sources``.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from plekzoeker.area import Area
from plekzoeker.sources._gdal import RD_NEW


def area_keep(gdf: gpd.GeoDataFrame, area: Area | None, by_id: bool) -> np.ndarray:
    """Boolean mask: rows inside ``area`` (geometry intersects the mask; id prefix = municipality)."""
    keep = np.ones(len(gdf), dtype=bool)
    if area is None or area.is_empty or len(gdf) == 0:
        return keep
    if by_id and area.municipality:
        keep &= gdf["identificatie"].str.startswith(area.municipality).fillna(False).to_numpy(dtype=bool)
    mask = area.mask()
    if mask is not None:
        shapely.prepare(mask)
        keep &= shapely.intersects(np.asarray(gdf.geometry.array, dtype=object), mask)
    return keep

def norm_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())

def find_columns(fields: Sequence[str], wanted: dict[str, Sequence[str]]) -> dict[str, str | None]:
    """Map canonical names to the file's column names via normalised aliases (first alias wins)."""
    by_norm: dict[str, str] = {}
    for f in fields:
        by_norm.setdefault(norm_key(f), f)
    return {canon: next((by_norm[norm_key(a)] for a in aliases if norm_key(a) in by_norm), None)
            for canon, aliases in wanted.items()}

def as_text(values: pd.Series | pa.Array | pa.ChunkedArray) -> pd.Series:
    """Any column as pandas text (missing stays missing; empty strings become missing)."""
    s = values if isinstance(values, pd.Series) else values.to_pandas()
    if pd.api.types.is_float_dtype(s.dtype):
        s = s.astype("Int64")  # 123.0 -> "123"
    s = s.astype("str").str.strip()
    return s.mask(s == "")

def as_ids(values: pd.Series, pad: bool = True) -> pd.Series:
    """BAG identifiers as text: prefix (``NL.IMBAG.Pand.``) stripped; with ``pad`` shorter digit
    strings (integers that lost their leading zeros) are zero-padded to 16 digits."""
    s = as_text(values).str.replace(r"^.*\.", "", regex=True)
    if pad:
        short = s.str.fullmatch(r"\d{1,15}").fillna(False).astype(bool)
        if short.any():
            s = s.where(~short, s.str.zfill(16))
    return s

def as_int(values: pd.Series | pa.ChunkedArray | pa.Array) -> pd.Series:
    s = values if isinstance(values, pd.Series) else values.to_pandas()
    return pd.to_numeric(s, errors="coerce").round().astype("Int64")

def as_date(values: pd.Series | pa.ChunkedArray | pa.Array | None, n: int) -> pd.Series:
    """A date column as datetime64[ms] at midnight (NaT when absent or unparsable).

    Text is cut to its ``YYYY-MM-DD`` part, so ``2000-11-20T14:29:09+01:00`` is the local date."""
    if values is None:
        return pd.Series(pd.NaT, index=range(n), dtype="datetime64[ms]")
    s = values if isinstance(values, pd.Series) else values.to_pandas()
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        out = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
    else:
        out = pd.to_datetime(s.astype("str").str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    return out.dt.normalize().astype("datetime64[ms]").reset_index(drop=True)

def arrow_frame(table: pa.Table) -> pd.DataFrame:
    """Arrow → pandas keeping integers nullable and dates as datetime64."""
    mapping = {pa.int8(): pd.Int64Dtype(), pa.int16(): pd.Int64Dtype(), pa.int32(): pd.Int64Dtype(),
               pa.int64(): pd.Int64Dtype()}
    return table.to_pandas(types_mapper=mapping.get, date_as_object=False)

def finish_frame(frame: pd.DataFrame, geoms: np.ndarray, area: Area | None, columns: list[str],
            by_id: bool = True) -> gpd.GeoDataFrame:
    """Attach geometry, drop rows without geometry, apply the exact area filter, order columns."""
    frame = frame.reset_index(drop=True)
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(np.asarray(geoms, dtype=object), crs=RD_NEW),
                           crs=RD_NEW)
    ok = ~(gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy(dtype=bool)
    keep = ok & area_keep(gdf, area, by_id)
    gdf = gdf[keep].reset_index(drop=True)
    return gdf[columns]
