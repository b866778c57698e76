"""OpenStreetMap for an area: the Overpass API through osmnx 2.1, written as OSM XML for ``osm_read``.

Protocol (Overpass API, https://wiki.openstreetmap.org/wiki/Overpass_API; osmnx 2.1
``osmnx._overpass``): ``POST {overpass_url}/interpreter`` with the form field ``data`` holding an
Overpass QL query; the answer is ``[out:json]`` — ``{"elements": [{"type": "node", "id", "lat",
"lon", "tags"}, {"type": "way", "id", "nodes": [...], "tags"}, {"type": "relation", "id",
"members": [{"type", "ref", "role"}], "tags"}]}``. Before each query osmnx reads
``{overpass_url}/status`` and waits for a free slot (``settings.overpass_rate_limit``); it caches
every answer as JSON under ``settings.cache_folder`` keyed by the request URL
(``settings.use_cache``), so a second fetch of the same area asks the server nothing.

What is asked, with osmnx's own query builders (so the queries are exactly the ones osmnx users
send, polygon subdivision by ``settings.max_query_area_size`` included):

* the street network: ``_download_overpass_network(polygon, "all", None)`` — every way osmnx's
  ``all`` filter keeps, with its nodes (``(way[...](poly:...);>;);out;``). ``osm_read`` then
  applies the walk/bike rules itself;
* the features: ``_download_overpass_features(polygon, tags)`` with the tags of every access
  category (``access.categories.*.tags``), every land-use rule of ``osm_read.LANDUSE_RULES`` and
  ``entrance`` (POIs on building ways take the entrance's location) — node, way and relation
  matches with their members (``(._;>;)``).

The answers are merged by (type, id) and written sorted — nodes, then ways, then relations, each
by id — as OSM XML 0.6 (the order ``osm_read`` needs for entrances and osmium needs for areas).
The file is written to a part file, re-read by ``osm_read.sniff_format`` and renamed.

osmnx re-sends a request itself after a 429/504 (pausing 55 s); other failures (connection
errors, timeouts, other HTTP errors, a body that is not JSON) raise in osmnx and are retried here
with the fetch policy, then end in one :class:`FetchError` line. Licence: © OpenStreetMap
contributors, ODbL 1.0 (https://www.openstreetmap.org/copyright).
"""
from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from xml.sax.saxutils import quoteattr

from shapely.geometry.base import BaseGeometry

from plekzoeker.errors import FetchError

from .http import HttpPolicy, host_of

log = logging.getLogger(__name__)

LICENCE = "ODbL 1.0"
ATTRIBUTION = "© OpenStreetMap contributors (https://www.openstreetmap.org/copyright)"


def feature_tags(categories: dict[str, list[str]]) -> dict[str, bool | list[str]]:
    """The osmnx ``tags`` dict: category tags, land-use rules and entrances (``key=*`` → True)."""
    from plekzoeker.sources.osm_read import LANDUSE_RULES

    tags: dict[str, bool | list[str]] = {"entrance": True}

    def add(key: str, value: str | None) -> None:
        if value is None or value == "*":
            tags[key] = True
        elif tags.get(key) is not True:
            vals = tags.setdefault(key, [])
            if isinstance(vals, list) and value not in vals:
                vals.append(value)

    for filters in categories.values():
        for f in filters:
            k, _, v = str(f).partition("=")
            add(k, v or None)
    for key, want, _excl in LANDUSE_RULES:
        add(key, want)
    return tags


def _configure(overpass_url: str, cache_folder: Path, policy: HttpPolicy, use_cache: bool, rate_limit: bool):
    import osmnx as ox

    ox.settings.overpass_url = overpass_url.rstrip("/")
    ox.settings.cache_folder = str(cache_folder)
    ox.settings.use_cache = use_cache
    ox.settings.requests_timeout = int(max(1, policy.timeout_s))
    ox.settings.overpass_rate_limit = rate_limit
    ox.settings.log_console = False
    return ox


