"""BAG from an LVBAG XML extract (a file, a folder, a per-type zip or the national zip of zips).

Read by GDAL's LVBAG driver; the delivery forms, the current-version rule and the address join
are described in ``bag_read``'s docstring (the BAG contract).
"""
from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio

from plekzoeker.area import Area
from plekzoeker.errors import SourceError
from plekzoeker.sources._columns import arrow_frame, as_date, as_ids, as_int, as_text, finish_frame
from plekzoeker.sources._gdal import (
    READ_ERRORS,
    arrow_batches,
    batch_table,
    check_xml_complete,
    is_rd,
    rd_crs_or_error,
    source_errors,
    wkb_geoms,
    zip_entries,
)
from plekzoeker.sources.bag_common import PAND_COLUMNS, VBO_COLUMNS, CurrentVersions, id_keys
from plekzoeker.sources.bag_gpkg import as_points, postcode_text

_LVBAG_LAYERS = {"PND": "Pand", "VBO": "Verblijfsobject", "NUM": "Nummeraanduiding",
                 "OPR": "Openbareruimte", "WPL": "Woonplaats", "LIG": "Ligplaats", "STA": "Standplaats"}


_LVBAG_CODES = {v.lower(): k for k, v in _LVBAG_LAYERS.items()}


@dataclass(frozen=True)
class _Dataset:
    path: str            # what GDAL opens (file, folder or /vsizip/ chain)
    layer: str | None    # LVBAG layer name, None for the first layer of a single file


def _xml_re(code: str) -> re.Pattern:
    return re.compile(rf"^\d{{4}}{code}\d{{8}}(-\d+)?\.xml$", re.IGNORECASE)


def _zip_re(code: str) -> re.Pattern:
    return re.compile(rf"^\d{{4}}{code}\d{{8}}\.zip$", re.IGNORECASE)


class _LvbagSource:
    """Resolves an LVBAG path into GDAL datasets per object type; owns temporary extractions."""

    def __init__(self, path: str | Path, kind: str) -> None:
        self.path = Path(path)
        self.kind = kind
        self._tmp: str | None = None
        self._single_layer: str | None = None
        self._resolved: dict[str, list[_Dataset]] = {}
        if kind == "xml":
            check_xml_complete(path)
            with source_errors(path, "an LVBAG XML extract file"):
                layers = pyogrio.list_layers(str(path))
            names = [str(n) for n, _ in layers]
            if len(names) != 1 or names[0].lower() not in _LVBAG_CODES:
                raise SourceError(path, "is an XML file but not an LVBAG extract file (GDAL's LVBAG driver "
                                        "does not recognise it)")
            self._single_layer = names[0]
        elif kind == "zip":
            self._entries = zip_entries(path)

    def close(self) -> None:
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def datasets(self, code: str) -> list[_Dataset]:
        """GDAL datasets holding objects of type ``code`` (PND, VBO, NUM, OPR, WPL); resolved once."""
        if code not in self._resolved:
            self._resolved[code] = self._datasets(code)
        return self._resolved[code]

    def _datasets(self, code: str) -> list[_Dataset]:
        layer = _LVBAG_LAYERS[code]
        if self.kind == "xml":
            if self._single_layer.lower() == layer.lower():
                return [_Dataset(str(self.path), None)]
            return self._dir_datasets(self.path.parent, code)
        if self.kind == "dir":
            return self._dir_datasets(self.path, code)
        return self._zip_datasets(code)

    def _dir_datasets(self, folder: Path, code: str) -> list[_Dataset]:
        files = sorted(p for p in folder.iterdir() if p.is_file() and _xml_re(code).match(p.name))
        if files:
            for p in files:
                if p != self.path:
                    if p.stat().st_size == 0:
                        raise SourceError(p, "file is empty (0 bytes)")
                    check_xml_complete(p)
            return [_Dataset(str(p), None) for p in files]
        zips = sorted(p for p in folder.iterdir() if p.is_file() and _zip_re(code).match(p.name))
        return [_Dataset(f"/vsizip/{p.resolve().as_posix()}", _LVBAG_LAYERS[code]) for p in zips]

    def _zip_datasets(self, code: str) -> list[_Dataset]:
        outer = self.path.resolve().as_posix()
        entries = [e for e in self._entries if not e.startswith("__MACOSX/")]
        xmls = [e for e in entries if _xml_re(code).match(Path(e).name)]
        if xmls:
            return [_Dataset(f"/vsizip/{outer}/{e}", None) for e in sorted(xmls)]
        inner = sorted(e for e in entries if _zip_re(code).match(Path(e).name))
        out = []
        for entry in inner:
            chain = f"/vsizip//vsizip/{outer}/{entry}"
            try:
                pyogrio.list_layers(chain)
            except READ_ERRORS:
                chain = self._extract(entry)
            out.append(_Dataset(chain, _LVBAG_LAYERS[code]))
        return out

    def _extract(self, entry: str) -> str:
        """Fallback: copy an inner zip to a private temporary folder and read it from there."""
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="plekzoeker-lvbag-")
        target = Path(self._tmp) / Path(entry).name
        with source_errors(self.path, "an LVBAG zip"), zipfile.ZipFile(self.path) as zf, \
                zf.open(entry) as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        return f"/vsizip/{target.as_posix()}"


