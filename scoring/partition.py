"""Split the work of a stage into areas that can run apart: municipalities, or a grid of tiles.

Pure functions (no database, no Prefect). A :class:`Part` has a *core* (what it owns) and a
*read box* (what it must see): the core's bounding box grown by a buffer, so that results near
the border are the same as in one run over everything.

Ownership is total and unique: every candidate belongs to exactly one part —

* ``municipality``: the part whose code equals the candidate's ``municipality``
  (a vacant building's municipality is its BAG pand id prefix); one part may also own the codes
  no part names (``known``), so nothing is lost when a code appears that the plan did not see;
* ``tiles``: the tile whose *clamped* grid cell holds the candidate's anchor point (half-open
  cells; points outside the grid belong to the nearest edge cell), so a point on a border or
  just outside the extent is never lost or counted twice.

Network buffer. A network distance is never shorter than the straight line, so everything a
candidate can reach within ``cap_m`` lies within ``cap_m`` of its snap node, which lies within
``max_snap_m`` of the candidate; a POI counts only when it is within ``max_snap_m`` of its own
snap node, and that node's nearest-node choice looks ``max_snap_m`` further. Reading nodes, edges
and POIs within ``max(cap_m) + 3 × max_snap_m`` of the core therefore gives every owned candidate
exactly the distances of the whole graph (see :func:`network_buffer_m`).
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass

import numpy as np

from plekzoeker.scoring.criteria_config import AccessConfig

BBox = tuple[float, float, float, float]
PARTITION_BY = ("municipality", "tiles")
_KEY_RE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Part:
    """One area of a partitioned stage. Small and JSON-able: it travels as a task parameter."""

    key: str                         # short, lower-case, safe in a table name: "gm0362", "t1x0"
    label: str                       # for task run names and logs: "GM0362", "tile 1,0"
    read_bbox: BBox                  # what the part must see (core + buffer), RD New
    municipality: str | None = None  # owner rule "municipality": the GMxxxx code it owns ("" = none)
    grid: dict | None = None         # owner rule "tiles": {"x0", "y0", "w", "h", "nx", "ny", "i", "j"}
    known: tuple[str, ...] | None = None  # set on one municipality part: it also owns every code not in here

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> Part:
        known = d.get("known")
        return cls(key=d["key"], label=d["label"], read_bbox=tuple(d["read_bbox"]),  # type: ignore[arg-type]
                   municipality=d.get("municipality"), grid=d.get("grid"), known=tuple(known) if known else None)


def part_key(text: str) -> str:
    """A key safe in a PostgreSQL identifier (lower-case letters, digits, _), at most 16 characters."""
    key = _KEY_RE.sub("_", str(text).lower()).strip("_")[:16]
    return key or "none"


def grow(bbox: BBox, buffer_m: float) -> BBox:
    minx, miny, maxx, maxy = bbox
    return (minx - buffer_m, miny - buffer_m, maxx + buffer_m, maxy + buffer_m)


def network_buffer_m(cfg: dict) -> float:
    """The buffer that makes every network distance within its cap exact: max cap_m + 3 × max_snap_m."""
    ac = AccessConfig.from_config(cfg)
    caps = [c.cap_m for c in ac.categories.values()] or [0.0]
    return max(caps) + 3.0 * ac.max_snap_m


def tile_parts(extent: BBox, nx: int, ny: int, buffer_m: float) -> list[Part]:
    """An ``nx`` × ``ny`` grid of equal tiles over ``extent``, each read with ``buffer_m`` around it."""
    if nx < 1 or ny < 1:
        raise ValueError(f"tiles must be at least 1 x 1, got {nx} x {ny}")
    minx, miny, maxx, maxy = (float(v) for v in extent)
    w = max(maxx - minx, 1e-6) / nx
    h = max(maxy - miny, 1e-6) / ny
    parts = []
    for j in range(ny):
        for i in range(nx):
            core = (minx + i * w, miny + j * h, minx + (i + 1) * w, miny + (j + 1) * h)
            grid = {"x0": minx, "y0": miny, "w": w, "h": h, "nx": nx, "ny": ny, "i": i, "j": j}
            parts.append(Part(key=f"t{i}x{j}", label=f"tile {i},{j}", read_bbox=grow(core, buffer_m), grid=grid))
    return parts


def municipality_parts(extents: dict[str | None, BBox], buffer_m: float) -> list[Part]:
    """One part per municipality code (``None``: candidates without one), read with ``buffer_m`` around
    the extent of what it owns."""
    parts = []
    for code in sorted(extents, key=lambda c: c or ""):
        label = code or "no municipality"
        parts.append(Part(key=part_key(code or "none"), label=label, read_bbox=grow(extents[code], buffer_m),
                          municipality=code or ""))
    keys = [p.key for p in parts]
    if len(set(keys)) != len(keys):
        raise ValueError(f"municipality codes do not give unique part keys: {sorted(extents, key=str)}")
    return parts


def tile_index(x: np.ndarray, y: np.ndarray, grid: dict) -> tuple[np.ndarray, np.ndarray]:
    """Clamped cell (i, j) of each point: half-open cells, outside points to the nearest edge cell."""
    i = np.floor((np.asarray(x, dtype=float) - grid["x0"]) / grid["w"])
    j = np.floor((np.asarray(y, dtype=float) - grid["y0"]) / grid["h"])
    i = np.clip(np.nan_to_num(i, nan=0.0), 0, grid["nx"] - 1).astype(int)
    j = np.clip(np.nan_to_num(j, nan=0.0), 0, grid["ny"] - 1).astype(int)
    return i, j


def owned(part: Part, municipality=None, x=None, y=None) -> np.ndarray:
    """Boolean mask of the rows ``part`` owns, by municipality code or by anchor point (see module doc)."""
    if part.grid is not None:
        i, j = tile_index(x, y, part.grid)
        return (i == part.grid["i"]) & (j == part.grid["j"])
    codes = np.array(["" if (m is None or (isinstance(m, float) and math.isnan(m))) else str(m) for m in municipality],
                     dtype=object)
    mask = codes == (part.municipality or "")
    if part.known is not None:
        mask |= ~np.isin(codes, np.array(part.known, dtype=object))
    return mask


def split_areas(partition_by: str, tiles: tuple[int, int], extent: BBox | None,
                extents: dict[str | None, BBox] | None, buffer_m: float) -> list[Part]:
    """The parts of a stage: tiles over ``extent`` or municipalities with their ``extents``."""
    if partition_by == "tiles":
        if extent is None:
            return []
        return tile_parts(extent, int(tiles[0]), int(tiles[1]), buffer_m)
    if partition_by == "municipality":
        return municipality_parts(extents or {}, buffer_m)
    raise ValueError(f"partition_by must be one of {', '.join(PARTITION_BY)}, got {partition_by!r}")
