"""3DBAG tiles of an area: the tile index, the tiles' GeoPackages, one CSV the 3DBAG reader loads.

Protocol (3DBAG downloads, https://docs.3dbag.nl/en/delivery/; the project's own download script reads
it the same way):

* The tile index is a FlatGeobuf, ``https://data.3dbag.nl/latest/tile_index.fgb`` (the
  ``fetch.endpoints.bag3d_tile_index`` key), in RD New: one polygon per tile with the properties
  ``tile_id`` (e.g. ``9/444/728``), ``gpkg_download`` (the tile's GeoPackage URL) and
  ``gpkg_sha256`` (its checksum; checked when given). It is downloaded whole (a few MB for the
  country) and cut to the area with pyogrio's ``bbox`` then an exact intersection.
* Each tile's GeoPackage holds the layers ``pand`` and ``lod12_2d`` / ``lod13_2d`` / ``lod22_2d``;
  sources/bag3d.py reads them (heights from the roof parts). A tile may be served zipped (``.zip`` /
  ``.gz``): the member is unpacked before reading.

Tiles are kept in ``<area>/3dbag-tiles/`` by tile id; a tile already there whose checksum matches the
index is not fetched again, so a broken-off fetch resumes where it stopped. The panden of the tiles
that lie in the area polygon are written as ``3dbag.csv`` (columns as 3DBAG names them) through a
part file renamed when whole. Licence: CC BY 4.0, 3DBAG by the 3D geoinformation group (TU Delft) and
3DGI. Failures are one :class:`FetchError` line naming 3DBAG and the tile; what was fetched before
stays valid.
"""
from __future__ import annotations

import gzip
import logging
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin

import pandas as pd
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from plekzoeker.errors import FetchError, SourceError

from .http import Http, sha256_file

log = logging.getLogger(__name__)
LICENCE = ("CC BY 4.0", "3DBAG by the 3D geoinformation group (TU Delft) and 3DGI")
CSV_COLUMNS = ["identificatie", "b3_h_maaiveld", "b3_h_dak_70p", "b3_bouwlagen", "b3_opp_grond"]


def _verify_index(p: Path) -> None:
    try:
        fields = pyogrio.read_info(p)["fields"]
    except Exception as exc:  # noqa: BLE001 - GDAL raises several kinds
        raise FetchError(f"3DBAG tile index: not a readable FlatGeobuf ({str(exc).strip()[:120]})") from None
    if not {"tile_id", "gpkg_download"} <= set(fields):
        raise FetchError(f"3DBAG tile index: no tile_id / gpkg_download properties (has {', '.join(fields[:8])})")


def tiles_in(index: Path, polygon: BaseGeometry) -> pd.DataFrame:
    """The tiles (tile_id, url, sha256) of the index that meet ``polygon`` (RD New)."""
    try:
        t = pyogrio.read_dataframe(index, bbox=tuple(polygon.bounds))
    except Exception as exc:  # noqa: BLE001
        raise FetchError(f"3DBAG tile index: cannot read ({str(exc).strip()[:120]})") from None
    if t.crs is not None and t.crs.to_epsg() not in (28992, 7415):
        t = t.to_crs(28992)
    t = t[shapely.intersects(t.geometry.values, polygon)]
    sha = t["gpkg_sha256"] if "gpkg_sha256" in t.columns else pd.Series(None, index=t.index, dtype=object)
    return pd.DataFrame({"tile_id": t["tile_id"].astype(str), "url": t["gpkg_download"].astype(str),
                         "sha256": sha.where(sha.notna(), None)}).sort_values("tile_id").reset_index(drop=True)


