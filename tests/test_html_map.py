"""map.html in a real headless Chromium (Debian `chromium`), driven over the DevTools protocol.

The page must load from a file:// URL without network access and without a single console error,
exception or CSP violation, draw one marker and one area per candidate, open a popup on click
with the candidate's text (as text, never as markup), and a screenshot is kept in
tests/artifacts/map.png. Skipped only when no Chromium is installed:
    apt-get install -y chromium chromium-driver
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import geopandas as gpd
import pytest
from chrome_driver import Chrome, needs_chrome
from shapely.geometry import box

from plekzoeker.outputs import html_map
from plekzoeker.outputs.geojson import write_geojson_files
from plekzoeker.outputs.qgis_style import CLASSES

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
HOSTILE = 'Kerkstraat 1 <img src=x onerror="window.__pwned=1"></script><script>window.__pwned=2</script>'
CATEGORIES = ["stop", "supermarket"]


@pytest.fixture(scope="module")
def chrome():
    c = Chrome()
    yield c
    c.close()


def publish_dir(tmp: Path, n_buildings: int = 3, n_plots: int = 2, municipalities: tuple = ("GM0307",),
                first: dict | None = None) -> Path:
    """GeoJSON files as publish writes them, for a synthetic set with known counts and scores."""
    geoms, rows = [], []
    for i in range(n_buildings + n_plots):
        kind = "vacant_building" if i < n_buildings else "undeveloped_plot"
        x, y = 155_000 + 120 * i, 463_000 + (0 if kind == "vacant_building" else 200)
        geoms.append(box(x, y, x + (30 if kind == "vacant_building" else 80), y + 40))
        rows.append({"rank": i + 1, "score": round(0.95 - 0.2 * i, 3), "kind": kind,
                     "candidate_key": f"pand:{i:016d}" if kind == "vacant_building" else f"perceel:ABC01 A {i}",
                     "label": HOSTILE if i == 0 else f"Plek {i}",
                     "municipality": municipalities[i % len(municipalities)], "area_m2": 900.0 + i,
                     "confidence": 0.8 if kind == "vacant_building" else None, "evidence": "vacancy register: listed",
                     "dist_stop_m": 180.0 + i, "dist_supermarket_m": None, "first_seen": "2026-01-01",
                     "outreach_status": "new",
                     "bag_viewer": f"https://bagviewer.kadaster.nl/lvbag/bag-viewer/?objectId={i:016d}"
                     if kind == "vacant_building" else None})
    rows[0].update(first or {})  # extra properties of the best candidate (e.g. facts)
    tmp.mkdir(parents=True, exist_ok=True)
    write_geojson_files(gpd.GeoDataFrame(rows, geometry=geoms, crs=28992), tmp)
    return tmp


# --- without a browser ---------------------------------------------------------------------------
def test_vendored_leaflet_is_unmodified():
    readme = (html_map.VENDOR.parent / "README.md").read_text()
    listed = dict(re.findall(r"\| `leaflet/([^`]+)` \| `([0-9a-f]{64})` \|", readme))
    assert "leaflet.js" in listed and "leaflet.css" in listed and (html_map.VENDOR / "LICENSE").exists()
    for name, sha in listed.items():
        assert hashlib.sha256((html_map.VENDOR / name).read_bytes()).hexdigest() == sha, name


def test_page_is_self_contained_and_escapes_data(tmp_path):
    d = publish_dir(tmp_path / "pub")
    n = html_map.write_map(d, CATEGORIES, "t <b>", "s")
    page = (d / "map.html").read_text(encoding="utf-8")
    assert n == 5
    assert "</script><script>window.__pwned" not in page  # the label cannot close the data element
    assert "<title>t &lt;b&gt;</title>" in page
    assert not re.search(r"""src\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//|@import""", page), \
        "nothing may load from the network"
    assert "<link" not in page and "sourceMappingURL" not in page and "url(images/" not in page
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    # the data block parses back to exactly the published features
    data = json.loads(re.search(r'<script type="application/json" id="pz-data">(.*?)</script>', page, re.DOTALL).group(1))
    assert [len(layer["polygons"]["features"]) for layer in data["layers"]] == [3, 2]
    assert data["layers"][0]["polygons"]["features"][0]["properties"]["label"] == HOSTILE