@contextlib.contextmanager
def _lvbag(path: str | Path, kind: str) -> Iterator[_LvbagSource]:
    src = _LvbagSource(path, kind)
    try:
        yield src
    finally:
        src.close()


_VERSION_COLS = ("identificatie", "voorkomenIdentificatie", "beginGeldigheid", "eindGeldigheid")


def _lvbag_current(src: _LvbagSource, code: str, columns: Sequence[str], chunk_size: int,
                   municipality: str | None = None, required: bool = True,
                   read_geometry: bool = True) -> Iterator[pd.DataFrame]:
    """Current versions of one LVBAG object type, chunk by chunk (raw LVBAG column names,
    ``identificatie`` normalised, geometry in column ``geometry`` when read)."""
    datasets = src.datasets(code)
    if not datasets:
        if required:
            raise SourceError(src.path, f"contains no LVBAG {_LVBAG_LAYERS[code]} ({code}) files "
                                        f"(expected names like 0221{code}15092020-000001.xml)")
        return
    wanted = list(dict.fromkeys([*columns, *_VERSION_COLS]))
    where = f"identificatie LIKE '{municipality}%'" if municipality else None
    versions = CurrentVersions()
    for ds in datasets:
        with source_errors(src.path, "an LVBAG extract"):
            try:
                info = pyogrio.read_info(ds.path, layer=ds.layer, LEGACY_ID="YES")
            except pyogrio.errors.DataLayerError:
                continue  # this part holds no such objects
            layer_name = str(info.get("layer_name") or ds.layer or "")
            if ds.layer is None and layer_name.lower() != _LVBAG_LAYERS[code].lower():
                continue
            missing = [c for c in wanted if c not in list(info["fields"])]
            if missing:
                raise SourceError(src.path, f"LVBAG {layer_name} data lacks required field(s): {', '.join(missing)}")
            if read_geometry and code in ("PND", "VBO"):
                crs = rd_crs_or_error(src.path, info.get("crs"))
                if not is_rd(crs):
                    raise SourceError(src.path, f"LVBAG data in unexpected CRS {crs.to_string()}")
            for meta, batch in arrow_batches(ds.path, ds.layer, columns=wanted, chunk_size=chunk_size, where=where,
                                        read_geometry=read_geometry, LEGACY_ID="YES"):
                table = batch_table(batch)
                geom_col = meta["geometry_name"] or "wkb_geometry"
                geoms = wkb_geoms(table, geom_col) if read_geometry and geom_col in table.column_names else None
                if geoms is not None:
                    table = table.drop_columns([geom_col])
                lists = {name: _strip_list(table.column(name)) for name in table.column_names
                         if pa.types.is_list(table.schema.field(name).type)}
                frame = arrow_frame(table.drop_columns(list(lists)))
                for name, values in lists.items():
                    frame[name] = pd.Series(values, dtype=object)
                frame["identificatie"] = as_ids(frame["identificatie"], pad=False)
                if geoms is not None:
                    frame["geometry"] = pd.Series(geoms, dtype=object)
                frame["_key"] = id_keys(frame["identificatie"])
                frame["_current"] = frame["eindGeldigheid"].isna().to_numpy(dtype=bool)
                frame["_voorkomen"] = frame["voorkomenIdentificatie"].fillna(-1).astype("int64")
                frame["_begin"] = pd.to_datetime(frame["beginGeldigheid"], errors="coerce")
                out = versions.feed(frame)
                if len(out):
                    yield out
    rest = versions.flush()
    if rest is not None and len(rest):
        yield rest


