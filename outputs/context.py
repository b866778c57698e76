"""The context layer of map.html: streets by class, building outlines, water and green, from the database.

Only what is already loaded is drawn (core.network_edge, core.pand, core.landuse, core.bgt_vlak), so
the page stays offline and shows the same world the candidates were found in. Size is bounded, not
hoped for:

- the area is the union of squares of ``publish.map_context_margin_m`` around the best
  ``publish.map_context_candidates`` candidates (by rank), never the whole country;
- geometries are clipped to that area's features, simplified with ``ST_SimplifyPreserveTopology``
  (``publish.map_context_simplify_m``), merged into one geometry per layer and class and written with
  5 decimals (about 1 m);
- if the GeoJSON text still exceeds ``publish.map_context_max_bytes``, layers are dropped in the
  order footpaths, buildings, green, minor streets until it fits, and the page says so.

The function is pure apart from the one query (``sql/context.sql``); ``fit_budget`` is pure.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import shapely
import sqlalchemy as sa

from plekzoeker.errors import ConfigError

CONTEXT_SQL = (Path(__file__).with_name("sql") / "context.sql").read_text(encoding="utf-8")
LAYERS = ("water", "green", "buildings", "streets")
DROP_ORDER = (("streets", "path"), ("buildings", "building"), ("green", "green"), ("streets", "minor"))
DIGITS = 5


@dataclass(frozen=True)
class ContextOptions:
    """``publish.map_context*`` (documented, with the defaults, in config/default.yaml)."""

    enabled: bool
    candidates: int
    margin_m: float
    simplify_m: float
    max_bytes: int

    @classmethod
    def from_config(cls, cfg: dict) -> ContextOptions:
        """Read and check the keys (ConfigError naming a bad one)."""
        pub = cfg.get("publish") or {}

        def num(key: str, kind, minimum):
            v = pub.get(key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or (kind is int and not float(v).is_integer()) \
                    or v < minimum:
                raise ConfigError(f"config publish.{key}: {v!r} must be a {'whole ' if kind is int else ''}number >= {minimum}")
            return kind(v)
        enabled = pub.get("map_context")
        if not isinstance(enabled, bool):
            raise ConfigError(f"config publish.map_context: {enabled!r} must be true or false")
        return cls(enabled=enabled, candidates=num("map_context_candidates", int, 1),
                   margin_m=num("map_context_margin_m", float, 0), simplify_m=num("map_context_simplify_m", float, 0),
                   max_bytes=num("map_context_max_bytes", int, 0))


def context_options(cfg: dict) -> ContextOptions:
    """``publish.map_context*`` from the config, validated (ConfigError naming the key)."""
    return ContextOptions.from_config(cfg)


def context_area(geoms, opts: ContextOptions):
    """The union of squares of ``margin_m`` around each geometry (RD New), or None without geometries."""
    geoms = [g for g in geoms if g is not None and not g.is_empty][: opts.candidates]
    if not geoms:
        return None
    boxes = [shapely.box(*g.bounds).buffer(opts.margin_m, join_style="mitre") for g in geoms]
    return shapely.union_all(boxes)


def fit_budget(layers: list[dict], max_bytes: int) -> tuple[list[dict], list[str]]:
    """Drop (layer, class) parts in ``DROP_ORDER`` until the JSON text fits ``max_bytes``.

    Returns the kept parts and the names of the dropped ones."""
    kept, dropped = list(layers), []

    def size(parts):
        return len(json.dumps(parts, separators=(",", ":")))
    for layer, cls in DROP_ORDER:
        if size(kept) <= max_bytes:
            break
        before = len(kept)
        kept = [p for p in kept if (p["layer"], p["class"]) != (layer, cls)]
        if len(kept) != before:
            dropped.append(f"{layer}:{cls}")
    if size(kept) > max_bytes:
        dropped += [f"{p['layer']}:{p['class']}" for p in kept]
        kept = []
    return kept, dropped


def context_layers(conn: sa.Connection, ranked_geoms, opts: ContextOptions) -> dict:
    """{"parts": [{layer, class, n, geometry}], "dropped": [...], "candidates": n} for the map."""
    if not opts.enabled:
        return {"parts": [], "dropped": [], "candidates": 0, "note": "context switched off (publish.map_context)"}
    area = context_area(ranked_geoms, opts)
    if area is None:
        return {"parts": [], "dropped": [], "candidates": 0}
    rows = conn.execute(sa.text(CONTEXT_SQL), {"area": shapely.to_wkb(shapely.set_srid(area, 28992), include_srid=True),
                                               "tol": opts.simplify_m, "digits": DIGITS,
                                               "layers": list(LAYERS)}).mappings().all()
    parts = [{"layer": r["layer"], "class": r["class"], "n": int(r["n"]), "geometry": json.loads(r["geojson"])}
             for r in rows]
    kept, dropped = fit_budget(parts, opts.max_bytes)
    n = min(len([g for g in ranked_geoms if g is not None]), opts.candidates)
    return {"parts": kept, "dropped": dropped, "candidates": n}
