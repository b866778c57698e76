"""``report_GMxxxx.html``: a printable page per municipality for a meeting with an alderman.

Per municipality: the counts and the total usable area, the best ``REPORT_TOP`` candidates as cards
(rank, address or parcel, what it is, area, score, why, evidence, outreach status, a small map of
the candidate among its buildings and streets as inline SVG) and the coverage: which inputs were
loaded, when, with how many rows (a signal whose input is missing was not used: unknown, not
"absent"). One static file, no script, nothing from the network (CSP ``default-src 'none'``);
print it to PDF from the browser (A4, one card never split over two pages).

``svg_map`` is pure: geometry in RD New in, SVG text out (y flipped, fitted to the box).
"""
from __future__ import annotations

import base64
import hashlib
import html
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from plekzoeker.db import ledger
from plekzoeker.db.sqlfile import named_statements

from .geojson import PUBLIC_MODE
from .qgis_style import CLASSES

REPORT_TOP = 10
SURROUNDINGS_M = 120.0
QUERIES = named_statements(Path(__file__).with_name("sql") / "report.sql")
KIND_WORDS = {"vacant_building": "vacant building", "undeveloped_plot": "undeveloped plot"}
STYLE = {"building": 'fill="#ddd5cc" stroke="#b5aa9f" stroke-width="0.6"',
         "water": 'fill="#b5d0ea" stroke="none"',
         "street": 'fill="none" stroke="#ffffff" stroke-width="4" stroke-linecap="round"',
         "path": 'fill="none" stroke="#a89f95" stroke-width="1" stroke-dasharray="3 3"'}
CSS = """
@page { size: A4; margin: 14mm; }
body { font: 11pt/1.35 system-ui, sans-serif; color: #222; margin: 0 auto; max-width: 190mm; }
h1 { font-size: 18pt; margin: 0 0 2mm; } h2 { font-size: 13pt; margin: 6mm 0 2mm; border-bottom: 1px solid #999; }
.sub { color: #555; margin: 0 0 4mm; }
.facts { display: flex; gap: 8mm; margin: 3mm 0; } .facts div { font-size: 10pt; color: #555; }
.facts b { display: block; font-size: 16pt; color: #222; }
.card { display: grid; grid-template-columns: 58mm 1fr; gap: 4mm; border: 1px solid #ccc; border-radius: 2mm;
        padding: 3mm; margin: 0 0 3mm; break-inside: avoid; page-break-inside: avoid; }
.card svg { width: 58mm; height: 58mm; background: #f2efe9; border: 1px solid #ddd; }
.card h3 { margin: 0 0 1mm; font-size: 12pt; } .card .kind { color: #555; font-size: 10pt; }
.card table { border-collapse: collapse; font-size: 9.5pt; } .card th { text-align: left; font-weight: normal;
        color: #555; padding: 0.5mm 3mm 0.5mm 0; vertical-align: top; white-space: nowrap; }
.score { display: inline-block; padding: 0 2mm; border-radius: 1mm; font-weight: bold; }
table.cov { border-collapse: collapse; font-size: 9.5pt; width: 100%; }
table.cov th, table.cov td { text-align: left; border-bottom: 1px solid #ddd; padding: 1mm 2mm 1mm 0; }
.note { color: #666; font-size: 9pt; }
"""


def _class(score: float | None) -> int | None:
    for i, (lo, hi, _) in enumerate(CLASSES):
        if score is not None and lo <= score < hi:
            return i
    return None


def _colour(score: float | None) -> str:
    for lo, hi, rgba in CLASSES:
        if score is not None and lo <= score < hi:
            r, g, b, *_ = (int(x) for x in rgba.split(","))
            return f"#{r:02x}{g:02x}{b:02x}"
    return "#9e9e9e"


