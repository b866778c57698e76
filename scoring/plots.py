"""Undeveloped plots: parcels with little building on them, large and wide enough for temporary homes.

Steps (overlays in PostGIS with spatial indexes, see ``sql/plots.sql``; width test and raster
exclusions vectorised in shapely/rasterio here):

1. parcels (or, with an owner export, unions of adjacent parcels of the same owner) of at least
   ``min_area_m2`` whose building coverage (BAG panden that stand: in use, under construction,
   renovation, out of use, demolition permit; plus BGT pand polygons) is below ``max_building_coverage``;
2. subtract buildings and exclusion areas (OSM land use/natural tags, BGT water/roads/terrain
   classes) and, when registered, raster cells above a threshold (e.g. noise Lden > 65 dB);
3. keep what survives a morphological opening with radius ``min_width_m / 2`` (a negative buffer
   then a positive one): slivers narrower than the minimum width disappear;
4. a plot is a candidate when the remaining usable area is at least ``min_area_m2``.
Every plot records what was removed (what, m²) so a planner can see why its usable area is smaller.

Land cover has two strengths (``plots.exclude_*`` versus ``plots.penalise_*``): a hard exclusion
(parks, sports grounds, woods, BGT bos, ...) is cut out in step 2 like water; a penalised class
(mown grass, BGT groenvoorziening, ...) stays usable and only lowers the plot's ``land_cover_penalty``
= min(1, sum over classes of penalty x share of the *final* usable area it covers), measured after
step 3 so a penalty never counts area that is not offered. The score turns it into the
``land_cover`` sub-score ``1 - penalty``. A parcel that was large and open enough but is left too
small or too narrow *because of* exclusions is not silently dropped: :func:`plot_exclusions` gives
it a ``result.exclusion`` row whose reason lists what removed how much.
"""
from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from plekzoeker.area import bbox_params
from plekzoeker.scoring.plots_config import PlotsConfig

from .raster_mask import raster_exclusion_polygons

log = logging.getLogger(__name__)
SQL_DIR = Path(__file__).with_name("sql")
BUILT_STATUSES = ["Bouwvergunning verleend", "Bouw gestart", "Pand in gebruik", "Pand in gebruik (niet ingemeten)",
                  "Verbouwing pand", "Pand buiten gebruik", "Sloopvergunning verleend"]


def open_by_width(geoms: np.ndarray, min_width_m: float) -> np.ndarray:
    """Morphological opening: remove every part narrower than ``min_width_m`` (vectorised).

    Mitre joins, so a rectangle at least ``min_width_m`` wide comes back whole (round joins would
    shave its corners and push a plot of exactly the minimum area below it).
    """
    r = min_width_m / 2.0
    inner = shapely.buffer(geoms, -r, join_style="mitre")
    opened = shapely.buffer(inner, r, join_style="mitre")
    return shapely.intersection(opened, geoms)


def classify_plots(df: gpd.GeoDataFrame, cfg: dict, raster_excl: dict[str, np.ndarray] | None = None) -> gpd.GeoDataFrame:
    """Apply raster exclusions, the width test and the area test. Adds usable geometry/area and outcome.

    ``df`` has ``usable0`` (geometry after vector exclusions) and ``removed`` (list of dicts);
    ``raster_excl`` maps a raster name to an array of exclusion (multi)polygons, one per row.
    """
    pc = PlotsConfig.from_config(cfg)
    usable = np.asarray(df["usable0"].to_numpy(), dtype=object)
    removed = [list(r) for r in df["removed"]]
    for name, polys in (raster_excl or {}).items():
        cut = shapely.intersection(usable, polys)
        area = shapely.area(cut)
        usable = shapely.difference(usable, polys)
        for i, a in enumerate(area):
            if a > 0.5:
                removed[i].append({"removed": f"raster:{name}>{pc.exclude_raster[name]:g}", "area_m2": round(float(a), 1)})
    before = shapely.area(usable)
    opened = open_by_width(usable, pc.min_width_m)
    opened = shapely.make_valid(opened)
    after = shapely.area(opened)
    for i in range(len(removed)):
        narrow = before[i] - after[i]
        if narrow > 0.5:
            removed[i].append({"removed": f"narrower than {pc.min_width_m:g} m", "area_m2": round(float(narrow), 1)})
    out = df.copy()
    out["land_cover"], out["land_cover_penalty"] = _land_cover(opened, after, df, pc)
    out["usable"] = opened
    out["usable_area"] = after
    out["removed"] = removed
    min_area = pc.min_area_m2
    outcome = np.where(after >= min_area - 1e-6, "usable",
                       np.where(before >= min_area - 1e-6, "too_narrow",
                                np.where(df["area"].to_numpy() >= min_area, "too_small_after_exclusions", "too_small")))
    out["outcome"] = outcome
    return out


