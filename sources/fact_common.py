"""What the fact sources share: CSV reading with EP-Online/RCE/3DBAG column aliases, BAG id
normalisation and the "unknown BAG id" check.

Real exports name the same thing differently (EP-Online ``Pand_bagverblijfsobjectid``, RCE
``rijksmonument_nummer``, 3DBAG ``identificatie`` with its ``NL.IMBAG.Pand.`` prefix): every column
name is lower-cased, stripped of a ``pand_`` prefix and mapped through the reader's alias table, so
one canonical name reaches the loader. CSVs may be comma- or semicolon-separated (EP-Online uses
``;``); the separator is read from the header line.
"""
from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from plekzoeker.errors import SourceError


def canonical(name: str, aliases: dict[str, tuple[str, ...]]) -> str:
    n = name.strip().lower().replace(" ", "_")
    bare = n[5:] if n.startswith("pand_") and n not in ("pand_id", "pand_identificatie") else n
    for canon, names in aliases.items():
        if n == canon or n in names or bare == canon or bare in names:
            return canon
    return n


def bag_id(s: pd.Series) -> pd.Series:
    """'NL.IMBAG.Pand.0503100000000010' or ' 0503100000000010' -> '0503100000000010'; '' -> None."""
    return s.astype(object).map(lambda v: None if _missing(v) else str(v).strip().rsplit(".", 1)[-1])


def _missing(v) -> bool:
    return v is None or (not isinstance(v, str) and pd.isna(v)) or not str(v).strip()


def read_table_csv(path: Path, aliases: dict[str, tuple[str, ...]], required: list[list[str]],
                   chunk_size: int = 100_000) -> Iterator[pd.DataFrame]:
    """Stream a CSV as text columns with canonical names. ``required``: groups of columns of which at
    least one must be present each (e.g. ``[["label"], ["verblijfsobject_id", "postcode"]]``)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            first = fh.readline()
    except UnicodeDecodeError:
        raise SourceError(path, "not UTF-8 text; save the CSV as UTF-8") from None
    if not first.strip():
        raise SourceError(path, "empty file (expected a CSV header row)")
    sep = ";" if first.count(";") > first.count(",") else ","
    header = [canonical(c, aliases) for c in next(csv.reader([first], delimiter=sep))]
    missing = [" or ".join(g) for g in required if not any(c in header for c in g)]
    if missing:
        raise SourceError(path, f"missing column(s) {', '.join(missing)}; found {', '.join(header) or 'none'}")
    try:
        for chunk in pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_values=[""],
                                 encoding="utf-8-sig", chunksize=chunk_size, on_bad_lines="error"):
            chunk.columns = header
            yield chunk
    except UnicodeDecodeError:
        raise SourceError(path, "not UTF-8 text; save the CSV as UTF-8") from None
    except (pd.errors.ParserError, csv.Error) as exc:
        raise SourceError(path, f"not a valid CSV: {str(exc).strip().splitlines()[0]}") from None


def col(df: pd.DataFrame, name: str) -> pd.Series:
    """A text column, stripped, '' as None; all None when the file lacks it."""
    if name not in df.columns:
        return pd.Series([None] * len(df), index=df.index, dtype=object)
    return df[name].astype(object).map(lambda v: None if _missing(v) else str(v).strip())


def unknown_id_check(column: str, table: str, what: str) -> tuple[str, str]:
    """A TableSpec check rejecting rows whose BAG id is not in ``core.<table>`` (only once BAG is loaded:
    before that no id can be judged)."""
    return (f"{column} IS NOT NULL AND EXISTS (SELECT 1 FROM core.{table}) AND NOT EXISTS "
            f"(SELECT 1 FROM core.{table} b WHERE b.identificatie = {column})",
            f"unknown {what} {column} (not in the loaded BAG)")


def read_vector(path: Path, what: str, aliases: dict[str, tuple[str, ...]]):
    """A vector file (GeoJSON, GeoPackage, ...) in RD New with canonical column names; a file GDAL cannot read
    or that declares no CRS is one SourceError line."""
    import pyogrio

    try:
        gdf = pyogrio.read_dataframe(path)
    except Exception as exc:  # noqa: BLE001 - GDAL raises several kinds; the user needs one line
        raise SourceError(path, f"cannot read as a {what} file ({str(exc).strip().splitlines()[0]})") from None
    if gdf.crs is None:
        raise SourceError(path, "declares no CRS (expected EPSG:28992 RD New or a declared CRS)")
    gdf = gdf.to_crs(28992)
    return gdf.rename(columns={c: canonical(c, aliases) for c in gdf.columns if c != "geometry"})