def _gpkg_of(path: Path) -> Path:
    """The GeoPackage a downloaded tile is, or holds (``.zip`` / ``.gz`` unpacked beside it)."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head[:2] == b"PK":
        try:
            with zipfile.ZipFile(path) as z:
                name = next(n for n in z.namelist() if n.lower().endswith(".gpkg"))
                out = path.with_name(path.name + ".unpacked.gpkg")
                with z.open(name) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                return out
        except (zipfile.BadZipFile, StopIteration, OSError) as exc:
            raise FetchError(f"3DBAG tile {path.name}: a zip without a readable .gpkg ({type(exc).__name__})") from None
    if head[:2] == b"\x1f\x8b":
        out = path.with_name(path.name + ".unpacked.gpkg")
        try:
            with gzip.open(path) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
        except (OSError, EOFError) as exc:
            raise FetchError(f"3DBAG tile {path.name}: broken gzip ({exc})") from None
        return out
    return path


def _verify_tile(sha: str | None, tile_id: str) -> Callable[[Path], None]:
    def verify(p: Path) -> None:
        if sha and sha256_file(p) != sha.lower():
            raise FetchError(f"3DBAG tile {tile_id}: checksum differs from the tile index (gpkg_sha256)")
        with open(p, "rb") as fh:
            head = fh.read(16)
        if head[:2] not in (b"PK", b"\x1f\x8b") and head != b"SQLite format 3\x00":
            raise FetchError(f"3DBAG tile {tile_id}: not a GeoPackage (nor a zip or gzip of one)")
    return verify


def _tile_file(folder: Path, tile_id: str, url: str) -> Path:
    """``<folder>/9-444-728.gpkg`` (or ``.gpkg.zip`` / ``.gpkg.gz``: the download's own suffixes)."""
    name = url.rsplit("/", 1)[-1].split("?", 1)[0].lower()
    suffix = next((x for x in (".gpkg.zip", ".gpkg.gz", ".zip", ".gz") if name.endswith(x)), ".gpkg")
    return folder / (tile_id.replace("/", "-") + suffix)


def fetch_3dbag(http: Http, index_url: str, polygon: BaseGeometry, dest: Path, *, max_tiles: int = 2000,
                on_tile: Callable[[int], None] | None = None) -> dict:
    """Fetch the 3DBAG tiles meeting ``polygon`` and write their panden in it to ``dest`` (CSV)."""
    from plekzoeker.sources.bag3d import read_3dbag_gpkg

    folder = dest.parent / "3dbag-tiles"
    folder.mkdir(parents=True, exist_ok=True)
    index = folder / "tile_index.fgb"
    http.download(index_url, index, what="3DBAG tile index", verify=_verify_index)
    tiles = tiles_in(index, polygon)
    if len(tiles) > max_tiles:
        raise FetchError(f"3DBAG: {len(tiles)} tiles meet the area, more than fetch.bag3d_max_tiles ({max_tiles})")
    frames, fetched = [], 0
    for t in tiles.itertuples():
        f = _tile_file(folder, t.tile_id, t.url)
        fresh = f.exists() and (not t.sha256 or sha256_file(f) == str(t.sha256).lower())
        if not fresh:
            http.download(urljoin(index_url, t.url), f, what=f"3DBAG tile {t.tile_id}",
                          verify=_verify_tile(t.sha256, t.tile_id))
            fetched += 1
        gpkg = _gpkg_of(f)
        try:
            df = read_3dbag_gpkg(gpkg)
            geoms = pyogrio.read_dataframe(gpkg, layer="pand", columns=["identificatie"])
        except SourceError as exc:
            raise FetchError(f"3DBAG tile {t.tile_id}: {exc.problem}") from None
        except Exception as exc:  # noqa: BLE001 - GDAL
            raise FetchError(f"3DBAG tile {t.tile_id}: cannot read its pand layer ({str(exc).strip()[:120]})") from None
        finally:
            if gpkg != f:
                gpkg.unlink(missing_ok=True)
        inside = set(geoms.loc[shapely.intersects(geoms.geometry.values, polygon), "identificatie"].astype(str))
        frames.append(df[df["pand_id"].astype(str).isin(inside)])
        if on_tile:
            on_tile(1)
    cols = {"pand_id": "identificatie", "h_maaiveld": "b3_h_maaiveld", "h_dak_70p": "b3_h_dak_70p",
            "bouwlagen": "b3_bouwlagen", "opp_grond": "b3_opp_grond"}
    out = (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(cols)))
    out = out.reindex(columns=list(cols)).rename(columns=cols).drop_duplicates("identificatie")
    part = dest.with_name(dest.name + ".part")
    out.to_csv(part, index=False)
    os.replace(part, dest)
    log.info("3DBAG: %d tile(s) (%d fetched), %d pand(en) written to %s", len(tiles), fetched, len(out), dest)
    return {"tiles": len(tiles), "fetched": fetched, "panden": len(out)}