def _land_cover(opened: np.ndarray, after: np.ndarray, df: pd.DataFrame, pc: PlotsConfig) -> tuple[list, np.ndarray]:
    """Per plot: the penalised classes on the final usable area (what, m², share, penalty) and the
    total penalty min(1, sum penalty x share); 0 where nothing penalised lies on it."""
    pens = pc.penalties
    covers: list[list[dict]] = []
    total = np.zeros(len(opened))
    rows = df["penalised"] if "penalised" in df.columns else [[]] * len(opened)
    for i, entries in enumerate(rows):
        cov = []
        for e in entries or []:
            g = shapely.from_wkb(bytes.fromhex(e["wkb"])) if isinstance(e.get("wkb"), str) else e.get("geom")
            a = float(shapely.area(shapely.intersection(opened[i], g))) if g is not None and after[i] > 0 else 0.0
            if a <= 0.5:
                continue
            f = pens.get(e["cls"], 0.0)
            share = a / after[i]
            cov.append({"class": e["what"], "area_m2": round(a, 1), "share": round(share, 4), "penalty": f})
            total[i] += f * share
        covers.append(cov)
    return covers, np.round(np.minimum(total, 1.0), 4)


def _gm(cfg: dict, gemeente) -> str | None:
    """The municipality code of a plot: the configured one, else that of the nearest verblijfsobject."""
    return (cfg.get("area") or {}).get("municipality") or (f"GM{gemeente}" if isinstance(gemeente, str) else None)