def test_tiles_are_opt_in_and_checked():
    from plekzoeker.errors import ConfigError

    assert html_map.tiles_option({"publish": {}}) is None
    t = html_map.tiles_option({"publish": {"map_tiles": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                                                         "attribution": "© OpenStreetMap"}}})
    assert t["url"].startswith("https://tile.openstreetmap.org/")
    with pytest.raises(ConfigError):
        html_map.tiles_option({"publish": {"map_tiles": {"url": "http://evil/{z}/{x}/{y}"}}})


# --- in Chromium ---------------------------------------------------------------------------------
@needs_chrome
def test_map_loads_without_errors_and_shows_every_candidate(chrome, tmp_path):
    d = publish_dir(tmp_path / "pub", n_buildings=3, n_plots=2)
    html_map.write_map(d, CATEGORIES, "plekzoeker test", "5 candidates")
    chrome.events.clear()
    assert chrome.open((d / "map.html").as_uri()), f"map never became ready; problems: {chrome.problems()}"
    assert chrome.problems() == []
    counts = chrome.eval("""({
        markers: document.querySelectorAll('path.pz-marker').length,
        buildings: document.querySelectorAll('path.pz-marker.pz-vacant_building').length,
        plots: document.querySelectorAll('path.pz-marker.pz-undeveloped_plot').length,
        areas: document.querySelectorAll('path.pz-area').length,
        fills: Array.from(document.querySelectorAll('path.pz-marker')).map(p => p.getAttribute('fill')),
        errors: document.getElementById('pz-errors').textContent})""")
    # scores 0.95, 0.75, 0.55, 0.35, 0.15: one per class of the QGIS style, best (green) first
    expected_fills = [html_map._hex(rgba) for _, _, rgba in reversed(CLASSES)]
    assert counts == {"markers": 5, "buildings": 3, "plots": 2, "areas": 5, "fills": expected_fills, "errors": ""}, counts
    # click the first marker: the popup shows the hostile label as text, and nothing in it ran
    chrome.eval("document.querySelector('path.pz-marker.pz-vacant_building')"
                ".dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: 1, clientY: 1}))")
    chrome.pump(0.3)
    popup = chrome.eval("(document.querySelector('.leaflet-popup-content') || {}).textContent || ''")
    assert HOSTILE in popup and "bus/tram stop" in popup and "180 m" in popup
    chrome.eval("document.querySelector('path.pz-marker.pz-vacant_building')"
                ".dispatchEvent(new MouseEvent('mouseover', {bubbles: true, clientX: 1, clientY: 1}))")
    chrome.pump(0.2)
    tooltip = chrome.eval("(document.querySelector('.leaflet-tooltip') || {}).textContent || ''")
    assert tooltip == "#1 " + HOSTILE
    assert chrome.eval("window.__pwned === undefined && !document.querySelector('.leaflet-popup-content img, .leaflet-tooltip img')")
    chrome.screenshot(ARTIFACTS / "map.png")
    assert chrome.problems() == []
    assert (ARTIFACTS / "map.png").stat().st_size > 5_000


@needs_chrome
def test_demo_town_publish_map(chrome, db, demo_dir, tmp_path):
    """The map.html of a real publish (demo town, both layers): one marker per published candidate."""
    import datetime as dt

    from db_helpers import detect_and_score

    from plekzoeker.outputs.publish import publish

    cfg, run_id, _ = detect_and_score(db, demo_dir / "demo.yaml", day=dt.date(2026, 3, 2))
    summary = publish(db, cfg, tmp_path / "out", run_id)
    chrome.events.clear()
    assert chrome.open((tmp_path / "out" / "latest" / "map.html").as_uri()), chrome.problems()
    assert chrome.problems() == []
    got = chrome.eval("[document.querySelectorAll('path.pz-marker.pz-vacant_building').length, "
                      "document.querySelectorAll('path.pz-marker.pz-undeveloped_plot').length, "
                      "document.querySelectorAll('path.pz-area').length]")
    files = summary["files"]
    assert got == [files["vacant_buildings.geojson"], files["undeveloped_plots.geojson"], summary["total"]]
    assert min(got) > 0
    chrome.screenshot(ARTIFACTS / "map_demo.png")


@needs_chrome
def test_large_sets_draw_on_a_canvas(chrome, tmp_path, monkeypatch):
    monkeypatch.setattr(html_map, "SVG_MAX_FEATURES", 4)
    d = publish_dir(tmp_path / "pub", n_buildings=3, n_plots=2)
    html_map.write_map(d, CATEGORIES, "canvas", "5 candidates")
    chrome.events.clear()
    assert chrome.open((d / "map.html").as_uri()), chrome.problems()
    assert chrome.problems() == []
    assert chrome.eval("[document.documentElement.dataset.pzMarkers, document.querySelectorAll('canvas').length > 0, "
                       "document.querySelectorAll('path.pz-marker').length]") == ["5", True, 0]


