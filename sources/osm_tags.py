"""OSM tag tables shared by the reader and the config validation (no heavy imports).

``LANDUSE_RULES`` decides which area objects the reader loads into ``core.landuse``: a plot
exclusion (``plots.exclude_osm``) or penalty (``plots.penalise_osm``) can only act on a class that
is loaded, so :func:`landuse_class_loaded` lets the config validation refuse a tag that would
silently do nothing.
"""
from __future__ import annotations

# (key, value or None for any value, plot-relevant) — first match wins, so put the more specific or
# more important class first (a park way tagged leisure=park + landuse=grass is a park).
LANDUSE_RULES: tuple[tuple[str, str | None, bool], ...] = (
    ("landuse", "cemetery", True),
    ("amenity", "grave_yard", True),
    ("landuse", "military", True),
    ("landuse", "railway", True),
    ("landuse", "reservoir", True),
    ("landuse", "basin", True),
    ("natural", "water", True),
    ("natural", "wetland", True),
    ("waterway", "riverbank", True),
    ("water", None, True),
    ("leisure", "nature_reserve", True),
    ("boundary", "protected_area", True),
    ("area:highway", None, True),
    # public green, sports and nature: parks, gardens, sports grounds, woods (see plots.exclude_osm)
    ("leisure", "park", True),
    ("leisure", "garden", True),
    ("leisure", "playground", True),
    ("leisure", "pitch", True),
    ("leisure", "dog_park", True),
    ("leisure", "sports_centre", True),
    ("leisure", "stadium", True),
    ("leisure", "track", True),
    ("leisure", "golf_course", True),
    ("leisure", "common", True),
    ("landuse", "forest", True),
    ("landuse", "allotments", True),
    ("landuse", "recreation_ground", True),
    ("landuse", "village_green", True),
    ("natural", "wood", True),
    ("natural", "scrub", True),
    ("natural", "heath", True),
    ("natural", "grassland", True),
    ("landuse", "grass", True),
    ("landuse", "meadow", True),
    ("landuse", "residential", False),
)


def landuse_class_loaded(tag: str) -> bool:
    """True when the reader loads the OSM land-use class ``key=value`` (or ``key=*``)."""
    key, _, value = str(tag).partition("=")
    for k, want, _ in LANDUSE_RULES:
        if k == key and (want is None or want == value or value == "*"):
            return True
    return False
