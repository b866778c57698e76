"""map.html in a real headless Chromium (Debian `chromium`), driven over the DevTools protocol.

The page must load from a file:// URL without network access and without a single console error,
exception or CSP violation, draw one marker and one area per candidate, open a popup on click
with the candidate's text (as text, never as markup), and a screenshot is kept in
tests/artifacts/map.png. Skipped only when no Chromium is installed:
    apt-get install -y chromium chromium-driver
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from plekzoeker.outputs import html_map
from plekzoeker.outputs.geojson import write_geojson_files
from plekzoeker.outputs.qgis_style import CLASSES

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROME = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
needs_chrome = pytest.mark.skipif(CHROME is None, reason="Chromium is not installed: apt-get install -y chromium chromium-driver")
HOSTILE = 'Kerkstraat 1 <img src=x onerror="window.__pwned=1"></script><script>window.__pwned=2</script>'
CATEGORIES = ["stop", "supermarket"]


class Chrome:
    """Headless Chromium with one page, over the DevTools protocol (websockets), collecting every
    console message, uncaught exception and log entry (CSP violations, failed loads)."""

    FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-default-apps", "--disable-extensions", "--mute-audio", "--window-size=1200,800",
             "--remote-debugging-port=0", "--remote-allow-origins=*")

    def __init__(self):
        from websockets.sync.client import connect

        self.profile = tempfile.mkdtemp(prefix="pz-chrome-")
        self.proc = subprocess.Popen([CHROME, *self.FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not start (no DevToolsActivePort)")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        self.ws = connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=20)
        self.msg_id = 0
        self.events: list[dict] = []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.send(f"{domain}.enable", session=True)

    def send(self, method: str, params: dict | None = None, session: bool = False, timeout: float = 30) -> dict:
        self.msg_id += 1
        msg = {"id": self.msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self.ws.recv(timeout=max(deadline - time.monotonic(), 0.01)))
            if reply.get("id") == self.msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                reply = json.loads(self.ws.recv(timeout=left))
            except TimeoutError:
                return
            if "method" in reply:
                self.events.append(reply)

    def eval(self, expr: str):
        res = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expr}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def open(self, url: str, ready: str = "document.documentElement.dataset.pzReady === '1'", wait: float = 15) -> bool:
        self.send("Page.navigate", {"url": url}, session=True)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.eval(f"document.readyState === 'complete' && ({ready})"):
                self.pump(0.5)  # late errors (timers, image loads) still count
                return True
            self.pump(0.1)
        return False

    def problems(self) -> list[str]:
        """Console errors/warnings, uncaught exceptions and error/warning log entries, as text."""
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                out.append("console." + p["type"] + ": " + " ".join(str(a.get("value", a.get("description"))) for a in p.get("args", [])))
            elif m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append("Uncaught " + str(d.get("exception", {}).get("description") or d.get("text")))
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
                out.append(f"log.{p['entry']['level']}: {p['entry'].get('text')} {p['entry'].get('url', '')}")
        return out

    def requests(self) -> list[str]:
        """Every URL the page asked for since the events were last cleared (Network domain)."""
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            if getattr(self, "ws", None):
                self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def chrome():
    c = Chrome()
    yield c
    c.close()


def publish_dir(tmp: Path, n_buildings: int = 3, n_plots: int = 2) -> Path:
    """GeoJSON files as publish writes them, for a synthetic set with known counts and scores."""
    geoms, rows = [], []
    for i in range(n_buildings + n_plots):
        kind = "vacant_building" if i < n_buildings else "undeveloped_plot"
        x, y = 155_000 + 120 * i, 463_000 + (0 if kind == "vacant_building" else 200)
        geoms.append(box(x, y, x + (30 if kind == "vacant_building" else 80), y + 40))
        rows.append({"rank": i + 1, "score": round(0.95 - 0.2 * i, 3), "kind": kind,
                     "candidate_key": f"pand:{i:016d}" if kind == "vacant_building" else f"perceel:ABC01 A {i}",
                     "label": HOSTILE if i == 0 else f"Plek {i}", "municipality": "GM0307", "area_m2": 900.0 + i,
                     "confidence": 0.8 if kind == "vacant_building" else None, "evidence": "vacancy register: listed",
                     "dist_stop_m": 180.0 + i, "dist_supermarket_m": None, "first_seen": "2026-01-01",
                     "outreach_status": "new",
                     "bag_viewer": f"https://bagviewer.kadaster.nl/lvbag/bag-viewer/?objectId={i:016d}"
                     if kind == "vacant_building" else None})
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

    assert context_options({"publish": {}}) == ContextOptions()
    assert context_options({"publish": {"map_context_candidates": 20}}).candidates == 20
    for key, bad in [("map_context", "yes"), ("map_context_candidates", 0), ("map_context_margin_m", -1),
                     ("map_context_max_bytes", 1.5), ("map_context_simplify_m", True)]:
        with pytest.raises(ConfigError, match=f"publish.{key}"):
            context_options({"publish": {key: bad}})


def test_context_is_bounded_to_the_best_candidates_and_the_budget(engine, demo_publish):
    """Only the neighbourhood of the best N candidates is drawn, and a byte budget is enforced."""
    import geopandas as gpd
    import shapely
    import sqlalchemy as sa

    from plekzoeker.outputs.context import ContextOptions, context_layers

    with engine.connect() as conn:
        cand = gpd.read_postgis(sa.text("SELECT c.geom FROM result.candidate c JOIN result.score s USING (candidate_key) "
                                        "WHERE s.rank IS NOT NULL ORDER BY s.rank"), conn, geom_col="geom")
        geoms = list(cand.geometry)
        full = context_layers(conn, geoms, ContextOptions(margin_m=200))
        one = context_layers(conn, geoms, ContextOptions(candidates=1, margin_m=50))
        small = context_layers(conn, geoms, ContextOptions(margin_m=200, max_bytes=len(json.dumps(full["parts"])) // 3))
        off = context_layers(conn, geoms, ContextOptions(enabled=False))
    assert one["candidates"] == 1 and full["candidates"] == len(geoms)
    n = lambda c, key: sum(p["n"] for p in c["parts"] if f"{p['layer']}:{p['class']}" == key)  # noqa: E731
    assert n(one, "buildings:building") < n(full, "buildings:building")
    # every building drawn for the best candidate lies within 50 m of it (in WGS84 degrees: a loose box)
    best = gpd.GeoSeries([geoms[0]], crs=28992).to_crs(4326).iloc[0].buffer(0.002)
    for p in one["parts"]:
        if p["layer"] == "buildings":
            assert best.contains(shapely.geometry.shape(p["geometry"]))
    assert small["dropped"] and small["dropped"][0] == "streets:path"
    assert len(json.dumps(small["parts"], separators=(",", ":"))) <= len(json.dumps(full["parts"])) // 3
    assert off["parts"] == [] and "publish.map_context" in off["note"]