@needs_chrome
def test_harness_sees_errors(chrome, tmp_path, monkeypatch):
    """The checks above can fail: an exception in the map script, and anything the CSP refuses, are reported."""
    d = publish_dir(tmp_path / "pub", n_buildings=1, n_plots=0)
    templates = tmp_path / "templates"
    templates.mkdir()
    shutil.copy(html_map.TEMPLATES / "map.html", templates / "map.html")
    js = (html_map.TEMPLATES / "map.js").read_text(encoding="utf-8")
    (templates / "map.js").write_text(js.replace('  "use strict";\n', '  "use strict";\n  undefinedFunctionCall();\n', 1),
                                      encoding="utf-8")
    monkeypatch.setattr(html_map, "TEMPLATES", templates)
    html_map.write_map(d, CATEGORIES, "broken", "x")
    chrome.events.clear()
    assert not chrome.open((d / "map.html").as_uri(), wait=1.5)
    assert any("undefinedFunctionCall is not defined" in p for p in chrome.problems()), chrome.problems()

    page = (d / "map.html").read_text(encoding="utf-8")  # an injected script and a remote image: refused
    (d / "map.html").write_text(page.replace('<div id="map"></div>',
                                             '<div id="map"></div><script>window.x=1</script><img src="https://example.org/a.png">'),
                                encoding="utf-8")
    chrome.events.clear()
    chrome.open((d / "map.html").as_uri(), wait=2)
    text = "\n".join(chrome.problems())
    assert "Content Security Policy" in text, text
    assert chrome.eval("window.x") is None


# --- context, list, filters, click to zoom (demo town publish) ----------------------------------
@pytest.fixture(scope="module")
def demo_publish(engine, demo_dir, tmp_path_factory):
    import datetime as dt

    from db_helpers import detect_and_score

    from plekzoeker.outputs.publish import publish

    cfg, run_id, _ = detect_and_score(engine, demo_dir / "demo.yaml", day=dt.date(2026, 3, 2), reset=True)
    import sqlalchemy as sa

    with engine.begin() as c:  # one candidate a coordinator has contacted
        c.execute(sa.text("INSERT INTO result.outreach (candidate_key, status, note) "
                          "SELECT candidate_key, 'contacted', 'called' FROM result.score WHERE rank = 2"))
    out = tmp_path_factory.mktemp("out")
    summary = publish(engine, cfg, out, run_id)
    return cfg, run_id, Path(summary["dir"]), summary


def _candidates(d: Path) -> list[dict]:
    return sorted((f["properties"] for stem in ("vacant_buildings", "undeveloped_plots")
                   for f in json.loads((d / f"{stem}.geojson").read_text())["features"]), key=lambda p: p["rank"])


