"""The publish stage: ranked GeoJSON + QGIS styles into out/<run>/, then out/latest swapped atomically.

Layout of the output directory::

    out/runs/<YYYY-MM-DD>T<HHMMSS>-r<run_id>/   one complete, never-modified publish
    out/<YYYY-MM-DD>  -> runs/...               symlink: the last publish of that day
    out/latest        -> runs/...               symlink: the last publish

A publish directory holds: ``vacant_buildings.geojson`` / ``undeveloped_plots.geojson`` (+ ``_points``
versions and a ``.qml`` style each), ``plekzoeker.gpkg`` (the same layers in EPSG:28992 plus the
excluded places, styles in its ``layer_styles`` table), ``report_<GMxxxx>.html`` (printable page per
municipality: the best candidates with a small map each, the coverage), ``plekzoeker.qgs`` (QGIS project over OSM), ``map.html``
(self-contained map), ``outreach_<GMxxxx>.xlsx|csv`` (coordinator lists), ``changes.md|json``
(new / gone / moved since the previous publish), ``ranks.json`` (the baseline for the next
changes report) and ``summary.json``.

Every file is written into a hidden staging directory (each to a temp name and renamed), the
directory is renamed into place, and then the symlinks are replaced with one rename each, so a
reader sees either the previous night's complete set or the new complete set.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa

from plekzoeker.db.ledger import read_coverage
from plekzoeker.errors import PublishError
from plekzoeker.scoring.coverage import coverage_lines, no_data_categories
from plekzoeker.scoring.criteria_config import AccessConfig
from plekzoeker.scoring.ranking import read_profiles

from . import changes as chg
from . import outreach
from .context import context_layers
from .facts_columns import add_fact_columns
from .geojson import BAG_VIEWER, KIND_FILES, write_geojson_files, write_json_atomic
from .geopackage import GPKG_NAME, excluded_frame, write_geopackage
from .html_map import write_map
from .map_pages import page_name, write_map_pages
from .municipality_summary import about_lines, coverage_markdown, municipality_report
from .publish_options import PublishOptions
from .qgis_project import write_project
from .qgis_style import graduated_qml
from .ranking_columns import RANKING_JOIN, layer_columns
from .report import report_pages, write_pages

log = logging.getLogger(__name__)


RANKED_SQL = """
SELECT c.candidate_key, c.kind, c.label, c.municipality, c.area_m2, c.confidence, c.evidence, c.details,
       s.score, s.rank, s.rank_municipality, s.subscores, s.criteria, s.weights,
       h.first_seen, coalesce(o.status, 'new') AS outreach_status, to_jsonb(r) AS ranking, c.geom
FROM result.candidate c
JOIN result.score s USING (candidate_key)
{ranking_join}
LEFT JOIN result.candidate_history h USING (candidate_key)
LEFT JOIN result.outreach o USING (candidate_key)
WHERE s.rank IS NOT NULL AND (CAST(:gm AS text) IS NULL OR c.municipality = CAST(:gm AS text))
ORDER BY s.rank
""".replace("{ranking_join}", RANKING_JOIN)
GONE_SQL = """
SELECT k.candidate_key, h.gone_since, s.excluded_reason, o.status AS outreach_status
FROM unnest(CAST(:keys AS text[])) AS k(candidate_key)
LEFT JOIN result.candidate_history h USING (candidate_key)
LEFT JOIN result.score s USING (candidate_key)
LEFT JOIN result.outreach o USING (candidate_key)
"""


def _removed_words(what: str) -> str:
    if what.startswith("osm:"):
        return f"OSM {what[4:]}"
    if what.startswith("bgt:"):
        return f"BGT {what[4:].replace(':', ' ')}"
    if what == "bag:pand":
        return "buildings (BAG)"
    if what.startswith("raster:"):  # raster:noise_lden>65
        name, _, limit = what[7:].partition(">")
        return f"{name.replace('_', ' ')} above {limit}" if limit else name.replace("_", " ")
    if what.startswith("narrower"):
        return f"parts {what}"
    return what


def evidence_summary(kind: str, evidence: list[dict]) -> str:
    """Evidence in words, one part per signal, strongest first, counter-evidence last, e.g.
    'vacancy register since 2024-01-01 (3 units); low energy use (4–9.6 kWh/m²; 3 units); against: active
    business registered (1 unit)'. Plots: what was removed, e.g. 'removed OSM natural=water (750 m²)'."""
    if kind == "undeveloped_plot":
        return "; ".join(f"removed {_removed_words(str(e['removed']))} ({float(e['area_m2']):.0f} m²)" if "removed" in e
                         else outreach.evidence_phrase(e) for e in evidence) or "nothing removed"  # or: an owner's offer
    groups: dict[str, list[dict]] = {}
    for e in evidence:
        groups.setdefault(e["signal"], []).append(e)
    parts = []
    for signal, items in sorted(groups.items(), key=lambda kv: (-float(kv[1][0].get("weight", 0) or 0), kv[0])):
        strongest = max(items, key=lambda e: (abs(float(e.get("weight", 0) or 0)), str(e.get("value"))))
        phrase = outreach.evidence_phrase(strongest)
        if signal in ("low_energy", "normal_energy"):
            values = sorted({float(m.group()) for e in items if (m := re.match(r"[0-9.]+", str(e.get("value"))))})
            if len(values) > 1:
                phrase = f"{phrase.split(' (')[0]} ({values[0]:g}–{values[-1]:g} kWh/m²)"
        units = len({e.get("unit") for e in items if e.get("unit")})
        if units:
            count = f"{units} unit{'s' if units != 1 else ''}"
            phrase = f"{phrase[:-1]}; {count})" if phrase.endswith(")") else f"{phrase} ({count})"
        parts.append(("against: " if float(strongest.get("weight", 0) or 0) < 0 else "") + phrase)
    return "; ".join(parts)