def _strip_list(column: pa.ChunkedArray) -> list[list[str]]:
    """list<string> → Python lists with ``NL.IMBAG.X.`` prefixes removed (vectorised in Arrow)."""
    arr = column.combine_chunks()
    if arr.offset:
        arr = pa.concat_arrays([arr])
    flat = pc.replace_substring_regex(pc.cast(pc.list_flatten(arr), pa.string()), r"^.*\.", "")
    rebuilt = pa.ListArray.from_arrays(arr.offsets, flat)
    return [v if v is not None else [] for v in pc.if_else(arr.is_null(), pa.scalar([], rebuilt.type),
                                                            rebuilt).to_pylist()]


def lvbag_pand(path: str | Path, kind: str, area: Area | None, chunk_size: int) -> Iterator[gpd.GeoDataFrame]:
    cols = ["status", "oorspronkelijkBouwjaar", "documentDatum"]
    with _lvbag(path, kind) as src:
        for frame in _lvbag_current(src, "PND", cols, chunk_size, area.municipality if area else None):
            n = len(frame)
            bouwjaar = as_int(frame["oorspronkelijkBouwjaar"])
            out = pd.DataFrame({
                "identificatie": frame["identificatie"].to_numpy(),
                "status": as_text(frame["status"]).to_numpy(),
                "bouwjaar": bouwjaar.mask(bouwjaar == 9999).to_numpy(),
                "documentdatum": as_date(frame["documentDatum"], n).to_numpy(),
                "begingeldigheid": as_date(frame["beginGeldigheid"], n).to_numpy(),
            })
            out["bouwjaar"] = out["bouwjaar"].astype("Int64")
            gdf = finish_frame(out, frame["geometry"].to_numpy(), area, PAND_COLUMNS)
            if len(gdf):
                yield gdf