@needs_chrome
def test_demo_map_context_list_filters_and_click_to_zoom(chrome, demo_publish):
    _, _, d, summary = demo_publish
    cands = _candidates(d)
    ctx = summary["map_context"]
    assert {"streets:minor", "buildings:building", "water:water", "green:green"} <= set(ctx["parts"]), ctx
    assert ctx["dropped"] == [] and summary["map_bytes"] == (d / "map.html").stat().st_size
    chrome.events.clear()
    assert chrome.open((d / "map.html").as_uri()), chrome.problems()
    assert chrome.problems() == []
    # streets, buildings, water and green are drawn, in a pane below the candidates
    got = chrome.eval("""({
        streets: document.querySelectorAll('.leaflet-pz-context-pane path.pz-ctx-streets').length,
        buildings: document.querySelectorAll('.leaflet-pz-context-pane path.pz-ctx-buildings').length,
        water: document.querySelectorAll('.leaflet-pz-context-pane path.pz-ctx-water').length,
        green: document.querySelectorAll('.leaflet-pz-context-pane path.pz-ctx-green').length,
        ctxZ: +getComputedStyle(document.querySelector('.leaflet-pz-context-pane')).zIndex,
        candZ: +getComputedStyle(document.querySelector('path.pz-area').closest('.leaflet-pane')).zIndex,
        listed: document.querySelectorAll('#pz-list li.pz-item').length,
        first: Array.from(document.querySelectorAll('#pz-list li.pz-item .pz-rank')).slice(0, 3).map(e => e.textContent)})""")
    assert got["streets"] >= 2 and got["buildings"] >= 1 and got["water"] >= 1 and got["green"] >= 1, got
    assert got["ctxZ"] < got["candZ"], got
    assert got["listed"] == len(cands) and got["first"] == ["#1", "#2", "#3"]
    chrome.screenshot(ARTIFACTS / "map_demo_context.png")

    def set_filter(id_, value):
        chrome.eval(f"(function(){{var e=document.getElementById({json.dumps(id_)}); e.value={json.dumps(value)}; "
                    "e.dispatchEvent(new Event('input', {bubbles: true}));})()")
        return chrome.eval("[+document.documentElement.dataset.pzListed, document.querySelectorAll('#pz-list li.pz-item').length,"
                           " document.querySelectorAll('path.pz-marker').length]")

    n_plots = sum(p["kind"] == "undeveloped_plot" for p in cands)
    assert set_filter("pz-kind", "undeveloped_plot") == [n_plots, n_plots, n_plots]
    assert set_filter("pz-kind", "") == [len(cands)] * 3
    cut = sorted(p["score"] for p in cands)[len(cands) // 2]
    cut = round(cut - cut % 0.05, 2)
    n_min = sum(p["score"] >= cut - 1e-9 for p in cands)
    assert 0 < n_min < len(cands) or cut == 0
    assert set_filter("pz-min", str(cut)) == [n_min] * 3
    assert set_filter("pz-min", "0") == [len(cands)] * 3
    assert set_filter("pz-status", "contacted") == [1, 1, 1]
    assert chrome.eval("document.querySelector('#pz-list li.pz-item').dataset.key") == cands[1]["candidate_key"]
    assert set_filter("pz-status", "") == [len(cands)] * 3
    street = cands[2]["label"].split()[0]  # e.g. 'Beurslaan'
    n_street = sum(street.lower() in (p["label"] or "").lower() for p in cands)
    assert set_filter("pz-search", street.upper()) == [n_street] * 3
    parcel = next(p for p in cands if p["kind"] == "undeveloped_plot")
    assert set_filter("pz-search", parcel["label"].lower())[0] == 1
    assert set_filter("pz-search", "") == [len(cands)] * 3
    # click a list row: the map zooms to that candidate and opens its popup with the why
    target = cands[-1]
    chrome.eval(f"document.querySelector('#pz-list li[data-key={json.dumps(target['candidate_key'])}]').click()")
    chrome.pump(0.3)
    state = chrome.eval("""({zoomed: document.documentElement.dataset.pzZoomed,
        popup: (document.querySelector('.leaflet-popup-content') || {}).textContent || '',
        selected: (document.querySelector('#pz-list li.pz-selected') || {}).dataset.key})""")
    assert state["zoomed"] == target["candidate_key"] and state["selected"] == target["candidate_key"]
    assert target["label"] in state["popup"] and "why" in state["popup"] and target["why"] in state["popup"]
    # the candidate fills the middle of the map now
    box = chrome.eval("""(function() {
        var m = document.getElementById('map').getBoundingClientRect();
        var p = Array.from(document.querySelectorAll('path.pz-area')).map(e => e.getBoundingClientRect())
            .filter(r => r.width > 0);
        return {mw: m.width, mx: m.left + m.width / 2, my: m.top + m.height / 2,
                 big: p.filter(r => r.width > m.width * 0.15 || r.height > m.height * 0.15).length};
    })()""")
    assert box["big"] >= 1, box
    chrome.screenshot(ARTIFACTS / "map_demo_zoomed.png")
    assert chrome.problems() == []
    # nothing but the page itself (and data: URIs) was requested
    assert [u for u in chrome.requests() if not u.startswith(("file://", "data:"))] == []
    assert any(u.startswith("file://") for u in chrome.requests())


def test_context_budget_drops_layers_in_order():
    from plekzoeker.outputs.context import fit_budget

    line = {"type": "LineString", "coordinates": [[5.0, 52.0], [5.00001, 52.00001]] * 50}
    parts = [{"layer": l, "class": c, "n": 1, "geometry": line} for l, c in
             [("water", "water"), ("green", "green"), ("buildings", "building"), ("streets", "path"),
              ("streets", "minor"), ("streets", "major")]]
    size = max(len(json.dumps(p, separators=(",", ":"))) for p in parts)
    kept, dropped = fit_budget(parts, 10 * size)
    assert dropped == [] and kept == parts
    kept, dropped = fit_budget(parts, 4 * size + 5)  # four parts, 3 commas and the brackets
    assert dropped == ["streets:path", "buildings:building"]
    assert [(p["layer"], p["class"]) for p in kept] == [("water", "water"), ("green", "green"), ("streets", "minor"),
                                                         ("streets", "major")]
    kept, dropped = fit_budget(parts, 10)
    assert kept == [] and len(dropped) == 6


def test_context_options_are_checked():
    from plekzoeker.errors import ConfigError
    from plekzoeker.outputs.context import ContextOptions, context_options
    from plekzoeker.settings import load_config

    cfg = load_config()
    assert context_options(cfg) == ContextOptions(True, 500, 400.0, 1.5, 4_000_000)  # config/default.yaml
    assert context_options(load_config(None, {"publish": {"map_context_candidates": 20}})).candidates == 20
    for key, bad in [("map_context", "yes"), ("map_context_candidates", 0), ("map_context_margin_m", -1),
                     ("map_context_max_bytes", 1.5), ("map_context_simplify_m", True)]:
        with pytest.raises(ConfigError, match=f"publish.{key}"):
            context_options({"publish": {**cfg["publish"], key: bad}})


def test_context_is_bounded_to_the_best_candidates_and_the_budget(engine, demo_publish):
    """Only the neighbourhood of the best N candidates is drawn, and a byte budget is enforced."""
    from dataclasses import replace

    import geopandas as gpd
    import shapely
    import sqlalchemy as sa

    from plekzoeker.outputs.context import context_layers, context_options
    from plekzoeker.settings import load_config

    d = context_options(load_config())

    with engine.connect() as conn:
        cand = gpd.read_postgis(sa.text("SELECT c.geom FROM result.candidate c JOIN result.score s USING (candidate_key) "
                                        "WHERE s.rank IS NOT NULL ORDER BY s.rank"), conn, geom_col="geom")
        geoms = list(cand.geometry)
        full = context_layers(conn, geoms, replace(d, margin_m=200))
        one = context_layers(conn, geoms, replace(d, candidates=1, margin_m=50))
        small = context_layers(conn, geoms, replace(d, margin_m=200, max_bytes=len(json.dumps(full["parts"])) // 3))
        off = context_layers(conn, geoms, replace(d, enabled=False))
    assert one["candidates"] == 1 and full["candidates"] == len(geoms)
    n = lambda c, key: sum(p["n"] for p in c["parts"] if f"{p['layer']}:{p['class']}" == key)  # noqa: E731
    assert n(one, "buildings:building") < n(full, "buildings:building")
    # every building drawn for the best candidate touches the square of 50 m around it (the context area;
    # buildings are not clipped, so one may reach beyond it); 2 m for the simplification and rounding
    area = shapely.box(*geoms[0].bounds).buffer(50 + 2, join_style="mitre")
    for p in one["parts"]:
        if p["layer"] == "buildings":
            drawn = gpd.GeoSeries([shapely.geometry.shape(p["geometry"])], crs=4326).to_crs(28992).explode()
            assert len(drawn) and all(g.intersects(area) for g in drawn)
    assert small["dropped"] and small["dropped"][0] == "streets:path"
    assert len(json.dumps(small["parts"], separators=(",", ":"))) <= len(json.dumps(full["parts"])) // 3
    assert off["parts"] == [] and "publish.map_context" in off["note"]


# --- national scale: one page per municipality and an index ----------------------------------------
def test_pages_split_by_municipality_and_index_links_them(tmp_path):
    from plekzoeker.outputs import map_pages

    d = publish_dir(tmp_path / "pub", n_buildings=4, n_plots=3, municipalities=("GM0307", "GM0228", None))
    sizes = map_pages.write_map_pages(d, CATEGORIES, "t", "s", None, contexts={})
    assert set(sizes) == {"map.html", "map_GM0307.html", "map_GM0228.html", "map_unknown.html"}
    shown = {}
    for name in ("map_GM0307.html", "map_GM0228.html", "map_unknown.html"):
        page = (d / name).read_text(encoding="utf-8")
        data = json.loads(re.search(r'<script type="application/json" id="pz-data">(.*?)</script>', page, re.DOTALL).group(1))
        shown[name] = sorted(f["properties"]["rank"] for layer in data["layers"] for f in layer["polygons"]["features"])
        assert all(k in {f["properties"]["candidate_key"] for layer in data["layers"] for f in layer["polygons"]["features"]}
                   for layer in data["layers"] for k in layer["points"])
    # candidate i (rank i+1) belongs to municipalities[i % 3]: every candidate on exactly one page
    assert shown == {"map_GM0307.html": [1, 4, 7], "map_GM0228.html": [2, 5], "map_unknown.html": [3, 6]}
    index = (d / "map.html").read_text(encoding="utf-8")
    assert "<script" not in index and "default-src 'none'" in index
    assert re.findall(r'<a href="(map_[^"]+)">', index) == ["map_GM0307.html", "map_GM0228.html", "map_unknown.html"]
    assert "&lt;img" in index and "<img" not in index  # the hostile best label of GM0307 is text
    csp_style = re.search(r"style-src ('sha256-[^']+')", index).group(1)
    style = re.search(r"<style>(.*?)</style>", index, re.DOTALL).group(1)
    assert csp_style == html_map._sha(style)


def test_map_max_candidates_is_checked():
    from plekzoeker.errors import ConfigError
    from plekzoeker.outputs.map_pages import max_candidates

    assert max_candidates({"publish": {"map_max_candidates": 5}}) == 5
    for bad in (0, -1, "10", True, 1.5):
        with pytest.raises(ConfigError, match="map_max_candidates"):
            max_candidates({"publish": {"map_max_candidates": bad}})


@needs_chrome
def test_demo_publish_above_the_limit_is_paged(chrome, db, demo_dir, tmp_path):
    """A publish over publish.map_max_candidates: map.html is the index, the municipality's page shows
    every candidate with its context, and neither page asks the network for anything."""
    import datetime as dt

    from db_helpers import detect_and_score

    from plekzoeker.outputs.publish import publish

    cfg, run_id, _ = detect_and_score(db, demo_dir / "demo.yaml", day=dt.date(2026, 3, 2))
    cfg["publish"]["map_max_candidates"] = 3
    summary = publish(db, cfg, tmp_path / "out", run_id)
    latest = tmp_path / "out" / "latest"
    pages = summary["map_pages"]
    assert summary["total"] > 3 and set(pages) == {"map.html", "map_GM9999.html"}
    assert summary["map_bytes"] == sum((latest / p).stat().st_size for p in pages)
    assert summary["map_context"]["parts"], "the municipality page carries its context"
    chrome.events.clear()
    assert chrome.open((latest / "map.html").as_uri(), ready="document.querySelector('a') !== null"), chrome.problems()
    assert chrome.eval("Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href'))") == ["map_GM9999.html"]
    chrome.events.clear()
    assert chrome.open((latest / "map_GM9999.html").as_uri()), chrome.problems()
    assert chrome.problems() == []
    assert chrome.eval("document.querySelectorAll('path.pz-marker').length") == summary["total"]
    assert [u for u in chrome.requests() if not u.startswith(("file:", "data:"))] == []


@needs_chrome
def test_popup_shows_facts_and_unknown_as_unknown(chrome, tmp_path):
    """Facts a publish carries appear in the popup and the list; a fact without a source reads 'unknown'."""
    d = publish_dir(tmp_path / "pub", n_buildings=2, n_plots=1,
                    first={"zoning": "kantoor", "zoning_verdict": "deviation", "energy_label": None,
                           "label_rule": True, "height_m": 12.46, "people_low": 10, "people_high": 24})
    html_map.write_map(d, CATEGORIES, "facts", "3 candidates")
    chrome.events.clear()
    assert chrome.open((d / "map.html").as_uri()), chrome.problems()
    chrome.eval("document.querySelector('path.pz-marker.pz-vacant_building')"
                ".dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: 1, clientY: 1}))")
    chrome.pump(0.3)
    rows = chrome.eval("Object.fromEntries(Array.from(document.querySelectorAll('.leaflet-popup-content tr'))"
                       ".map(tr => [tr.children[0].textContent, tr.children[1].textContent]))")
    assert {k: rows.get(k) for k in ("zoning", "zoning verdict", "energy label", "label-C rule applies",
                                      "height (m)", "people")} == {
        "zoning": "kantoor", "zoning verdict": "deviation", "energy label": "unknown", "label-C rule applies": "yes",
        "height (m)": "12.5", "people": "10–24"}
    assert "monument" not in rows  # a fact the publish does not carry is not shown at all
    meta = chrome.eval("document.querySelector('#pz-list li .pz-item-meta').textContent")
    assert "10–24 people" in meta
    assert chrome.problems() == []