def _path(geom, tx) -> str:
    """SVG path data of a (multi)polygon or (multi)linestring, coordinates through ``tx``."""
    out = []
    parts = getattr(geom, "geoms", [geom])
    for g in parts:
        rings = [g.exterior, *g.interiors] if g.geom_type == "Polygon" else [g] if g.geom_type == "LineString" else []
        for ring in rings:
            xy = tx(np.asarray(ring.coords)[:, :2])
            if len(xy) < 2:
                continue
            out.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in xy) + (" Z" if g.geom_type == "Polygon" else ""))
    return " ".join(out)


def svg_map(candidate, surroundings: list[tuple[str, object]], score: float | None, size: int = 220,
            margin_m: float = 40.0) -> str:
    """A small square map: the candidate (score colour, dark outline) among buildings, streets, water."""
    x0, y0, x1, y1 = candidate.bounds
    half = max(x1 - x0, y1 - y0) / 2 + margin_m
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    scale = size / (2 * half)

    def tx(c: np.ndarray) -> np.ndarray:
        return np.column_stack([(c[:, 0] - (cx - half)) * scale, ((cy + half) - c[:, 1]) * scale])
    view = shapely.box(cx - half, cy - half, cx + half, cy + half)
    layers = []
    for what in ("water", "building", "path", "street"):
        d = " ".join(_path(g.intersection(view), tx) for w, g in surroundings if w == what and g.intersects(view))
        if d.strip():
            layers.append(f'<path class="s-{what}" {STYLE[what]} d="{d}"/>')
    bar = 50 if half > 60 else 20
    layers.append(f'<path class="s-candidate" fill="{_colour(score)}" fill-opacity="0.8" stroke="#111" stroke-width="2" '
                  f'd="{_path(candidate, tx)}"/>')
    layers.append(f'<path d="M8,{size - 8} h{bar * scale:.1f}" stroke="#333" stroke-width="2"/>'
                  f'<text x="8" y="{size - 12}" font-size="10" fill="#333">{bar} m</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" role="img" '
            f'aria-label="map of the candidate and its surroundings">{"".join(layers)}</svg>')


def coverage(conn: sa.Connection) -> list[dict]:
    """What the report's candidates were found with: the latest load of every input and the rasters."""
    return ledger.inputs_used(conn)


def surroundings(conn: sa.Connection, geom, r: float = SURROUNDINGS_M) -> list[tuple[str, object]]:
    rows = conn.execute(sa.text(QUERIES["surroundings"]),
                        {"geom": shapely.to_wkb(shapely.set_srid(geom, 28992), include_srid=True), "r": r}).all()
    return [(w, shapely.from_wkb(bytes(b))) for w, b in rows]