def plot_exclusions(res: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """result.exclusion rows for the plots lost to exclusions: large and open enough (``area`` at least
    ``min_area_m2``, coverage below the maximum) but too small or too narrow after removing what
    ``removed`` lists (buildings alone do not count). Reason: the removals, largest first."""
    cols = ["candidate_key", "kind", "reason", "details"]
    min_area = PlotsConfig.from_config(cfg).min_area_m2
    rows = []
    lost = res[(res["outcome"] != "usable") & (res["area"] >= min_area)]
    for _, r in lost.iterrows():
        rem = [x for x in r["removed"] if x["removed"] not in ("bag:pand", "bgt:pand")]
        cut = [x for x in rem if not str(x["removed"]).startswith("narrower than")]
        if not cut:
            continue
        rem = sorted(rem, key=lambda x: -x["area_m2"])
        why = "; ".join(f"{x['removed']} {x['area_m2']:.0f} m2" for x in rem)
        anchor = shapely.point_on_surface(r["geom"])
        rows.append({"candidate_key": "perceel:" + (r["kadastrale_aanduiding"] or r["identificatie"]),
                     "kind": "undeveloped_plot",
                     "reason": f"{r['outcome'].replace('_', ' ')}: {why}",
                     "details": {"perceel_id": r["identificatie"], "perceel_ids": list(r["ids"]),
                                 "parcel_area_m2": round(float(r["area"]), 1),
                                 "usable_area_m2": round(float(r["usable_area"]), 1), "removed": rem,
                                 "municipality": _gm(cfg, r.get("gemeente")),
                                 "x": round(anchor.x, 2), "y": round(anchor.y, 2)}})
    return pd.DataFrame(rows, columns=cols)


def detect_plots(conn: sa.Connection, cfg: dict, rasters: dict[str, str] | None = None) -> gpd.GeoDataFrame:
    """Return undeveloped plot candidates as a GeoDataFrame (geometry = usable part of the parcel)."""
    return find_plots(conn, cfg, rasters)[0]


def assess_parcels(conn: sa.Connection, cfg: dict, rasters: dict[str, str] | None = None,
                   perceel_ids: list[str] | None = None) -> gpd.GeoDataFrame:
    """Steps 1-3 of the module doc for every plot of the area, classified (:func:`classify_plots`), or
    (``perceel_ids``) for exactly those parcels, none dropped by size or coverage first: the same SQL and
    functions, so an offered parcel's usable area is the one detection would compute."""
    pc = PlotsConfig.from_config(cfg)
    pens = pc.penalties
    only = perceel_ids is not None
    df = gpd.read_postgis(sa.text((SQL_DIR / "plots.sql").read_text()), conn, geom_col="geom", params={
        "max_cov": 2.0 if only else pc.max_building_coverage, "min_area": 0.0 if only else pc.min_area_m2,
        "osm_excl": list(pc.exclude_osm), "bgt_excl": list(pc.exclude_bgt), "built_statuses": BUILT_STATUSES,
        "osm_pen": [k for k in pens if "=" in k], "bgt_pen": [k for k in pens if "=" not in k],
        "perceel_ids": list(perceel_ids) if only else None, **bbox_params({} if only else cfg)})
    if df.empty:
        return df
    df["usable0"] = shapely.from_wkb(df["usable0"].map(lambda h: bytes.fromhex(h) if isinstance(h, str) else h))
    raster_excl = {}
    for name, threshold in pc.exclude_raster.items():
        if rasters and name in rasters:
            raster_excl[name] = raster_exclusion_polygons(rasters[name], df.geometry.to_numpy(), float(threshold))
    return classify_plots(df, cfg, raster_excl)


def plot_candidates(ok: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """result.candidate columns (no geometry) for classified plots (rows of :func:`assess_parcels`)."""
    gm = lambda g: _gm(cfg, g)  # noqa: E731
    return pd.DataFrame({
        "candidate_key": "perceel:" + ok["kadastrale_aanduiding"].fillna(ok["identificatie"]),
        "kind": "undeveloped_plot",
        "source_ids": [list(ids) for ids in ok["ids"]],
        "municipality": [gm(g) for g in ok["gemeente"]],
        "label": ok["kadastrale_aanduiding"].to_numpy(),
        "area_m2": ok["usable_area"].round(1).to_numpy(),
        "confidence": None,
        "evidence": [list(r) for r in ok["removed"]],
        "details": [{"perceel_id": i, "perceel_ids": list(ids), "parcel_area_m2": round(float(a), 1),
                     "building_coverage": round(float(c / a), 4) if a else None, "kadastrale_aanduiding": k,
                     "land_cover": lc, "land_cover_penalty": float(lp)}
                    for i, ids, a, c, k, lc, lp in zip(ok["identificatie"], ok["ids"], ok["area"], ok["covered"],
                                                       ok["kadastrale_aanduiding"], ok["land_cover"],
                                                       ok["land_cover_penalty"])],
    }, index=ok.index)


def find_plots(conn: sa.Connection, cfg: dict,
               rasters: dict[str, str] | None = None) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Undeveloped plot candidates and the exclusion rows of the plots lost to exclusions (:func:`plot_exclusions`)."""
    pc = PlotsConfig.from_config(cfg)
    res = assess_parcels(conn, cfg, rasters)
    log.info("plots: %d parcels of at least %g m2 with building coverage below %.0f%%", len(res), pc.min_area_m2,
             100 * pc.max_building_coverage)
    if res.empty:
        return (gpd.GeoDataFrame(columns=["candidate_key"], geometry=[], crs=28992),
                pd.DataFrame(columns=["candidate_key", "kind", "reason", "details"]))
    counts = res["outcome"].value_counts().to_dict()
    log.info("plots: outcome %s", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    excl = plot_exclusions(res, cfg)
    if len(excl):
        by_class: dict[str, int] = {}
        for d in excl["details"]:
            for x in d["removed"]:
                by_class[x["removed"]] = by_class.get(x["removed"], 0) + 1
        log.info("plots: %d plot(s) lost to exclusions (plots per class: %s)", len(excl),
                 ", ".join(f"{k} {v}" for k, v in sorted(by_class.items())))
    ok = res[res["outcome"] == "usable"]
    return gpd.GeoDataFrame(plot_candidates(ok, cfg).reset_index(drop=True), geometry=list(ok["usable"]), crs=28992), excl
