"""``plekzoeker fetch``: from a municipality code (or name, or box) to a cache folder and a config.

Order: boundary → BAG → kadastrale kaart → BGT → OSM → the extras (``fetch.extras``: Natura 2000,
3DBAG tiles), then ``plekzoeker.yaml``. Each dataset is
skipped when fresh in the manifest (see ``cache.py``), otherwise fetched to a part file, verified
and renamed, then recorded. A failure stops the fetch with one line (``FetchError`` /
``SourceError``); what was fetched before it stays valid and recorded, the failed dataset's old
file (if any) is untouched, and ``plekzoeker.yaml`` is only (re)written when every dataset is
there — so a config never points at a missing or half-written file.

The written config: ``area.municipality`` (for a code or name), ``area.polygon: boundary.geojson``
(the municipality polygon, or the box, in RD New — every reader then cuts by it, so ``--area
GMxxxx`` means this polygon), ``inputs.bag|brk|bgt|osm`` (relative to the folder) and
``fetch.manifest`` (licences for the published ``summary.json``), and ``inputs.natura2000`` /
``inputs.3dbag`` for the extras that were fetched.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from pyproj import Transformer
from shapely.geometry import box, mapping, shape
from shapely.geometry.base import BaseGeometry

from plekzoeker.area import normalise_municipality
from plekzoeker.errors import ConfigError, FetchError

from . import ogcapi, overpass, pdok_download
from .cache import Manifest
from .http import Http, HttpPolicy, write_atomic

log = logging.getLogger(__name__)

DAY = 86_400


@dataclass(frozen=True)
class Target:
    code: str | None = None          # 4 digits
    name: str | None = None
    bbox: tuple[float, float, float, float] | None = None

    @classmethod
    def parse(cls, code: str | None, name: str | None, bbox: str | None) -> Target:
        given = [x for x in (code, name, bbox) if x]
        if len(given) != 1:
            raise ConfigError("fetch needs exactly one of: a municipality code (GMxxxx), --name NAME or --bbox minx,miny,maxx,maxy")
        if code:
            try:
                return cls(code=normalise_municipality(code))
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        if name:
            return cls(name=name.strip())
        try:
            vals = tuple(float(v) for v in str(bbox).split(","))
        except ValueError:
            vals = ()
        if len(vals) != 4 or not (vals[0] < vals[2] and vals[1] < vals[3]):
            raise ConfigError(f"--bbox must be minx,miny,maxx,maxy in RD New (EPSG:28992) with min < max, got {bbox!r}")
        if not ogcapi._plausible_rd(box(*vals)):
            raise ConfigError(f"--bbox {bbox!r} is not in RD New (EPSG:28992) metres within the Netherlands")
        return cls(bbox=vals)  # type: ignore[arg-type]

    def folder_name(self, code: str | None = None) -> str:
        if code or self.code:
            return f"GM{code or self.code}"
        if self.bbox:
            return "bbox-" + "-".join(f"{v:.0f}" for v in self.bbox)
        return "".join(c if c.isalnum() else "_" for c in str(self.name))


class _Bars:
    """rich progress bars with sizes and rates on a terminal (none with --quiet or without a TTY)."""

    def __init__(self, quiet: bool):
        import sys

        self.enabled = not quiet and sys.stderr.isatty()
        self.quiet = quiet
        self._p = None

    @contextmanager
    def task(self, label: str, unit: str = "bytes"):
        if not self.enabled:
            if not self.quiet:
                log.info("%s ...", label)
            yield lambda n, total=None: None
            return
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn

        cols = [TextColumn("{task.description}"), BarColumn()]
        cols += [DownloadColumn(), TransferSpeedColumn()] if unit == "bytes" else [TextColumn("{task.completed:,} features")]
        with Progress(*cols, TimeElapsedColumn(), transient=False) as p:
            t = p.add_task(label, total=None)

            def advance(n: int, total: int | None = None) -> None:
                if total is not None:
                    p.update(t, total=total)
                p.update(t, advance=n)

            yield advance


def _to_wgs84(g: BaseGeometry) -> BaseGeometry:
    import numpy as np
    import shapely

    tr = Transformer.from_crs(28992, 4326, always_xy=True)
    return shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def fetch_area(cfg: dict, target: Target, *, out_root: Path | None = None, refresh: bool = False,
               max_age_days: float | None = None, bag_gpkg: Path | None = None, osm_pbf: Path | None = None,
               quiet: bool = False, extras: list[str] | None = None,
               sleep: Callable[[float], None] = time.sleep) -> dict:
    """Fetch everything the nightly run needs for ``target`` (and the optional ``extras``, default
    ``fetch.extras``); returns a summary with the config path."""
    fc = cfg["fetch"]
    extras = list(fc.get("extras") or []) if extras is None else list(extras)
    ep = fc["endpoints"]
    http = Http(HttpPolicy.from_config(fc), sleep=sleep)
    max_age_s = float(fc["max_age_days"] if max_age_days is None else max_age_days) * DAY
    root = Path(out_root or fc["cache_dir"])
    bars = _Bars(quiet)
    done: dict[str, dict] = {}

    # 1. boundary -------------------------------------------------------------------------------
    if target.bbox:
        folder = root / target.folder_name()
        code, name = None, None
    else:
        folder = root / target.folder_name() if target.code else None
        code, name = target.code, target.name
    man = Manifest.load(folder) if folder else None
    if man and not refresh and man.fresh("boundary", max_age_s):
        b = json.loads((folder / "boundary.geojson").read_text())
        polygon = shape(b["features"][0]["geometry"])
        code = code or b["features"][0]["properties"].get("code")
        done["boundary"] = {"skipped": "fresh"}
    else:
        if target.bbox:
            polygon, url, req = box(*target.bbox), None, {"bbox": list(target.bbox)}
            lic = ("n/a", "box given on the command line")
        else:
            with bars.task("boundary (gemeentegebied)", unit="features") as adv:
                m = ogcapi.find_municipality(http, ep["bestuurlijke_gebieden"], code=code, name=name,
                                             limit=fc["page_limit"])
            code, name, polygon = m["code"], m["name"], m["geometry"]
            url = f"{ep['bestuurlijke_gebieden'].rstrip('/')}/collections/gemeentegebied/items"
            req = {"code": f"GM{code}", "name": name, "crs": ogcapi.RD_URI}
            lic = ogcapi.BOUNDARY_LICENCE
        folder = root / target.folder_name(code)
        man = Manifest.load(folder)
        geo = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
               "features": [{"type": "Feature", "properties": {"code": code, "name": name},
                             "geometry": mapping(polygon)}]}
        write_atomic(folder / "boundary.geojson", json.dumps(geo).encode())
        man.record("boundary", folder / "boundary.geojson", url=url or "", request=req, licence=lic[0],
                   attribution=lic[1])
        done["boundary"] = {"area_km2": round(polygon.area / 1e6, 3)}
    label = f"GM{code}" if code else target.folder_name()

    def need(dataset: str) -> bool:
        if not refresh and man.fresh(dataset, max_age_s):
            done[dataset] = {"skipped": "fresh"}
            log.info("%s: fresh in %s, not fetched again", dataset, folder / "manifest.json")
            return False
        return True

    # 2. BAG ------------------------------------------------------------------------------------
    if need("bag"):
        dest = folder / "bag.gpkg"
        if bag_gpkg:
            res = ogcapi.cut_bag_gpkg(Path(bag_gpkg), polygon, dest)
            man.record("bag", dest, url=f"file://{Path(bag_gpkg).resolve()}", request={"bbox": list(polygon.bounds)},
                       licence=ogcapi.BAG_LICENCE[0], attribution=ogcapi.BAG_LICENCE[1], extra={"counts": res})
        else:
            with bars.task(f"BAG for {label}", unit="features") as adv:
                res = ogcapi.fetch_bag_gpkg(http, ep["bag"], polygon, dest, limit=fc["page_limit"],
                                            max_pages=fc["max_pages"], on_page=lambda n: adv(n))
            man.record("bag", dest, url=f"{ep['bag'].rstrip('/')}/collections/{{pand,verblijfsobject}}/items",
                       request={"bbox": [round(v, 3) for v in polygon.bounds], "bbox-crs": ogcapi.RD_URI, "crs": ogcapi.RD_URI},
                       licence=ogcapi.BAG_LICENCE[0], attribution=ogcapi.BAG_LICENCE[1], extra={"counts": res})
        done["bag"] = res

    # 3./4. kadastrale kaart and BGT ------------------------------------------------------------
    for dataset, service, fmt, types, lic, nice in (
            ("brk", "kadastralekaart", "gml", fc["kadastralekaart_featuretypes"], pdok_download.BRK_LICENCE, "kadastrale kaart"),
            ("bgt", "bgt", "citygml", fc["bgt_featuretypes"], pdok_download.BGT_LICENCE, "BGT")):
        if not need(dataset):
            continue
        dest = folder / f"{dataset}.zip"
        with bars.task(f"{nice} for {label}") as adv:
            res = pdok_download.download_area(http, ep[service], list(types), fmt, polygon, dest,
                                              what=f"{nice} download for {label}", max_km2=float(fc["max_request_km2"]),
                                              poll_interval_s=float(fc["poll_interval_s"]), max_polls=int(fc["max_polls"]),
                                              sleep=sleep, progress=adv)
        man.record(dataset, dest, url=f"{ep[service].rstrip('/')}/full/custom",
                   request={"featuretypes": list(types), "format": fmt, "tiles": res["tiles"],
                            "geofilter_area_km2": round(pdok_download.request_polygon(polygon).area / 1e6, 3)},
                   licence=lic[0], attribution=lic[1])
        done[dataset] = res

    # 5. OSM ------------------------------------------------------------------------------------
    if need("osm"):
        from plekzoeker.sources.osm import categories_from_config

        poly84 = _to_wgs84(polygon)
        if osm_pbf:
            dest = folder / "osm.osm.pbf"
            res = overpass.cut_pbf(Path(osm_pbf), poly84, dest)
            url, req = f"file://{Path(osm_pbf).resolve()}", {"polygon_wgs84_bounds": list(poly84.bounds)}
        else:
            dest = folder / "osm.osm"
            with bars.task(f"OSM (Overpass) for {label}", unit="features"):
                res = overpass.fetch_osm_xml(poly84, categories_from_config(cfg), dest,
                                             overpass_url=ep["overpass"], cache_folder=folder / "overpass-cache",
                                             policy=http.policy, use_cache=not refresh,
                                             rate_limit=bool(fc["overpass_rate_limit"]), sleep=sleep)
            url, req = f"{ep['overpass'].rstrip('/')}/interpreter", {"queries": res.pop("queries"), "tags": res.pop("tags")}
        man.record("osm", dest, url=url, request=req, licence=overpass.LICENCE, attribution=overpass.ATTRIBUTION,
                   extra={"counts": res})
        done["osm"] = res

    # 6. the extras: Natura 2000 (plot exclusions) and 3DBAG (floors, heights) ----------------------
    if "natura2000" in extras and need("natura2000"):
        from .natura2000 import LICENCE as N2K_LICENCE
        from .natura2000 import fetch_natura2000

        dest = folder / "natura2000.geojson"
        with bars.task(f"Natura 2000 for {label}", unit="features"):
            res = fetch_natura2000(http, ep["natura2000"], fc["natura2000_collection"], polygon.bounds, dest,
                                   limit=fc["page_limit"], max_pages=fc["max_pages"])
        man.record("natura2000", dest, url=f"{ep['natura2000'].rstrip('/')}/collections/{fc['natura2000_collection']}/items",
                   request={"bbox": [round(v, 3) for v in polygon.bounds], "bbox-crs": ogcapi.RD_URI},
                   licence=N2K_LICENCE[0], attribution=N2K_LICENCE[1], extra={"counts": res})
        done["natura2000"] = res
    if "3dbag" in extras and need("3dbag"):
        from .bag3d_tiles import LICENCE as BAG3D_LICENCE
        from .bag3d_tiles import fetch_3dbag

        dest = folder / "3dbag.csv"
        with bars.task(f"3DBAG tiles for {label}", unit="features") as adv:
            res = fetch_3dbag(http, ep["bag3d_tile_index"], polygon, dest, max_tiles=int(fc["bag3d_max_tiles"]),
                              on_tile=lambda n: adv(n))
        man.record("3dbag", dest, url=ep["bag3d_tile_index"], request={"tiles": res["tiles"]},
                   licence=BAG3D_LICENCE[0], attribution=BAG3D_LICENCE[1], extra={"counts": res})
        done["3dbag"] = res

    # 7. the config -----------------------------------------------------------------------------
    files = {d: man.entry(d)["file"] for d in ("bag", "brk", "bgt", "osm")}
    conf = {"area": {"municipality": f"GM{code}" if code else None, "bbox": None, "polygon": "boundary.geojson"},
            "inputs": {"bag": files["bag"], "brk": files["brk"], "bgt": files["bgt"], "osm": files["osm"]},
            "fetch": {"manifest": "manifest.json"}}
    for d in ("natura2000", "3dbag"):  # an extra in the cache (this fetch or an earlier one) is used
        if d in extras and man.entry(d):
            conf["inputs"][d] = man.entry(d)["file"]
    text = ("# written by `plekzoeker fetch`; run: plekzoeker --config " + str(folder / "plekzoeker.yaml") + " nightly\n"
            "# paths are relative to this file; licences and sources: manifest.json\n" + yaml.safe_dump(conf, sort_keys=False))
    write_atomic(folder / "plekzoeker.yaml", text.encode())
    return {"area": label, "folder": str(folder), "config": str(folder / "plekzoeker.yaml"), "datasets": done,
            "requests": http.requests}


def fetch_from_spec(cfg: dict, spec: str, **kw) -> dict:
    """``GMxxxx`` or ``minx,miny,maxx,maxy`` (the ``nightly --fetch`` argument) → :func:`fetch_area`."""
    s = spec.strip()
    if "," in s:
        return fetch_area(cfg, Target.parse(None, None, s), **kw)
    return fetch_area(cfg, Target.parse(s, None, None), **kw)


__all__ = ["Target", "fetch_area", "fetch_from_spec", "FetchError"]
