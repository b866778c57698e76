"""The publish stage: ranked GeoJSON + QGIS styles into out/<run>/, then out/latest swapped atomically.

Layout of the output directory::

    out/runs/<YYYY-MM-DD>T<HHMMSS>-r<run_id>/   one complete, never-modified publish
    out/<YYYY-MM-DD>  -> runs/...               symlink: the last publish of that day
    out/latest        -> runs/...               symlink: the last publish

Every file is written to a temp name and renamed; the symlinks are replaced with one rename each,
so a reader sees either the previous night's complete set or the new complete set.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa

from .geojson import BAG_VIEWER, KIND_FILES, write_geojson_files, write_json_atomic
from .qgis_style import graduated_qml

log = logging.getLogger(__name__)

RANKED_SQL = """
SELECT c.candidate_key, c.kind, c.label, c.municipality, c.area_m2, c.confidence, c.evidence, c.details,
       s.score, s.rank, s.rank_municipality, s.subscores, s.criteria,
       h.first_seen, coalesce(o.status, 'new') AS outreach_status, c.geom
FROM result.candidate c
JOIN result.score s USING (candidate_key)
LEFT JOIN result.candidate_history h USING (candidate_key)
LEFT JOIN result.outreach o USING (candidate_key)
WHERE s.rank IS NOT NULL AND (CAST(:gm AS text) IS NULL OR c.municipality = CAST(:gm AS text))
ORDER BY s.rank
"""


def evidence_summary(kind: str, evidence: list[dict]) -> str:
    """Evidence in words, e.g. 'vacancy register (listed since 2024-01-01); no active establishment registered'."""
    if kind == "undeveloped_plot":
        return "; ".join(f"removed {e['removed']} ({e['area_m2']:.0f} m²)" for e in evidence) or "nothing removed"
    seen, parts = set(), []
    for e in sorted(evidence, key=lambda e: -abs(e.get("weight", 0))):
        key = (e["signal"], e["value"])
        if key in seen:
            continue
        seen.add(key)
        parts.append(f"{e['signal'].replace('_', ' ')}: {e['value']}")
    return "; ".join(parts)


def ranked_frame(conn: sa.Connection, cfg: dict, municipality: str | None = None) -> gpd.GeoDataFrame:
    """The ranked candidates with flat, documented properties (see outputs.geojson.PROPERTY_DOCS)."""
    df = gpd.read_postgis(sa.text(RANKED_SQL), conn, geom_col="geom", params={"gm": municipality})
    cats = list(cfg["access"]["categories"])
    out = pd.DataFrame({
        "rank": df["rank"].astype("Int64"), "rank_municipality": df["rank_municipality"].astype("Int64"),
        "score": df["score"].round(4), "kind": df["kind"], "candidate_key": df["candidate_key"], "label": df["label"],
        "municipality": df["municipality"], "area_m2": df["area_m2"].round(1), "confidence": df["confidence"],
        "evidence": [evidence_summary(k, e) for k, e in zip(df["kind"], df["evidence"])],
    })
    for cat in cats:
        out[f"dist_{cat}_m"] = [(c or {}).get(f"dist_{cat}_m") for c in df["criteria"]]
    crit_names = sorted({k for s in df["subscores"] for k in (s or {})})
    for k in crit_names:
        out[f"score_{k}"] = [(s or {}).get(k) for s in df["subscores"]]
    out["first_seen"] = df["first_seen"].astype(str).where(df["first_seen"].notna(), None)
    out["outreach_status"] = df["outreach_status"]
    out["bag_viewer"] = [BAG_VIEWER.format(d["pand_id"]) if k == "vacant_building" and d.get("pand_id") else None
                         for k, d in zip(df["kind"], df["details"])]
    return gpd.GeoDataFrame(out, geometry=df.geometry.to_numpy(), crs=28992)


def _swap_symlink(link: Path, target: str) -> None:
    tmp = link.with_name(f".{link.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    if link.exists() and link.is_dir() and not link.is_symlink():  # an old real directory: keep it aside
        link.rename(link.with_name(f"{link.name}.old-{dt.datetime.now():%Y%m%d%H%M%S}"))
    os.replace(tmp, link)


def publish(engine: sa.Engine, cfg: dict, out_dir: str | Path, run_id: int, municipality: str | None = None,
            municipality_files: bool = False, now: dt.datetime | None = None) -> dict:
    """Write one complete publish and point out/latest (and out/<date>) at it. Returns a summary."""
    now = now or dt.datetime.now()
    out_dir = Path(out_dir)
    runs = out_dir / "runs"
    name = f"{now:%Y-%m-%dT%H%M%S}-r{run_id}"
    staging = runs / f".{name}.partial"
    final = runs / name
    with engine.connect() as conn:
        ranked = ranked_frame(conn, cfg, municipality)
    try:
        staging.mkdir(parents=True, exist_ok=False)
        counts = write_geojson_files(ranked, staging, municipality_files)
        for stem in KIND_FILES.values():
            for f in staging.glob(f"{stem}*.geojson"):
                geom = "point" if f.stem.endswith("_points") else "polygon"
                (staging / f"{f.stem}.qml").write_text(graduated_qml(geom), encoding="utf-8")
        top = ranked.head(5)
        summary = {"run_id": run_id, "published_at": now.isoformat(timespec="seconds"), "files": counts,
                   "total": int(len(ranked)),
                   "top5": [{"rank": int(r.rank), "kind": r.kind, "label": r.label, "score": float(r.score),
                             "area_m2": float(r.area_m2)} for r in top.itertuples()]}
        write_json_atomic(staging / "summary.json", summary)
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_symlink(out_dir / f"{now:%Y-%m-%d}", f"runs/{name}")
    _swap_symlink(out_dir / "latest", f"runs/{name}")
    prune(out_dir, keep_days=int(cfg["publish"].get("keep_days", 14)), today=now.date())
    summary["dir"] = str(final)
    log.info("publish: %d ranked candidate(s) written to %s", len(ranked), final)
    return summary


def prune(out_dir: Path, keep_days: int, today: dt.date) -> None:
    """Remove run directories older than ``keep_days`` that no symlink points at."""
    runs = out_dir / "runs"
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


def read_summary(out_dir: str | Path) -> dict:
    return json.loads((Path(out_dir) / "latest" / "summary.json").read_text())