def _address_lookup(src: _LvbagSource, chunk_size: int, municipality: str | None) -> pd.DataFrame | None:
    """NUM (current) joined with OPR and WPL: index int64 nummeraanduiding key →
    openbare_ruimte, huisnummer, huisletter, toevoeging, postcode, woonplaats."""
    num_cols = ["huisnummer", "huisletter", "huisnummerToevoeging", "postcode", "openbareruimteRef", "woonplaatsRef"]
    parts = []
    for frame in _lvbag_current(src, "NUM", num_cols, chunk_size, municipality, required=False, read_geometry=False):
        parts.append(pd.DataFrame({
            "_key": frame["_key"].to_numpy(),
            "huisnummer": as_int(frame["huisnummer"]).to_numpy(),
            "huisletter": as_text(frame["huisletter"]).to_numpy(),
            "toevoeging": as_text(frame["huisnummerToevoeging"]).to_numpy(),
            "postcode": postcode_text(as_text(frame["postcode"])).to_numpy(),
            "opr": as_ids(frame["openbareruimteRef"], pad=False).to_numpy(),
            "wpl": as_text(frame["woonplaatsRef"]).str.replace(r"^.*\.", "", regex=True).to_numpy(),
        }))
    if not parts:
        return None
    num = pd.concat(parts, ignore_index=True)
    num = num[num["_key"] >= 0].drop_duplicates("_key", keep="first")
    num["huisnummer"] = num["huisnummer"].astype("Int64")

    opr_parts = [pd.DataFrame({"opr": f["identificatie"].to_numpy(), "openbare_ruimte": as_text(f["naam"]).to_numpy(),
                               "opr_wpl": as_text(f["woonplaatsRef"]).str.replace(r"^.*\.", "", regex=True).to_numpy()})
                 for f in _lvbag_current(src, "OPR", ["naam", "woonplaatsRef"], chunk_size, None,
                                         required=False, read_geometry=False)]
    if opr_parts:
        opr = pd.concat(opr_parts, ignore_index=True).drop_duplicates("opr")
        num = num.merge(opr, on="opr", how="left")
    else:
        num["openbare_ruimte"] = pd.Series(None, index=num.index, dtype="str")
        num["opr_wpl"] = pd.Series(None, index=num.index, dtype="str")
    wpl_ref = num["wpl"].fillna(num["opr_wpl"])
    wpl_parts = [pd.DataFrame({"wpl_id": as_text(f["identificatie"]).to_numpy(), "woonplaats": as_text(f["naam"]).to_numpy()})
                 for f in _lvbag_current(src, "WPL", ["naam"], chunk_size, None, required=False, read_geometry=False)]
    if wpl_parts:
        wpl = pd.concat(wpl_parts, ignore_index=True).drop_duplicates("wpl_id").set_index("wpl_id")["woonplaats"]
        num["woonplaats"] = wpl_ref.map(wpl)
    else:
        num["woonplaats"] = pd.Series(None, index=num.index, dtype="str")
    return num.set_index("_key")[["openbare_ruimte", "huisnummer", "huisletter", "toevoeging", "postcode",
                                  "woonplaats"]]


def lvbag_vbo(path: str | Path, kind: str, area: Area | None, chunk_size: int) -> Iterator[gpd.GeoDataFrame]:
    cols = ["status", "gebruiksdoel", "oppervlakte", "pandRef", "hoofdadresNummeraanduidingRef", "documentDatum"]
    municipality = area.municipality if area else None
    with _lvbag(path, kind) as src:
        if not src.datasets("VBO"):
            raise SourceError(path, "contains no LVBAG Verblijfsobject (VBO) files "
                                    "(expected names like 0221VBO15092020-000001.xml)")
        addresses = _address_lookup(src, chunk_size, municipality)
        for frame in _lvbag_current(src, "VBO", cols, chunk_size, municipality):
            n = len(frame)
            out = pd.DataFrame({
                "identificatie": frame["identificatie"].to_numpy(),
                "pand_ids": frame["pandRef"].to_numpy(),
                "gebruiksdoelen": frame["gebruiksdoel"].to_numpy(),
                "oppervlakte": as_int(frame["oppervlakte"]).to_numpy(),
                "status": as_text(frame["status"]).to_numpy(),
                "documentdatum": as_date(frame["documentDatum"], n).to_numpy(),
                "begingeldigheid": as_date(frame["beginGeldigheid"], n).to_numpy(),
            })
            out["oppervlakte"] = out["oppervlakte"].astype("Int64")
            ref = id_keys(as_ids(frame["hoofdadresNummeraanduidingRef"], pad=False))
            if addresses is not None:
                addr = addresses.reindex(ref).reset_index(drop=True)
            else:
                addr = pd.DataFrame(index=range(n), columns=["openbare_ruimte", "huisnummer", "huisletter",
                                                             "toevoeging", "postcode", "woonplaats"])
            for name in ("openbare_ruimte", "huisletter", "toevoeging", "postcode", "woonplaats"):
                out[name] = pd.Series(addr[name].astype("str").to_numpy(), dtype="str")
            out["huisnummer"] = pd.array(addr["huisnummer"], dtype="Int64")
            gdf = finish_frame(out, as_points(frame["geometry"].to_numpy()), area, VBO_COLUMNS)
            if len(gdf):
                yield gdf
