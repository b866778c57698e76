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
from plekzoeker.outputs import html_map
from plekzoeker.outputs.geojson import write_geojson_files
from plekzoeker.outputs.qgis_style import CLASSES
from shapely.geometry import box

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
        for domain in ("Runtime", "Log", "Page"):
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