def ranked_frame(conn: sa.Connection, cfg: dict, municipality: str | None = None) -> gpd.GeoDataFrame:
    """The ranked candidates with flat, documented properties (see outputs.geojson.PROPERTY_DOCS)."""
    df = gpd.read_postgis(sa.text(RANKED_SQL), conn, geom_col="geom", params={"gm": municipality})
    cats = list(AccessConfig.from_config(cfg).categories)
    out = pd.DataFrame({
        "rank": df["rank"].astype("Int64"), "rank_municipality": df["rank_municipality"].astype("Int64"),
        "score": df["score"].round(4), "kind": df["kind"], "candidate_key": df["candidate_key"], "label": df["label"],
        "municipality": df["municipality"], "area_m2": df["area_m2"].round(1), "confidence": df["confidence"],
        "evidence": [evidence_summary(k, e) for k, e in zip(df["kind"], df["evidence"])],
        "why": [outreach.why(k, c, s, w, e) or None for k, c, s, w, e in
                zip(df["kind"], df["criteria"], df["subscores"], df["weights"], df["evidence"])],
    })
    for cat in cats:
        out[f"dist_{cat}_m"] = [(c or {}).get(f"dist_{cat}_m") for c in df["criteria"]]
    for k in sorted({k for c in df["criteria"] for k in (c or {}) if k.startswith("transit_")}):  # with GTFS only
        out[k] = [(c or {}).get(k) for c in df["criteria"]]
    crit_names = sorted({k for s in df["subscores"] for k in (s or {})})
    for k in crit_names:
        out[f"score_{k}"] = [(s or {}).get(k) for s in df["subscores"]]
    out["first_seen"] = df["first_seen"].astype(str).where(df["first_seen"].notna(), None)
    out["outreach_status"] = df["outreach_status"]
    out["bag_viewer"] = [BAG_VIEWER.format(d["pand_id"]) if k == "vacant_building" and d.get("pand_id") else None
                         for k, d in zip(df["kind"], df["details"])]
    out = add_fact_columns(out, conn)
    out = pd.concat([out, layer_columns(df["ranking"], out["rank_municipality"])], axis=1)
    return gpd.GeoDataFrame(out, geometry=df.geometry.to_numpy(), crs=28992)


