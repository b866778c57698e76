"""Map pages at national scale: one ``map_GMxxxx.html`` per municipality and ``map.html`` as an index.

One page that inlines every candidate of the country (tens of thousands of polygons plus their
context) is many megabytes of JSON a browser must parse before it draws anything, and a list no
coordinator scrolls. So above ``publish.map_max_candidates`` candidates the publish is paged:

* ``map_GMxxxx.html`` — the same self-contained page (:mod:`plekzoeker.outputs.html_map`) holding
  only that municipality's candidates and its own context layer (bounded per page as before);
* ``map.html`` — a small static index (no script at all): per municipality the number of
  candidates per kind, the best score and the best place, linked to its page.

At or below the limit ``map.html`` stays the one full page it always was. A single municipality
above the limit still gets one page: Leaflet switches to a canvas above ``SVG_MAX_FEATURES`` and
the side panel lists ``LIST_MAX`` rows at a time, so the page stays usable; its size is in
``summary.json`` (``map_pages``) and the national benchmark measures it.

Candidates without a municipality code go to ``map_unknown.html``: they are shown, not dropped.
"""
from __future__ import annotations

import html
from pathlib import Path

from plekzoeker.errors import ConfigError

from .html_map import _sha, map_data, write_map

INDEX_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; margin: 0 0 4px; }
p { margin: 0 0 12px; color: #444; }
table { border-collapse: collapse; }
th, td { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: left; }
td.n { text-align: right; }
"""
UNKNOWN = "unknown"


def max_candidates(cfg: dict) -> int:
    """``publish.map_max_candidates``, validated: a whole number >= 1."""
    v = cfg["publish"]["map_max_candidates"]
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ConfigError(f"config publish.map_max_candidates: {v!r} must be a whole number >= 1")
    return v


def page_name(municipality: str | None) -> str:
    """``map_GM0228.html``; ``map_unknown.html`` for candidates without a (valid) municipality code."""
    gm = str(municipality or "")
    ok = len(gm) == 6 and gm.startswith("GM") and gm[2:].isdigit()
    return f"map_{gm if ok else UNKNOWN}.html"


def split_by_municipality(data: dict) -> dict[str, dict]:
    """The map data of :func:`html_map.map_data` split into one data set per page name."""
    pages: dict[str, dict] = {}
    for layer in data["layers"]:
        for feature in layer["polygons"]["features"]:
            name = page_name(feature["properties"].get("municipality"))
            page = pages.setdefault(name, {"layers": {}})
            part = page["layers"].setdefault(layer["kind"], {
                "kind": layer["kind"], "title": layer["title"], "points": {},
                "polygons": {"type": "FeatureCollection", "features": []}})
            part["polygons"]["features"].append(feature)
            key = feature["properties"].get("candidate_key")
            if key in layer["points"]:
                part["points"][key] = layer["points"][key]
    return {name: {"layers": list(p["layers"].values())} for name, p in pages.items()}


def _summary_row(name: str, data: dict) -> dict:
    feats = [(layer["kind"], f["properties"]) for layer in data["layers"] for f in layer["polygons"]["features"]]
    best = min(feats, key=lambda kp: (kp[1].get("rank") is None, kp[1].get("rank") or 0))[1]
    counts = {kind: sum(1 for k, _ in feats if k == kind) for kind in ("vacant_building", "undeveloped_plot")}
    return {"page": name, "municipality": name[4:-5], "n": len(feats), **counts,
            "best_score": best.get("score"), "best_label": best.get("label"), "best_rank": best.get("rank")}


def index_html(rows: list[dict], title: str, subtitle: str) -> str:
    """The index page: a table of municipalities, each linking to its page; no script, CSP-locked."""
    css_hash = _sha(INDEX_CSS)
    body = []
    for r in rows:
        score = "" if r["best_score"] is None else f"{float(r['best_score']):.2f}"
        body.append(
            f'<tr><td><a href="{html.escape(r["page"])}">{html.escape(r["municipality"])}</a></td>'
            f'<td class="n">{r["n"]}</td><td class="n">{r["vacant_building"]}</td>'
            f'<td class="n">{r["undeveloped_plot"]}</td><td class="n">{score}</td>'
            f'<td>#{r["best_rank"]} {html.escape(str(r["best_label"] or ""))}</td></tr>')
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src {css_hash}; "
            "base-uri 'none'; form-action 'none'\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{INDEX_CSS}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(title)}</h1>\n<p>{html.escape(subtitle)}</p>\n"
            "<table>\n<thead><tr><th>municipality</th><th>candidates</th><th>vacant buildings</th>"
            "<th>undeveloped plots</th><th>best score</th><th>best place (overall rank)</th></tr></thead>\n<tbody>\n"
            + "\n".join(body) + "\n</tbody>\n</table>\n</body>\n</html>\n")


def write_map_pages(publish_dir: Path, categories: list[str], title: str, subtitle: str, tiles: dict | None,
                    contexts: dict[str, dict]) -> dict:
    """Write one page per municipality and ``map.html`` as their index (each via temp file + rename).

    ``contexts``: page name → context layers (:func:`outputs.context.context_layers`) for that page.
    Returns ``{page name: bytes}`` including ``map.html``."""
    pages = split_by_municipality(map_data(publish_dir))
    rows = []
    sizes: dict[str, int] = {}
    for name in sorted(pages):
        data = pages[name]
        row = _summary_row(name, data)
        rows.append(row)
        write_map(publish_dir, categories, f"plekzoeker — {row['municipality']}: {row['n']} candidates to verify",
                  subtitle, tiles, name=name, context=contexts.get(name), data=data)
        sizes[name] = (publish_dir / name).stat().st_size
    rows.sort(key=lambda r: (-r["n"], r["municipality"]))
    tmp = publish_dir / ".map.html.tmp"
    tmp.write_text(index_html(rows, title, "one page per municipality; " + subtitle), encoding="utf-8")
    tmp.replace(publish_dir / "map.html")
    sizes["map.html"] = (publish_dir / "map.html").stat().st_size
    return sizes