def _with_retries(what: str, url: str, policy: HttpPolicy, fn: Callable[[], list[dict]],
                  sleep: Callable[[float], None]) -> list[dict]:
    import requests

    tries = max(1, policy.retries)
    for attempt in range(tries):
        try:
            return fn()
        except (requests.ConnectionError, requests.Timeout) as exc:
            reason, unreachable = _requests_reason(exc), True
        except Exception as exc:  # noqa: BLE001 - osmnx raises its own errors for HTTP status / bad bodies
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            m = re.search(r"responded:? (\d{3})", text)  # osmnx ResponseStatusCodeError: "'host' responded: 503 ..."
            status = int(m.group(1)) if m else None
            if status is not None and 400 <= status < 500:
                raise FetchError(f"{what}: {host_of(url)} refused the query: HTTP {status}") from None
            reason = f"HTTP {status} from {host_of(url)}" if status else text[:200]
            unreachable = False
        if attempt + 1 < tries:
            wait = min(policy.backoff_s * 2 ** attempt, policy.max_backoff_s)
            log.info("%s: %s; retry %d/%d in %.1f s", what, reason, attempt + 1, tries - 1, wait)
            sleep(wait)
    if unreachable:
        raise FetchError(f"cannot reach {host_of(url)}: {reason} ({tries} tries; {what})")
    raise FetchError(f"{what}: {reason} after {tries} tries")


def _requests_reason(exc: BaseException) -> str:
    text = str(exc)
    if "timed out" in text.lower() or "timeout" in type(exc).__name__.lower():
        return "timed out"
    if "refused" in text.lower():
        return "connection refused"
    return text.splitlines()[0][:200] if text else type(exc).__name__


def fetch_osm_xml(polygon_wgs84: BaseGeometry, categories: dict[str, list[str]], dest: Path, *,
                  overpass_url: str, cache_folder: Path, policy: HttpPolicy, use_cache: bool = True,
                  rate_limit: bool = True, sleep: Callable[[float], None] = time.sleep) -> dict:
    """Query Overpass (via osmnx) for the street network and features in the polygon; write OSM XML.

    Returns ``{"elements": n, "nodes": .., "ways": .., "relations": .., "queries": [...]}``.
    """
    ox = _configure(overpass_url, cache_folder, policy, use_cache, rate_limit)
    from osmnx import _overpass

    tags = feature_tags(categories)
    queries: list[str] = []

    def checked(answers: list) -> list[dict]:
        # osmnx hands back the JSON of an error answer (e.g. {"detail": ...} with a 500) without raising
        for a in answers:
            if not isinstance(a, dict) or not isinstance(a.get("elements"), list):
                raise RuntimeError(f"{host_of(overpass_url)} answered without an 'elements' list ({str(a)[:80]})")
        return answers

    def network() -> list[dict]:
        return checked(list(_overpass._download_overpass_network(polygon_wgs84, "all", None)))

    def features() -> list[dict]:
        return checked(list(_overpass._download_overpass_features(polygon_wgs84, tags)))

    answers = _with_retries("Overpass street network", overpass_url, policy, network, sleep)
    answers += _with_retries("Overpass features", overpass_url, policy, features, sleep)
    queries.append(f"network_type=all via {ox.settings.overpass_url}/interpreter")
    queries.append(f"features {sorted(tags)} via {ox.settings.overpass_url}/interpreter")
    counts = write_osm_xml((e for a in answers for e in a["elements"]), dest)
    return {**counts, "queries": queries, "tags": {k: v for k, v in tags.items()}}


