"""report_GMxxxx.html of a demo publish: the best candidates in order with a small map each, their
facts and why, the coverage; rendered in headless Chromium (screenshot and PDF) without a problem."""
from __future__ import annotations

import base64
import datetime as dt
import json
import re
from pathlib import Path

import pytest
import shapely
from chrome_driver import Chrome, needs_chrome
from db_helpers import detect_and_score
from test_html_map import ARTIFACTS

from plekzoeker.outputs.publish import publish
from plekzoeker.outputs.report import svg_map


@pytest.fixture(scope="module")
def published(engine, demo_dir, tmp_path_factory):
    cfg, run_id, _ = detect_and_score(engine, demo_dir / "demo.yaml", day=dt.date(2026, 3, 2), reset=True)
    summary = publish(engine, cfg, tmp_path_factory.mktemp("out"), run_id)
    return Path(summary["dir"]), summary


def test_svg_map_fits_and_flips():
    cand = shapely.box(1000, 2000, 1020, 2010)
    svg = svg_map(cand, [("building", shapely.box(1030, 2000, 1040, 2010)), ("street", shapely.LineString([(900, 1995), (1100, 1995)])),
                         ("building", shapely.box(5000, 5000, 5010, 5010))], 0.9, size=200, margin_m=40)
    # the view is 100 m square around the candidate: the candidate spans x 40..60 m -> 80..120 px, y flipped
    cand_d = re.search(r'class="s-candidate"[^>]* d="([^"]+)"', svg).group(1)
    xs = [float(v.split(",")[0]) for v in re.findall(r"[-0-9.]+,[-0-9.]+", cand_d)]
    ys = [float(v.split(",")[1]) for v in re.findall(r"[-0-9.]+,[-0-9.]+", cand_d)]
    assert (min(xs), max(xs)) == (80.0, 120.0) and (min(ys), max(ys)) == (90.0, 110.0)
    assert svg.count('class="s-building"') == 1 and 'class="s-street"' in svg  # the far building is outside the view
    assert "5000" not in svg and 'fill="#1a9641"' in svg


def test_report_lists_the_best_candidates_with_maps_and_coverage(published):
    d, summary = published
    assert summary["reports"] == ["report_GM9999.html"]
    page = (d / "report_GM9999.html").read_text(encoding="utf-8")
    ranked = sorted((f["properties"] for s in ("vacant_buildings", "undeveloped_plots")
                     for f in json.loads((d / f"{s}.geojson").read_text())["features"]), key=lambda p: p["rank"])
    keys = re.findall(r'<div class="card" data-key="([^"]+)"', page)
    assert keys == [p["candidate_key"] for p in ranked[:10]]
    assert page.count("<svg") == len(keys) and page.count('class="s-building"') >= len(keys) // 2
    for p in ranked[:10]:
        assert p["why"] and p["why"] in page
    for kind in ("bag", "brk", "osm"):
        assert f"<td>{kind}</td>" in page
    assert "unknown</b>people" in page  # capacity is not estimated: said, not guessed
    assert not re.search(r"(src|href)=\"https?:", page) and "<script" not in page


@needs_chrome
def test_report_renders_in_chromium(published):
    d, _ = published
    chrome = Chrome()
    try:
        chrome.events.clear()
        assert chrome.open((d / "report_GM9999.html").as_uri(), ready="true")
        got = chrome.eval("""({cards: document.querySelectorAll('.card').length,
            svgs: Array.from(document.querySelectorAll('.card svg')).filter(s => s.getBoundingClientRect().width > 150).length,
            score: getComputedStyle(document.querySelector('.card .score')).backgroundColor})""")
        assert got["cards"] == 10 and got["svgs"] == 10 and got["score"] != "rgba(0, 0, 0, 0)", got  # CSS applied
        chrome.send("Emulation.setDeviceMetricsOverride", {"width": 900, "height": 2400, "deviceScaleFactor": 1,
                                                           "mobile": False}, session=True)
        chrome.screenshot(ARTIFACTS / "report_GM9999.png")
        pdf = base64.b64decode(chrome.send("Page.printToPDF", {"printBackground": True}, session=True)["data"])
        (ARTIFACTS / "report_GM9999.pdf").write_bytes(pdf)
        assert pdf[:5] == b"%PDF-" and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 3
        assert chrome.problems() == []
        assert [u for u in chrome.requests() if not u.startswith(("file://", "data:"))] == []
    finally:
        chrome.close()
    assert (ARTIFACTS / "report_GM9999.png").stat().st_size > 30_000
