"""OSM tag rules: which ways a person may walk or cycle (and in which direction), which tags make a
POI of a category, which areas are land use. Pure functions of a way's or object's tags.

The reasoning behind each rule (the sidewalk of a trunk road, ``access=no`` with ``foot=yes``,
``oneway:bicycle=no``, category exclusions like ``!station=subway``) is in ``osm_read``'s docstring,
where the reader's whole contract is; ``osm_tags`` holds the land-use table the config validation
shares.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from plekzoeker.sources.osm_tags import LANDUSE_RULES

WALK_HIGHWAYS = frozenset({
    "footway", "path", "pedestrian", "steps", "living_street", "residential", "service",
    "unclassified", "road", "track", "cycleway", "corridor",
    "tertiary", "tertiary_link", "secondary", "secondary_link", "primary", "primary_link",
})


WALK_IF_ALLOWED = frozenset({"trunk", "trunk_link", "bridleway", "busway"})  # see classify_way


BIKE_HIGHWAYS = frozenset({
    "cycleway", "path", "living_street", "residential", "service", "unclassified", "road",
    "track", "tertiary", "tertiary_link", "secondary", "secondary_link", "primary", "primary_link",
})


BIKE_IF_ALLOWED = frozenset({"footway", "pedestrian", "steps", "bridleway", "corridor",
                             "trunk", "trunk_link", "busway"})


GRAPH_HIGHWAYS = WALK_HIGHWAYS | WALK_IF_ALLOWED | BIKE_HIGHWAYS | BIKE_IF_ALLOWED


EXPLICIT_YES = frozenset({"yes", "designated", "permissive", "official"})


MODE_NO = frozenset({"no", "private", "use_sidepath"})


ACCESS_NO = frozenset({"no", "private"})


ONEWAY_FWD = frozenset({"yes", "true", "1"})


ONEWAY_REV = frozenset({"-1", "reverse"})


ONEWAY_NO = frozenset({"no", "false", "0"})


SIDEWALK_YES = frozenset({"yes", "both", "left", "right"})


SIDEWALK_KEYS = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")


ENTRANCE_IGNORE = frozenset({"no", "emergency", "exit", "service"})


def classify_way(tags: Mapping[str, str]) -> tuple[bool, bool, int]:
    """Return ``(walk, bike, bike_direction)`` for a way's tags (``dict`` or osmium TagList).

    ``bike_direction`` is 0 (both ways), 1 (forward only) or -1 (against the node order only);
    it is 0 whenever ``bike`` is False. See the module docstring for the rules.
    """
    get = tags.get
    hw = get("highway")
    if hw is None or hw not in GRAPH_HIGHWAYS or get("area") == "yes":
        return False, False, 0
    access = get("access")
    if get("service") == "private":
        access = "private"
    access_no = access in ACCESS_NO

    foot = get("foot")
    if foot in MODE_NO:
        walk = False
    else:
        foot_yes = foot in EXPLICIT_YES
        sidewalks = [get(k) for k in SIDEWALK_KEYS]
        if access_no and not foot_yes:
            walk = False
        elif "separate" in sidewalks and not any(v in SIDEWALK_YES for v in sidewalks):
            walk = False  # pedestrians use the separately mapped sidewalk (as osmnx does)
        elif hw in WALK_HIGHWAYS:
            walk = True
        elif hw == "bridleway":
            walk = foot_yes
        elif hw in WALK_IF_ALLOWED:  # trunk, trunk_link, busway
            walk = foot_yes or any(v in SIDEWALK_YES for v in sidewalks)
        else:
            walk = False

    bicycle = get("bicycle")
    if bicycle in MODE_NO:
        bike = False
    else:
        bike_yes = bicycle in EXPLICIT_YES
        if access_no and not bike_yes:
            bike = False
        elif hw in BIKE_HIGHWAYS:
            bike = True
        elif hw in BIKE_IF_ALLOWED:
            bike = bike_yes
        else:
            bike = False

    direction = 0
    if bike:
        ob = get("oneway:bicycle")
        if ob is not None and (ob in ONEWAY_NO or ob in ONEWAY_FWD or ob in ONEWAY_REV):
            direction = 1 if ob in ONEWAY_FWD else (-1 if ob in ONEWAY_REV else 0)
        elif (get("cycleway") or "").startswith("opposite"):
            direction = 0
        else:
            ow = get("oneway")
            if ow in ONEWAY_FWD:
                direction = 1
            elif ow in ONEWAY_REV:
                direction = -1
            elif ow in ONEWAY_NO:
                direction = 0
            elif get("junction") in ("roundabout", "circular"):
                direction = 1
    return walk, bike, direction


def parse_categories(categories: Mapping[str, list[str]]) -> dict[str, list[tuple[str | None, str]]]:
    """``{"cat": ["k=v", "k=*", "k", "!k=v"]}`` → ``{key: [(value or None, cat or "!cat"), ...]}``.

    A filter starting with ``!`` is a veto: an object matching it is not in the category even when a
    positive filter matches (``railway=station`` with ``station=subway`` is a metro station, not a
    train station)."""
    index: dict[str, list[tuple[str | None, str]]] = {}
    for cat, filters in categories.items():
        if isinstance(filters, str):
            filters = [filters]
        for f in filters:
            f = str(f).strip()
            neg = f.startswith("!")
            key, sep, value = f.lstrip("!").partition("=")
            if neg:
                key, value = key.strip(), value.strip()
                if not key:
                    raise ValueError(f"bad OSM tag filter for category {cat!r}: {f!r} (want !key=value)")
                index.setdefault(key, []).append((value if sep and value not in ("", "*") else None, "!" + cat))
                continue
            key, value = key.strip(), value.strip()
            if not key:
                raise ValueError(f"bad OSM tag filter for category {cat!r}: {f!r} (want key=value)")
            index.setdefault(key, []).append((value if sep and value not in ("", "*") else None, cat))
    return index


def match_categories(tags: Mapping[str, str], index: dict[str, list[tuple[str | None, str]]]) -> list[str]:
    out: list[str] = []
    vetoed: list[str] = []
    get = tags.get
    for key, rules in index.items():
        v = get(key)
        if v is None:
            continue
        values = [s.strip() for s in v.split(";")] if ";" in v else (v,)
        for want, cat in rules:
            if want is None or want in values:
                if cat[0] == "!":
                    vetoed.append(cat[1:])
                elif cat not in out:
                    out.append(cat)
    return [c for c in out if c not in vetoed] if vetoed else out


def match_landuse(tags: Mapping[str, str]) -> tuple[str, str, bool] | None:
    get = tags.get
    for key, want, exclusion in LANDUSE_RULES:
        v = get(key)
        if v is not None and (want is None or v == want):
            return key, v, exclusion
    return None


def tags_json(tags: Any) -> str:
    return json.dumps({t.k: t.v for t in tags}, sort_keys=True, ensure_ascii=False)