def write_osm_xml(elements: Iterable[dict], dest: Path) -> dict:
    """Merge Overpass JSON elements by (type, id) and write sorted OSM XML 0.6 atomically."""
    nodes: dict[int, dict] = {}
    ways: dict[int, dict] = {}
    rels: dict[int, dict] = {}
    for e in elements:
        try:
            kind, oid = e["type"], int(e["id"])
        except (KeyError, TypeError, ValueError):
            raise FetchError("Overpass: an element without type/id in the answer") from None
        if kind == "node":
            if "lat" not in e or "lon" not in e:
                continue
            nodes[oid] = e
        elif kind == "way":
            ways[oid] = e
        elif kind == "relation":
            rels[oid] = e
    if not ways:
        raise FetchError("Overpass: the answer holds no ways (no streets in the area, or a wrong endpoint)")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(f"{dest.name}.part-{os.getpid()}")

    def tags_xml(e: dict) -> str:
        return "".join(f"\n    <tag k={quoteattr(str(k))} v={quoteattr(str(v))}/>" for k, v in sorted((e.get("tags") or {}).items()))

    try:
        with open(part, "w", encoding="utf-8") as f:
            f.write("<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\" generator=\"plekzoeker fetch (Overpass via osmnx)\">\n")
            for oid in sorted(nodes):
                e = nodes[oid]
                t = tags_xml(e)
                head = f'  <node id="{oid}" version="1" lat="{float(e["lat"]):.7f}" lon="{float(e["lon"]):.7f}"'
                f.write(f"{head}>{t}\n  </node>\n" if t else f"{head}/>\n")
            for oid in sorted(ways):
                e = ways[oid]
                nds = "".join(f'\n    <nd ref="{int(r)}"/>' for r in e.get("nodes") or [])
                f.write(f'  <way id="{oid}" version="1">{nds}{tags_xml(e)}\n  </way>\n')
            for oid in sorted(rels):
                e = rels[oid]
                ms = "".join(f'\n    <member type={quoteattr(str(m.get("type")))} ref="{int(m.get("ref"))}" '
                             f'role={quoteattr(str(m.get("role") or ""))}/>' for m in e.get("members") or [])
                f.write(f'  <relation id="{oid}" version="1">{ms}{tags_xml(e)}\n  </relation>\n')
            f.write("</osm>\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)
    return {"elements": len(nodes) + len(ways) + len(rels), "nodes": len(nodes), "ways": len(ways),
            "relations": len(rels)}


def cut_pbf(src: Path, polygon_wgs84: BaseGeometry, dest: Path) -> dict:
    """Cut a local extract (``--osm-pbf``) by the polygon with pyosmium, like ``osmium extract -p``
    with the ``complete_ways`` strategy: nodes inside, every way with a node inside (with all its
    nodes), every relation with a kept member. Two passes over the file; written atomically.
    """
    import numpy as np
    import osmium
    import shapely

    from plekzoeker.errors import SourceError
    from plekzoeker.sources.osm_read import sniff_format

    sniff_format(Path(src))
    shapely.prepare(polygon_wgs84)
    inside: set[int] = set()
    way_ids: set[int] = set()
    need_nodes: set[int] = set()
    try:
        ids, xs, ys = [], [], []
        for n in osmium.FileProcessor(str(src), osmium.osm.NODE):
            if n.location.valid():
                ids.append(n.id)
                xs.append(n.location.lon)
                ys.append(n.location.lat)
        if ids:
            mask = shapely.contains_xy(polygon_wgs84, np.asarray(xs), np.asarray(ys))
            inside = set(np.asarray(ids, dtype=np.int64)[mask].tolist())
        for w in osmium.FileProcessor(str(src), osmium.osm.WAY):
            refs = [r.ref for r in w.nodes]
            if any(r in inside for r in refs):
                way_ids.add(w.id)
                need_nodes.update(refs)
        rel_ids: set[int] = set()
        for r in osmium.FileProcessor(str(src), osmium.osm.RELATION):
            if any((m.type == "n" and m.ref in inside) or (m.type == "w" and m.ref in way_ids) for m in r.members):
                rel_ids.add(r.id)
        keep_nodes = inside | need_nodes
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(f"{dest.name}.part-{os.getpid()}.osm.pbf")
        part.unlink(missing_ok=True)
        counts = {"nodes": 0, "ways": 0, "relations": 0}
        try:
            writer = osmium.SimpleWriter(str(part))
            try:
                for o in osmium.FileProcessor(str(src)):
                    if o.is_node() and o.id in keep_nodes:
                        writer.add_node(o)
                        counts["nodes"] += 1
                    elif o.is_way() and o.id in way_ids:
                        writer.add_way(o)
                        counts["ways"] += 1
                    elif o.is_relation() and o.id in rel_ids:
                        writer.add_relation(o)
                        counts["relations"] += 1
            finally:
                writer.close()
            if counts["ways"] == 0:
                raise FetchError(f"{src}: the extract has no ways inside the area (is it the right region?)")
            os.replace(part, dest)
        finally:
            part.unlink(missing_ok=True)
    except RuntimeError as exc:
        raise SourceError(src, f"cannot read OSM data: {str(exc).splitlines()[0] if str(exc) else exc}") from None
    return {**counts, "elements": sum(counts.values())}