def _swap_symlink(link: Path, target: str) -> None:
    tmp = link.with_name(f".{link.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    if link.exists() and link.is_dir() and not link.is_symlink():  # an old real directory: keep it aside
        link.rename(link.with_name(f"{link.name}.old-{dt.datetime.now():%Y%m%d%H%M%S}"))
    os.replace(tmp, link)


def _gone_info(conn: sa.Connection, keys: list[str]) -> dict[str, dict]:
    if not keys:
        return {}
    rows = conn.execute(sa.text(GONE_SQL), {"keys": keys}).mappings().all()
    return {r["candidate_key"]: {"gone_since": r["gone_since"], "outreach_status": r["outreach_status"],
                                 "reason": (f"not ranked: {r['excluded_reason']}" if r["excluded_reason"] else None)}
            for r in rows}


def _snapshot_rows(ranked: gpd.GeoDataFrame) -> list[dict]:
    return [{"candidate_key": k, "rank": int(r), "score": float(s), "kind": kd, "label": lb, "municipality": gm}
            for k, r, s, kd, lb, gm in zip(ranked["candidate_key"], ranked["rank"], ranked["score"], ranked["kind"],
                                           ranked["label"], ranked["municipality"])]


def publish(engine: sa.Engine, cfg: dict, out_dir: str | Path, run_id: int, municipality: str | None = None,
            municipality_files: bool = False, now: dt.datetime | None = None, with_owner_names: bool = False) -> dict:
    """Write one complete publish and point out/latest (and out/<date>) at it. Returns a summary.

    ``with_owner_names``: put owner names (personal data) into the coordinator lists (XLSX/CSV) when
    an owner export is loaded. They never go into GeoJSON, the map, the changes report or summary.json.
    """
    now = now or dt.datetime.now()
    out_dir = Path(out_dir)
    runs = out_dir / "runs"
    name = f"{now:%Y-%m-%dT%H%M%S}-r{run_id}"
    staging = runs / f".{name}.partial"
    final = runs / name
    published_at = now.isoformat(timespec="seconds")
    po = PublishOptions.from_config(cfg)
    list_opts, threshold, tiles, ctx_opts, map_max = po.lists, po.rank_move_threshold, po.map_tiles, po.context, \
        po.map_max_candidates
    clock = _Clock()
    previous = chg.read_previous(out_dir)
    known_gm = chg.known_municipalities(previous)
    with engine.connect() as conn:
        ranked = ranked_frame(conn, cfg, municipality)
        excluded = excluded_frame(conn, municipality)
        paged = len(ranked) > map_max
        context = None if paged else context_layers(conn, list(ranked.geometry), ctx_opts)
        page_contexts = ({page_name(gm): context_layers(conn, list(g.geometry), ctx_opts)
                          for gm, g in ranked.groupby(ranked["municipality"].fillna(""), sort=True)} if paged else {})
        rows = outreach.list_frame(conn, municipality, with_owner_names, known_gm)
        reports = report_pages(conn, ranked, rows[["candidate_key", "what", "municipality"]], published_at)  # no owners
        current_keys = set(ranked["candidate_key"])
        gone_info = _gone_info(conn, [c["candidate_key"] for c in (previous or {}).get("candidates", [])
                                      if c["candidate_key"] not in current_keys])
        coverage = read_coverage(conn)
        munis = municipality_report(conn, ranked, cfg, read_profiles(conn))
    clock.lap("read")
    about_extra = coverage_lines(coverage) if coverage else ["unknown (the scoring run recorded no coverage report)"]
    about_extra = [*about_lines(munis), *about_extra]
    # municipalities of listed candidates that are gone, carried forward for the next publish's lists
    kept_gm = {k: gm for k, gm, st in zip(rows["candidate_key"], rows["municipality"], rows["state"])
               if st != "ranked" and isinstance(gm, str)}
    snap = chg.snapshot(_snapshot_rows(ranked), municipality, published_at, run_id, kept_gm)
    report = chg.compare(previous, snap, threshold, gone_info)
    try:
        staging.mkdir(parents=True, exist_ok=False)
        counts = write_geojson_files(ranked, staging, municipality_files)
        for stem in KIND_FILES.values():
            for f in staging.glob(f"{stem}*.geojson"):
                geom = "point" if f.stem.endswith("_points") else "polygon"
                (staging / f"{f.stem}.qml").write_text(graduated_qml(geom), encoding="utf-8")
        clock.lap("geojson")
        gpkg = write_geopackage(staging, ranked, excluded, now.astimezone())
        clock.lap("geopackage")
        write_pages(staging, reports)
        clock.lap("report_pages")
        lists = outreach.write_lists(rows, staging, list_opts, published_at, about_extra)
        clock.lap("lists")
        chg.write_changes(staging, report)
        (staging / "coverage.md").write_text(coverage_markdown(munis, published_at), encoding="utf-8")
        write_json_atomic(staging / chg.RANKS_FILE, snap)
        scope = municipality or "all municipalities"
        map_args = (staging, list(AccessConfig.from_config(cfg).categories), f"plekzoeker — {len(ranked)} candidates to verify",
                    f"{scope}; published {published_at}; colour = score (green = best); click a place for details",
                    tiles)
        if paged:
            map_pages = write_map_pages(*map_args, contexts=page_contexts)
        else:
            write_map(*map_args, context=context)
            map_pages = {"map.html": (staging / "map.html").stat().st_size}
        clock.lap("map")
        bounds = tuple(float(v) for v in ranked.total_bounds) if len(ranked) else None
        write_project(staging, bounds)
        top = ranked.head(5)
        summary = {"run_id": run_id, "published_at": published_at, "files": counts,
                   "total": int(len(ranked)),
                   "top5": [{"rank": int(r.rank), "kind": r.kind, "label": r.label, "score": float(r.score),
                             "area_m2": float(r.area_m2)} for r in top.itertuples()],
                   "lists": lists, "changes": chg.summary_counts(report), "map": "map.html",
                   "map_bytes": sum(map_pages.values()), "map_pages": map_pages,
                   "map_context": _context_summary([context] if context else list(page_contexts.values())),
                   "qgis_project": "plekzoeker.qgs",
                   "geopackage": {"file": GPKG_NAME, "layers": gpkg}, "reports": sorted(reports),
                   "owner_names": "owner_name" in rows.columns,
                   "sources": _licences(cfg),
                   "coverage": coverage, "municipalities": munis,
                   "no_data": no_data_categories((coverage or {}).get("categories") or {}) if coverage else None,
                   "timings_s": clock.laps}
        write_json_atomic(staging / "summary.json", summary)
        os.replace(staging, final)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise PublishError(f"cannot write the publish into {out_dir}: {exc.strerror or exc}; "
                           f"{out_dir / 'latest'} still points at the previous publish") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_symlink(out_dir / f"{now:%Y-%m-%d}", f"runs/{name}")
    _swap_symlink(out_dir / "latest", f"runs/{name}")
    prune(out_dir, keep_days=po.keep_days, today=now.date())
    summary["dir"] = str(final)
    log.info("publish: %d ranked candidate(s) written to %s (%d new, %d gone, %d moved since the previous publish)",
             len(ranked), final, len(report["new"]), len(report["gone"]), len(report["moved"]))
    return summary


class _Clock:
    """Seconds per part of a publish (read, GeoJSON, GeoPackage, lists, map, ...) for summary.json."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        t = time.perf_counter()
        self.laps[name] = round(t - self._t, 3)
        self._t = t


def prune(out_dir: Path, keep_days: int, today: dt.date) -> None:
    """Remove dated links (``out/<date>``) and run directories older than ``keep_days``; a run directory a
    remaining link points at (``latest``, a younger date) stays, however old."""
    runs = out_dir / "runs"
    for link in out_dir.iterdir():
        if link.is_symlink() and link.name != "latest":
            try:
                day = dt.date.fromisoformat(link.name)
            except ValueError:
                continue
            if (today - day).days > keep_days:
                link.unlink()
    live = {os.path.realpath(p) for p in out_dir.iterdir() if p.is_symlink()}
    for d in runs.iterdir():
        if d.name.startswith("."):
            continue
        try:
            day = dt.date.fromisoformat(d.name[:10])
        except ValueError:
            continue
        if (today - day).days > keep_days and os.path.realpath(d) not in live:
            shutil.rmtree(d, ignore_errors=True)
    for link in out_dir.iterdir():
        if link.is_symlink() and not link.exists():
            link.unlink()


def _context_summary(contexts: list[dict]) -> dict:
    """What the map's context layers hold, summed over its pages."""
    parts: dict[str, int] = {}
    for c in contexts:
        for p in c["parts"]:
            parts[f"{p['layer']}:{p['class']}"] = parts.get(f"{p['layer']}:{p['class']}", 0) + p["n"]
    return {"candidates": sum(c["candidates"] for c in contexts),
            "dropped": list(dict.fromkeys(d for c in contexts for d in c["dropped"])), "parts": parts}


def read_summary(out_dir: str | Path) -> dict:
    return json.loads((Path(out_dir) / "latest" / "summary.json").read_text())


def _licences(cfg: dict) -> list[dict]:
    """Licence and attribution of each fetched dataset (from the fetch manifest), [] when nothing was fetched."""
    return licences((cfg.get("fetch") or {}).get("manifest"))


def licences(manifest_path: str | Path | None) -> list[dict]:
    """``[{dataset, licence, attribution, url, fetched_at}]`` from a fetch manifest (sources/fetch/cache.py writes it); [] without one."""
    if not manifest_path:
        return []
    try:
        data = json.loads(Path(manifest_path).read_text())
    except (OSError, ValueError):
        return []
    out = []
    for name, e in sorted((data.get("datasets") or {}).items()):
        if isinstance(e, dict):
            out.append({"dataset": name, **{k: e.get(k) for k in ("licence", "attribution", "url", "fetched_at", "sha256")}})
    return out
