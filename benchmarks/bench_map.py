"""The map at national scale: one page with every candidate against the paged map (index + a page
per municipality, ``publish.map_max_candidates``), by size and by load time in headless Chromium.

    python -m benchmarks.run --only map [--quick]

A synthetic national publish (default 10,000 vacant buildings and 20,000 plots, issue 16's expected
counts, with the demo publish's full property set per feature) is spread over 342 municipalities
with Zipf-like sizes (the largest holds ~6 %, as Amsterdam/Rotterdam would), written as GeoJSON by
the product's own writer and turned into pages by the product's own map code (no database
context layer: the context is bounded per page by ``map_context_max_bytes`` either way).
Measured: bytes of the one-page map, of the index and of the largest municipality page, and the
time from navigation until the page reports itself drawn (``data-pz-ready``) in headless
Chromium, best of three loads each. Figures: the page a coordinator opens first (the index) and
the largest page one clicks through to, each against the one-page map; > 1 means faster/smaller.
Without Chromium the load times are skipped with a note and only sizes are reported.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .common import WORK, figure

N_MUNICIPALITIES = 342
FULL = {"vacant_building": 10_000, "undeveloped_plot": 20_000}
QUICK = {"vacant_building": 1_000, "undeveloped_plot": 2_000}
CATEGORIES = ["stop", "train_station", "supermarket", "gp", "pharmacy", "primary_school", "social_services", "park"]


def national_publish(out: Path, counts: dict[str, int], seed: int = 7) -> dict[str, int]:
    """Write the synthetic national GeoJSON publish into ``out``; returns candidates per municipality."""
    import geopandas as gpd
    from shapely.geometry import box

    from plekzoeker.outputs.geojson import write_geojson_files

    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, N_MUNICIPALITIES + 1) ** 0.8
    weights /= weights.sum()
    codes = [f"GM{c:04d}" for c in rng.choice(np.arange(1, 2000), N_MUNICIPALITIES, replace=False)]
    centres = rng.uniform((20_000, 310_000), (270_000, 610_000), size=(N_MUNICIPALITIES, 2))
    rows, geoms, rank = [], [], 0
    for kind, n in counts.items():
        gm_idx = rng.choice(N_MUNICIPALITIES, size=n, p=weights)
        for i, g in enumerate(gm_idx):
            rank += 1
            x, y = centres[g] + rng.normal(0, 2_500, 2)
            w, h = (rng.uniform(15, 60, 2) if kind == "vacant_building" else rng.uniform(40, 150, 2))
            geoms.append(box(x, y, x + w, y + h))
            dist = {f"dist_{c}_m": round(float(rng.uniform(50, 3_000)), 1) for c in CATEGORIES}
            sub = {f"score_{c}": round(float(rng.uniform(0, 1)), 4) for c in CATEGORIES}
            key = f"pand:{g:04d}1000{i:08d}" if kind == "vacant_building" else f"perceel:ABC01 K {i}"
            rows.append({"rank": rank, "rank_municipality": None, "score": round(float(rng.uniform(0.2, 0.95)), 3),
                         "kind": kind, "candidate_key": key, "label": f"Stationsstraat {i % 300 + 1}, 1234AB, Plaats",
                         "municipality": codes[g], "area_m2": round(float(w * h), 1),
                         "confidence": 0.8 if kind == "vacant_building" else None,
                         "evidence": "vacancy register since 2022-06-01 (4 units); no active business registered",
                         "why": "bus/tram stop 200 m; vacancy register since 2022-06-01; supermarket 420 m",
                         **dist, **sub, "first_seen": "2026-12-02", "outreach_status": "new",
                         "bag_viewer": None})
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs=28992)
    write_geojson_files(gdf, out)
    return gdf.groupby("municipality").size().to_dict()


def _load_ms(chrome, page: Path, wait: float, ready: str = "document.documentElement.dataset.pzReady === '1'"
             ) -> float | None:
    """Best of three: from navigation until ``ready`` holds (map pages set data-pz-ready once drawn),
    polled every 20 ms; None when a load does not get there within ``wait`` seconds."""
    best = None
    for _ in range(3):
        chrome.open("about:blank", ready="true", wait=10)
        t0 = time.perf_counter()
        chrome.send("Page.navigate", {"url": page.as_uri()}, session=True)
        while not chrome.eval(f"document.readyState === 'complete' && location.href !== 'about:blank' && ({ready})"):
            if time.perf_counter() - t0 > wait:
                return None
            time.sleep(0.02)
        ms = (time.perf_counter() - t0) * 1000
        best = ms if best is None else min(best, ms)
    return best


def run(args) -> list[dict]:
    from plekzoeker.outputs.html_map import write_map
    from plekzoeker.outputs.map_pages import write_map_pages

    counts = QUICK if getattr(args, "quick", False) else FULL
    WORK.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-map-", dir=WORK))
    try:
        one, paged = tmp / "one", tmp / "paged"
        per_gm = national_publish(one, counts)
        shutil.copytree(one, paged)
        t0 = time.perf_counter()
        write_map(one, CATEGORIES, "one page", "all candidates")
        one_write_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        sizes = write_map_pages(paged, CATEGORIES, "index", "paged", None, contexts={})
        paged_write_s = time.perf_counter() - t0
        largest_gm = max(per_gm, key=per_gm.get)
        largest = paged / f"map_{largest_gm}.html"
        one_bytes = (one / "map.html").stat().st_size
        n = sum(counts.values())
        notes = {"candidates": n, "municipalities": len(per_gm), "largest_page_candidates": per_gm[largest_gm],
                 "write_one_s": round(one_write_s, 2), "write_paged_s": round(paged_write_s, 2),
                 "pages_total_mb": round(sum(sizes.values()) / 1e6, 1)}
        figs = [figure("index page size (what a coordinator opens)", sizes["map.html"] / 1e3, "kB",
                       "one page with every candidate", one_bytes / 1e3, higher_is_better=False, **notes),
                figure("largest municipality page size", largest.stat().st_size / 1e3, "kB",
                       "one page with every candidate", one_bytes / 1e3, higher_is_better=False, **notes)]
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from chrome_driver import CHROME, Chrome

        if CHROME is None:
            for f in figs:
                f["load_time"] = "skipped: Chromium is not installed"
            return figs
        chrome = Chrome()
        try:
            one_ms = _load_ms(chrome, one / "map.html", wait=300)
            # the index has no script: it is ready when its table is there
            index_ms = _load_ms(chrome, paged / "map.html", wait=60, ready="document.querySelector('table') !== null")
            largest_ms = _load_ms(chrome, largest, wait=120)
        finally:
            chrome.close()
        if None in (one_ms, index_ms, largest_ms):
            for f in figs:
                f["load_time"] = "a page did not report ready in time"
            return figs
        figs += [figure("index page load", index_ms, "ms", "one page with every candidate", one_ms,
                        higher_is_better=False, **notes),
                 figure("largest municipality page load", largest_ms, "ms", "one page with every candidate",
                        one_ms, higher_is_better=False, **notes)]
        return figs
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
