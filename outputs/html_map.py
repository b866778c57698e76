"""One self-contained ``map.html``: context, both candidate layers coloured by score, the ranked list.

The page has a side panel with the ranked list (rank, label, kind, area, municipality, outreach
status, score) that filters by kind, municipality, status and minimum score, searches by address or
parcel (accents and case ignored) and zooms to a candidate on click; the map filters with it. Under
the candidates a context layer (streets by class, building outlines, water, green) drawn from the
database (``outputs.context``: bounded to the neighbourhoods of the best candidates and a byte
budget). At most ``LIST_MAX`` rows are listed at once (the rest after narrowing the filter), and
above ``SVG_MAX_FEATURES`` candidates are drawn on a canvas, so a national publish stays usable.

Everything is inlined (Leaflet 1.9.4 from ``outputs/vendor/leaflet``, its images as data: URIs,
the GeoJSON of the publish) so the page works offline from a file:// URL and loads nothing from
the network. A Content-Security-Policy with the hashes of the inline scripts and styles enforces
that (``default-src 'none'``). Basemap tiles are opt-in (``publish.map_tiles: {url, attribution}``),
because a page that fetches tiles offline fills the console with errors.

The data are read back from the published GeoJSON files, so the map shows exactly what the files
hold — and, like them, no owner data at all.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from .geojson import KIND_FILES
from .outreach_words import CATEGORY_WORDS
from .qgis_style import CLASSES

HERE = Path(__file__).resolve().parent
VENDOR = HERE / "vendor" / "leaflet"
TEMPLATES = HERE / "templates"
TITLES = {"vacant_building": "Vacant buildings", "undeveloped_plot": "Undeveloped plots"}
NODATA = "#9e9e9e"
SVG_MAX_FEATURES = 3000  # above this, draw on a canvas: thousands of SVG paths make the page sluggish
LIST_MAX = 300  # rows listed at once in the side panel; the count line says how many match
_PLACEHOLDER = re.compile(r"__([A-Z_]+)__")


def _hex(rgba: str) -> str:
    r, g, b, *_ = (int(x) for x in rgba.split(","))
    return f"#{r:02x}{g:02x}{b:02x}"


def leaflet_css() -> str:
    """Leaflet's CSS with ``url(images/x.png)`` turned into data: URIs (no file beside the HTML)."""
    css = (VENDOR / "leaflet.css").read_text(encoding="utf-8")

    def inline(m: re.Match) -> str:
        data = (VENDOR / "images" / m.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode()})"
    return re.sub(r"url\(images/([a-z0-9\-]+\.png)\)", inline, css)


def leaflet_js() -> str:
    """Leaflet's JS without the trailing sourceMappingURL comment (there is no .map beside the HTML)."""
    js = (VENDOR / "leaflet.js").read_text(encoding="utf-8")
    return re.sub(r"\n//# sourceMappingURL=\S+\s*$", "\n", js)


def _script_json(obj) -> str:
    """JSON safe inside <script>: no '<', '>' or '&' that could end the element."""
    return (json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def map_data(publish_dir: Path) -> dict:
    """The layers for the map from ``<stem>.geojson`` and ``<stem>_points.geojson`` in ``publish_dir``."""
    layers = []
    for kind, stem in KIND_FILES.items():
        poly = publish_dir / f"{stem}.geojson"
        if not poly.exists():
            continue
        fc = _load(poly)
        pts_path = publish_dir / f"{stem}_points.geojson"
        points = {}
        if pts_path.exists():
            for f in _load(pts_path)["features"]:
                if f.get("geometry") and f["geometry"]["type"] == "Point":
                    points[f["properties"]["candidate_key"]] = f["geometry"]["coordinates"]
        layers.append({"kind": kind, "title": TITLES[kind], "polygons": fc, "points": points})
    return {"layers": layers}


def tiles_option(cfg: dict) -> dict | None:
    """``publish.map_tiles`` ({url, attribution}) or None; only https URLs with {z}/{x}/{y}."""
    t = (cfg.get("publish") or {}).get("map_tiles")
    if not t:
        return None
    url = t.get("url") if isinstance(t, dict) else str(t)
    if not url or not url.startswith("https://") or not all(s in url for s in ("{z}", "{x}", "{y}")):
        from plekzoeker.errors import ConfigError

        raise ConfigError(f"config publish.map_tiles: {url!r} must be an https URL with {{z}}, {{x}} and {{y}}")
    attribution = t.get("attribution", "") if isinstance(t, dict) else ""
    return {"url": url, "attribution": str(attribution)}


def build_html(data: dict, categories: list[str], title: str, subtitle: str, tiles: dict | None = None) -> str:
    """The complete page as a string."""
    config = {
        "classes": [[lo, hi, _hex(rgba), f"{lo:.1f} – {min(hi, 1):.1f}"] for lo, hi, rgba in CLASSES],
        "nodata": NODATA,
        "categories": [[c, CATEGORY_WORDS.get(c, c.replace("_", " "))] for c in categories],
        "tiles": tiles,
        "canvas": sum(len(layer["polygons"]["features"]) for layer in data["layers"]) > SVG_MAX_FEATURES,
        "list_max": LIST_MAX,
    }
    css = leaflet_css()
    template = (TEMPLATES / "map.html").read_text(encoding="utf-8")
    own_css = re.search(r"<style>\n(html, body.*?)</style>", template, re.DOTALL).group(1)
    js, map_js = leaflet_js(), (TEMPLATES / "map.js").read_text(encoding="utf-8")
    parts = {
        "TITLE": html.escape(title), "SUBTITLE": html.escape(subtitle),
        "LEAFLET_CSS": css, "LEAFLET_JS": js, "MAP_JS": map_js,
        "CONFIG": _script_json(config), "DATA": _script_json(data),
    }
    img = "data:"
    if tiles:  # allow exactly the tile host ({s} subdomains as a wildcard)
        img += " https://" + urlsplit(tiles["url"]).netloc.replace("{s}", "*")
    # the hashes cover the text between <script>/<style> and </...>, exactly as it ends up in the page
    parts["CSP"] = (f"default-src 'none'; script-src {_sha(chr(10) + js + chr(10))} {_sha(chr(10) + map_js + chr(10))}; "
                    f"style-src {_sha(chr(10) + css + chr(10))} {_sha(chr(10) + own_css)}; img-src {img}; "
                    "base-uri 'none'; form-action 'none'")
    return _PLACEHOLDER.sub(lambda m: parts.get(m.group(1), m.group(0)), template)


def write_map(publish_dir: Path, categories: list[str], title: str, subtitle: str, tiles: dict | None = None,
              name: str = "map.html", context: dict | None = None, data: dict | None = None) -> int:
    """Write ``map.html`` into ``publish_dir`` (temp file + rename); returns the number of candidates shown.

    ``context``: what ``outputs.context.context_layers`` returns (None: no context layer).
    ``data``: the layers to show (default: all of :func:`map_data`; a municipality's page passes its own)."""
    data = dict(map_data(publish_dir) if data is None else data)
    data["context"] = context or {"parts": []}
    page = build_html(data, categories, title, subtitle, tiles)
    tmp = publish_dir / f".{name}.tmp"
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(publish_dir / name)
    return sum(len(layer["polygons"]["features"]) for layer in data["layers"])
