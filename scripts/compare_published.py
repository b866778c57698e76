"""Compare two published folders (e.g. a saved baseline and out/latest): same candidates, same scores.

Usage: python scripts/compare_published.py BASELINE_DIR out/latest

Compares every ``*.geojson`` feature by ``candidate_key`` (geometry and every property except the
run-dependent ones: first_seen) and the CSV outreach list row by row. Exits 1 with the differences.
Used to check that a refactoring left the demo's output unchanged.
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

RUN_DEPENDENT = {"first_seen", "published_at", "run_id"}


def _features(path: Path) -> dict[str, dict]:
    data = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for f in data["features"]:
        props = {k: v for k, v in f["properties"].items() if k not in RUN_DEPENDENT}
        out[props["candidate_key"]] = {"properties": props, "geometry": f["geometry"]}
    return out


def compare(before: Path, after: Path) -> list[str]:
    """The differences between two published folders, one line each (empty = the same)."""
    problems: list[str] = []
    names = sorted(p.name for p in before.glob("*.geojson"))
    if names != sorted(p.name for p in after.glob("*.geojson")):
        problems.append(f"geojson files differ: {names} vs {sorted(p.name for p in after.glob('*.geojson'))}")
    for name in names:
        if not (after / name).exists():
            continue
        a, b = _features(before / name), _features(after / name)
        if set(a) != set(b):
            problems.append(f"{name}: keys differ: only before {sorted(set(a) - set(b))}, only after {sorted(set(b) - set(a))}")
        for key in sorted(set(a) & set(b)):
            if a[key] != b[key]:
                diff = {k for k in set(a[key]["properties"]) | set(b[key]["properties"])
                        if a[key]["properties"].get(k) != b[key]["properties"].get(k)}
                geom = a[key]["geometry"] != b[key]["geometry"]
                problems.append(f"{name}: {key}: properties differ {sorted(diff)}" + (" and geometry" if geom else ""))
    for csv_path in sorted(before.glob("*.csv")):
        other = after / csv_path.name
        if other.exists():
            rows_a = list(csv.reader(csv_path.open(encoding="utf-8")))
            rows_b = list(csv.reader(other.open(encoding="utf-8")))
            if rows_a != rows_b:
                problems.append(f"{csv_path.name}: rows differ")
    sa = json.loads((before / "summary.json").read_text())
    sb = json.loads((after / "summary.json").read_text())
    for k in ("files", "total", "top5", "lists", "geopackage", "coverage"):
        if sa.get(k) != sb.get(k):
            problems.append(f"summary.json: {k} differs")
    return problems


if __name__ == "__main__":
    found = compare(Path(sys.argv[1]), Path(sys.argv[2]))
    print("\n".join(found) if found else "same candidates, same scores and properties")
    sys.exit(1 if found else 0)
