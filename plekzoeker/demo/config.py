"""The config file that runs the nightly flow on the generated demo town."""
from __future__ import annotations

from pathlib import Path

import yaml

from .ranking import ranking_config

DEMO_INPUTS = {
    "bag": "bag.gpkg",
    "brk": "brk_percelen.gpkg",
    "osm": "town.osm.pbf",
    "gtfs": "gtfs.zip",
    "signals": {"vacancy": "vacancy.csv", "establishments": "establishments.csv", "energy": "energy.csv",
                "owners": "owners.csv", "labels": "labels.csv",
                "offers": "offers.csv"},
    "zoning": "zoning.gml", "monuments": {"rijks": "rijksmonumenten.csv"}, "3dbag": "3dbag.csv",
    "natura2000": "natura2000.geojson",
    "rasters": {"noise_lden": "noise_lden.tif"},
    "demand": "demand.csv",
}


def write_demo_config(outdir: str | Path) -> Path:
    """Write ``demo.yaml`` next to the demo files (paths relative to it) and return its path."""
    outdir = Path(outdir)
    cfg = {"area": {"municipality": "GM9999"}, "inputs": DEMO_INPUTS, "access": {"modes": ["walk", "bike"]},
           **ranking_config("GM9999")}
    path = outdir / "demo.yaml"
    path.write_text("# Runs plekzoeker on the generated demo town (fictitious, municipality GM9999).\n"
                    + yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return path