def _e(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return "unknown"
    return html.escape(str(v))


def build_report(gm: str, ranked: gpd.GeoDataFrame, lists: pd.DataFrame, cov: list[dict],
                 maps: dict[str, str], published_at: str, top: int = REPORT_TOP) -> str:
    """The page for one municipality (``ranked`` already filtered to it, best first)."""
    what = dict(zip(lists["candidate_key"], lists["what"])) if len(lists) else {}
    n_b = int((ranked["kind"] == "vacant_building").sum())
    n_p = int((ranked["kind"] == "undeveloped_plot").sum())
    cards = []
    for r in ranked.head(top).itertuples():
        rows = [("score", f'<span class="score c{_class(r.score)}">{r.score:.2f}</span>'),
                ("what", _e(what.get(r.candidate_key))), ("area", f"{r.area_m2:.0f} m²"),
                ("why", _e(r.why)), ("evidence" if r.kind == "vacant_building" else "removed", _e(r.evidence)),
                ("first seen", _e(r.first_seen)), ("outreach", _e(r.outreach_status))]
        table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
        cards.append(f'<div class="card" data-key="{html.escape(r.candidate_key)}">{maps.get(r.candidate_key, "")}'
                     f'<div><div class="kind">#{int(r.rank_municipality)} in {html.escape(gm)} · '
                     f'{KIND_WORDS.get(r.kind, r.kind)}</div><h3>{_e(r.label)}</h3><table>{table}</table></div></div>')
    cov_rows = "".join(
        f"<tr><td>{_e(c['kind'])}</td><td>{_e(Path(str(c['path'])).name)}</td>"
        f"<td>{_e(c['loaded_at'].date() if hasattr(c['loaded_at'], 'date') else c['loaded_at'])}</td>"
        f"<td>{'' if c['rows_out'] is None else c['rows_out']}</td>"
        f"<td>{'' if c['rows_rejected'] is None else c['rows_rejected']}</td></tr>" for c in cov)
    kinds = {c["kind"] for c in cov}
    missing = [k for k in ("bag", "brk", "osm", "bgt", "signal:vacancy", "signal:establishments", "signal:energy",
                           "signal:listings") if k not in kinds]
    body = f"""<h1>Candidates to verify in {html.escape(gm)}</h1>
<p class="sub">plekzoeker, published {html.escape(published_at)}. Candidates to verify, never verdicts: no open
register says a building is empty.</p>
<div class="facts"><div><b>{len(ranked)}</b>candidates</div><div><b>{n_b}</b>vacant buildings</div>
<div><b>{n_p}</b>undeveloped plots</div><div><b>{ranked['area_m2'].sum():,.0f} m²</b>vacant floor / usable plot area</div>
<div><b>unknown</b>people (capacity is not estimated)</div></div>
<h2>The best {min(top, len(ranked))}</h2>
{''.join(cards) or '<p>No ranked candidates in this municipality.</p>'}
<h2>Coverage: what these candidates were found with</h2>
<table class="cov"><tr><th>input</th><th>file</th><th>loaded</th><th>rows</th><th>rejected</th></tr>{cov_rows}</table>
<p class="note">Not loaded: {html.escape(', '.join(missing)) if missing else 'none'}. A signal whose input is not
loaded counts neither for nor against a candidate (unknown, not absent).</p>"""
    css = CSS + "".join(f".score.c{i} {{ background: {_colour((lo + min(hi, 1)) / 2)}; }}\n"
                        for i, (lo, hi, _) in enumerate(CLASSES)) + ".score.cNone { background: #9e9e9e; }\n"
    css_hash = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    csp = f"default-src 'none'; style-src 'sha256-{css_hash}'; img-src data:; base-uri 'none'; form-action 'none'"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>plekzoeker — {html.escape(gm)}</title><style>{css}</style></head>
<body>{body}</body></html>
"""


def report_pages(conn: sa.Connection, ranked: gpd.GeoDataFrame, lists: pd.DataFrame, published_at: str,
                 top: int = REPORT_TOP) -> dict[str, str]:
    """``report_<GMxxxx>.html`` -> page, per municipality with ranked candidates (reads the surroundings)."""
    pages: dict[str, str] = {}
    if not len(ranked):
        return pages
    cov = coverage(conn)
    for gm, part in ranked.groupby(ranked["municipality"].fillna("unknown"), sort=True):
        part = part.sort_values("rank_municipality")
        maps = {r.candidate_key: svg_map(r.geometry, surroundings(conn, r.geometry), r.score)
                for r in part.head(top).itertuples()}
        mine = lists[lists["municipality"].fillna("unknown") == gm] if len(lists) else lists
        pages[f"report_{gm}.html"] = build_report(str(gm), part, mine, cov, maps, published_at, top)
    return pages


def write_pages(outdir: Path, pages: dict[str, str]) -> None:
    """Each page to a temp name, then renamed into place."""
    for name, page in pages.items():
        tmp = outdir / f".{name}.tmp"
        tmp.write_text(page, encoding="utf-8")
        tmp.chmod(PUBLIC_MODE)
        tmp.replace(outdir / name)


__all__ = ["build_report", "report_pages", "svg_map", "write_pages"]
