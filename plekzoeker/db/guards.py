"""Plausibility guards: a readable file with wrong data must not replace good data.

``load_input`` runs these on every validated staging table, inside the load's transaction and
before the swap, so a refusal (``SourceError``, one line naming the file) rolls the whole load back
and ``core.*`` keeps the previous data:

1. **Extent.** Every geometry must touch the RD New domain of the Netherlands (``RD_DOMAIN``: the
   domain in which RDNAPTRANS™ defines RD coordinates, -7 000 < x < 300 000, 289 000 < y < 629 000)
   and, when the area has a bbox or polygon, its box widened by ``area_margin_m``.
2. **Row rules** of the source (``TableSpec.plausible``: floor area 0 or absurd, a date in the
   future, ...) and, for identifiers that carry a municipality code (``TableSpec.municipality``),
   "another municipality than the area".
3. **Duplicate geometries at scale**: most rows sharing one geometry (or, for polygons, most rows
   sharing theirs with another row) is a broken export.
4. **Shrink guard** (after the rest, on the rows that would be swapped in): a load that would remove
   more than ``max_shrink`` of the current rows of a table (counted inside the load's area; per
   municipality too, for tables whose rows carry one) is refused with the before/after counts unless
   ``allow_shrink``; growth beyond ``growth_warn_factor`` only warns.

Why this is correct. Each row rule is *certain*: a row failing it cannot be right (a Dutch building
is not in the North Sea, a unit has at least 1 m² and at most the BAG catalogue's 999 999 m², nobody
became vacant tomorrow). A rule failing for more than ``max_implausible_share`` of the rows means
the file as a whole is wrong (another CRS, another municipality's register), and loading the rest
would replace good data with a fragment: the file is refused, with what the failing rows look like
(``describe_extent`` recognises lon/lat degrees labelled RD New, swapped axes, Web Mercator and UTM
metres). Below that share the failing rows are rejected into ``meta.reject`` with the reason, like
malformed identifiers; tables whose rows depend on each other (the OSM graph) warn instead. The
shrink guard compares like with like: the current rows inside the new load's area (its municipality,
its bbox, its partition), so narrowing the area on purpose is not a shrink, and a first load (no
current rows) or a table smaller than ``shrink_min_rows`` is not guarded. Duplicates are judged on a
seeded sample of at most ~20 000 rows: a share above one half is found in such a sample with
certainty for all practical purposes, at a fixed cost however large the table.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from psycopg import sql

from plekzoeker.area import Area
from plekzoeker.db import ledger
from plekzoeker.db.sqlfile import named_statements
from plekzoeker.errors import SourceError

if TYPE_CHECKING:  # pragma: no cover
    from plekzoeker.db.tables import LoadStats, TableSpec

log = logging.getLogger(__name__)

RD_DOMAIN = (-7000.0, 289000.0, 300000.0, 629000.0)  # minx, miny, maxx, maxy (RDNAPTRANS™ domain, EPSG:28992)
SAMPLE_ROWS = 20_000  # duplicate geometries are judged on a sample of about this many rows
SQL_FILE = Path(__file__).with_name("guards.sql")


@dataclass(frozen=True)
class LoadPolicy:
    """How strict a load is: config section ``ingest`` (documented, with its defaults, in config/default.yaml)."""

    allow_shrink: bool
    max_shrink: float
    shrink_min_rows: int
    growth_warn_factor: float
    max_implausible_share: float
    area_margin_m: float
    area: Area | None = None

    @classmethod
    def from_config(cls, cfg: dict, allow_shrink: bool | None = None) -> LoadPolicy:
        """The checked policy of a config (one ConfigError line naming a bad key); ``allow_shrink`` overrides its key."""
        from plekzoeker.errors import ConfigError

        ing = cfg.get("ingest")
        keys = ("allow_shrink", "max_shrink", "shrink_min_rows", "growth_warn_factor", "max_implausible_share",
                "area_margin_m")
        if not isinstance(ing, dict) or set(ing) != set(keys):
            got = sorted(ing) if isinstance(ing, dict) else ing
            raise ConfigError(f"config ingest: {got!r} must have exactly the keys {', '.join(keys)}")
        if not isinstance(ing["allow_shrink"], bool):
            raise ConfigError(f"config ingest.allow_shrink: {ing['allow_shrink']!r} must be true or false")
        for key in ("max_shrink", "max_implausible_share"):
            v = ing[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 1:
                raise ConfigError(f"config ingest.{key}: {v!r} must be a share between 0 (exclusive) and 1")
        for key, lo in (("shrink_min_rows", 0), ("area_margin_m", 0), ("growth_warn_factor", 1)):
            v = ing[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < lo:
                raise ConfigError(f"config ingest.{key}: {v!r} must be a number >= {lo}")
        policy = cls(**{k: ing[k] for k in keys})
        return replace(policy, allow_shrink=True) if allow_shrink else policy

    @classmethod
    def default(cls) -> LoadPolicy:
        """The policy of config/default.yaml (for a load called without one)."""
        from plekzoeker.settings import default_config

        return cls.from_config(default_config())

    def for_area(self, area: Area | None) -> LoadPolicy:
        return replace(self, area=area if area is not None and not area.is_empty else None)


def _statements() -> dict[str, str]:
    return named_statements(SQL_FILE)


def _stmt(name: str, **parts: sql.Composable) -> sql.Composed:
    return sql.SQL(_statements()[name]).format(**parts)


def _envelope(box: tuple[float, float, float, float]) -> sql.Composed:
    return sql.SQL("ST_MakeEnvelope({}, {}, {}, {}, 28992)").format(*(sql.Literal(float(v)) for v in box))


def _fmt_range(lo: float, hi: float) -> str:
    return f"{lo:.6g}..{hi:.6g}" if max(abs(lo), abs(hi)) < 1000 else f"{lo:.0f}..{hi:.0f}"


def extent_text(box: tuple[float, float, float, float]) -> str:
    minx, miny, maxx, maxy = box
    return f"x {_fmt_range(minx, maxx)}, y {_fmt_range(miny, maxy)}"


def describe_extent(box: tuple[float, float, float, float]) -> str | None:
    """What coordinates in ``box`` (minx, miny, maxx, maxy, labelled EPSG:28992) look like, in words, when
    they look like a known other CRS; None otherwise."""
    minx, miny, maxx, maxy = box
    where = extent_text(box)

    def within(lo_x, hi_x, lo_y, hi_y) -> bool:
        return lo_x <= minx and maxx <= hi_x and lo_y <= miny and maxy <= hi_y

    if within(3, 8, 50, 54):
        return f"coordinates look like lon/lat degrees ({where}) but the file says EPSG:28992 (RD New)"
    if within(50, 54, 3, 8):
        return f"coordinates look like lat/lon degrees with the axes swapped ({where}) but the file says EPSG:28992"
    if within(300_000, 900_000, 6_400_000, 7_200_000):
        return f"coordinates look like Web Mercator metres (EPSG:3857; {where}) but the file says EPSG:28992"
    if within(400_000, 900_000, 5_500_000, 6_000_000):
        return f"coordinates look like UTM zone 31N metres (EPSG:25831/32631; {where}) but the file says EPSG:28992"
    return None


def _area_box(policy: LoadPolicy) -> tuple[float, float, float, float] | None:
    mask = policy.area.mask() if policy.area is not None else None
    return tuple(mask.bounds) if mask is not None and not mask.is_empty else None


def _reject(cur, staging: sql.Composed, spec: TableSpec, tag: int, cond: sql.Composable, reason: str) -> int:
    return ledger.reject_rows(cur, staging, spec.id_column, tag, f"{spec.table}: {reason}", spec.private, cond)


def _row_checks(spec: TableSpec, policy: LoadPolicy) -> list[tuple[str, sql.Composable, str, bool]]:
    """(name, SQL condition true for a failing row, reason, geometric) in the order they are judged."""
    checks: list[tuple[str, sql.Composable, str, bool]] = []
    if spec.geometry and spec.extent:
        g = sql.Identifier(spec.geometry)
        lo_x, lo_y, hi_x, hi_y = RD_DOMAIN
        checks.append(("rd", sql.SQL("NOT ({} && {})").format(g, _envelope(RD_DOMAIN)),
                       f"geometry outside the RD New domain of the Netherlands (x {lo_x:.0f}..{hi_x:.0f}, "
                       f"y {lo_y:.0f}..{hi_y:.0f})", True))
        box = _area_box(policy)
        if box is not None:
            m = policy.area_margin_m
            wide = (box[0] - m, box[1] - m, box[2] + m, box[3] + m)
            checks.append(("area", sql.SQL("NOT ({} && {})").format(g, _envelope(wide)),
                           f"geometry more than {m:.0f} m outside the area (bbox {', '.join(f'{v:.0f}' for v in box)})",
                           True))
    if spec.municipality and policy.area is not None and policy.area.municipality:
        gm = policy.area.municipality
        checks.append(("municipality", sql.SQL("({m}) IS NOT NULL AND ({m}) <> {gm}").format(
            m=sql.SQL(spec.municipality), gm=sql.Literal(gm)),
            f"identifier of another municipality than the area GM{gm}", False))
    for n, (cond, reason) in enumerate(spec.plausible):  # internal constant SQL, never user input
        checks.append((f"rule{n}", sql.SQL(f"coalesce({cond}, false)"), reason, False))
    return checks


def guard_rows(cur, staging: sql.Composed, spec: TableSpec, tag: int, stats: LoadStats, policy: LoadPolicy,
               path: str | Path, surveyed: Survey | None = None) -> None:
    """Checks 1-3 on a validated staging table: reject failing rows, or refuse the file (SourceError).

    ``surveyed``: the table's :func:`survey`, when no row changed since it was taken (then its counts
    are this check's, and the table is not scanned again)."""
    checks = _row_checks(spec, policy)
    kept = None
    if checks:
        if surveyed is not None:
            total, hits = surveyed.total, list(surveyed.guard_hits)
        else:
            counts = sql.SQL(", ").join(sql.SQL("count(*) FILTER (WHERE {})").format(c) for _, c, _, _ in checks)
            cur.execute(sql.SQL("SELECT count(*), {} FROM {}").format(counts, staging))
            total, *hits = cur.fetchone()
        for (_name, cond, reason, geometric), hit in zip(checks, hits):
            if not hit:
                continue
            if hit > policy.max_implausible_share * total:
                raise SourceError(path, _refusal(cur, staging, spec, cond, reason, geometric, hit, total, policy))
        for (_name, cond, reason, geometric), hit in zip(checks, hits):
            if not hit:
                continue
            if geometric and spec.extent == "warn":
                log.warning("%s: %d of %d %s rows (%.0f %%): %s (kept)", path, hit, total, spec.table,
                            100 * hit / total, reason)
                continue
            n = _reject(cur, staging, spec, tag, cond, reason)
            total -= n
            if n:
                log.warning("%s: %d row(s) rejected: %s (see meta.reject, input %s)", spec.table, n, reason, tag)
                stats.rejected += n
                stats.implausible += n
        kept = total
    if spec.geometry and spec.duplicate_geometry:
        if kept is None:
            if surveyed is not None:
                kept = surveyed.total
            else:
                cur.execute(sql.SQL("SELECT count(*) FROM {}").format(staging))
                kept = cur.fetchone()[0]
        _guard_duplicates(cur, staging, spec, kept, policy, path)


def _refusal(cur, staging, spec, cond, reason, geometric, hit, total, policy) -> str:
    share = f"{hit:,} of {total:,} {spec.table} rows"
    limit = f"more than the {policy.max_implausible_share:.0%} ingest.max_implausible_share allows"
    if geometric:
        cur.execute(_stmt("extent_failing", g=sql.Identifier(spec.geometry), t=staging, cond=cond))
        box = cur.fetchone()
        box = tuple(box) if box and box[0] is not None else None
        seen = describe_extent(box) if box else None
        if seen:
            return f"{seen}: {share} lie outside the Netherlands; nothing was changed"
        where = f" (coordinates {extent_text(box)})" if box else ""
        return f"{share}{where}: {reason.removeprefix('geometry ')}; is this the right file? nothing was changed"
    return f"{share}: {reason} ({limit}): the file looks wrong; nothing was changed"


def _guard_duplicates(cur, staging, spec, kept: int, policy, path) -> None:
    if kept < 10:
        return
    pct = min(100.0, 100.0 * SAMPLE_ROWS / kept)
    cur.execute(_stmt("largest_geometry_groups", t=staging, g=sql.Identifier(spec.geometry)), {"pct": pct})
    sampled, largest, shared = (int(v) for v in cur.fetchone())
    if sampled < 10:
        return
    limit = policy.max_implausible_share * sampled
    if largest > limit:
        raise SourceError(path, f"{largest:,} of {sampled:,} {'sampled ' if pct < 100 else ''}{spec.table} rows have "
                                f"one and the same geometry: a broken export; nothing was changed")
    if spec.geom_kind == "multipolygon" and shared > limit:
        raise SourceError(path, f"{shared:,} of {sampled:,} {'sampled ' if pct < 100 else ''}{spec.table} rows share "
                                f"their geometry with another row: a broken export; nothing was changed")


def _scope(spec: TableSpec, policy: LoadPolicy, partition: str | None) -> tuple[sql.Composable, str]:
    """The rows of a table the shrink guard compares (the load's area / partition), and its name."""
    conds: list[sql.Composable] = []
    names: list[str] = []
    if spec.partition and partition is not None:
        conds.append(sql.SQL("{} = {}").format(sql.Identifier(spec.partition), sql.Literal(partition)))
        names.append(f"{spec.partition} {partition}")
    area = policy.area
    if area is not None and area.municipality and spec.municipality:
        conds.append(sql.SQL("({}) = {}").format(sql.SQL(spec.municipality), sql.Literal(area.municipality)))
        names.append(f"GM{area.municipality}")
    box = _area_box(policy)
    if box is not None and spec.geometry:
        conds.append(sql.SQL("{} && {}").format(sql.Identifier(spec.geometry), _envelope(box)))
        names.append("the area's bbox")
    cond = sql.SQL(" AND ").join(conds) if conds else sql.SQL("true")
    return cond, (" in " + ", ".join(names)) if names else ""


def _per_municipality(spec: TableSpec, policy: LoadPolicy) -> bool:
    """True when the shrink guard also compares the rows per municipality (a load of all municipalities)."""
    return bool(spec.municipality) and not (policy.area is not None and policy.area.municipality)


def _counts(cur, t: sql.Composable, spec: TableSpec, cond: sql.Composable,
            per_municipality: bool) -> tuple[int, dict[str, int] | None]:
    """Rows of ``t`` in the scope ``cond``: (total, per municipality code or None), in one scan."""
    if not per_municipality:
        cur.execute(_stmt("count_where", t=t, cond=cond))
        return cur.fetchone()[0], None
    rows = _fetch(cur, _stmt("count_by_municipality", m=sql.SQL(spec.municipality), t=t, cond=cond))
    return sum(n for _, n in rows), {m: n for m, n in rows if m is not None}


def guard_shrink(cur, staging: sql.Composed, spec: TableSpec, policy: LoadPolicy, path: str | Path,
                 partition: str | None, current: CurrentRows | None = None,
                 staged: tuple[int, dict[str, int] | None] | None = None) -> None:
    """Check 4: refuse a load that would remove more than ``max_shrink`` of the current rows.

    ``current``: the current rows counted on a second connection (used when core.<table> is still the
    table counted, else they are counted here); ``staged``: the staging table's counts from its
    :func:`survey` when no row changed since."""
    if not spec.shrink_guard:
        return
    table = sql.SQL("{}.{}").format(sql.Identifier(spec.schema), sql.Identifier(spec.table))
    cond, where = _scope(spec, policy, partition)
    per_m = _per_municipality(spec, policy)
    counted = current.result(cur, spec) if current is not None else None
    old, was = counted if counted is not None else _counts(cur, table, spec, cond, per_m)
    if old == 0:
        return  # a first load (of this area)
    new, now = staged if staged is not None else _counts(cur, staging, spec, cond, per_m)
    shrinking = [(f"core.{spec.table}{where}", old, new)] if _shrinks(old, new, policy) else []
    if not shrinking and per_m:
        shrinking = [(f"core.{spec.table} in GM{m}", n, now.get(m, 0)) for m, n in sorted(was.items())
                     if _shrinks(n, now.get(m, 0), policy)]
    if shrinking:
        what = "; ".join(f"{name}: {o:,} → {n:,} rows (−{1 - n / o:.0%})" for name, o, n in shrinking[:3])
        more = f" and {len(shrinking) - 3} more" if len(shrinking) > 3 else ""
        if policy.allow_shrink:
            log.warning("%s: accepted with allow_shrink: %s%s", path, what, more)
        else:
            raise SourceError(path, f"would remove more than {policy.max_shrink:.0%} of the current rows ({what}{more}): "
                                    "an export or download that stopped early? If the smaller file is right, load it "
                                    "with --allow-shrink (nightly: ingest.allow_shrink: true); nothing was changed")
    if old >= policy.shrink_min_rows and new > policy.growth_warn_factor * old:
        log.warning("%s: core.%s%s grows from %d to %d rows (more than %gx): is this the file for the area?",
                    path, spec.table, where, old, new, policy.growth_warn_factor)


# --------------------------------------------------------------------------- one scan of a staging table

@dataclass(frozen=True)
class Survey:
    """What one scan of a freshly copied staging table found (:func:`survey`); its counts stay the
    table's as long as no row is rejected, repaired or dropped as a duplicate."""

    total: int
    check_hits: tuple[int, ...]   # rows failing each of the loader's ``checks``
    guard_hits: tuple[int, ...]   # rows failing each row check of the guards (empty without a policy)
    staged: tuple[int, dict[str, int] | None] | None  # the shrink guard's counts (in scope, per municipality)


def survey(cur, staging: sql.Composed, spec: TableSpec, checks: Sequence[str], policy: LoadPolicy | None,
           partition: str | None) -> Survey:
    """One scan of a staging table for every count the load needs: rows, rows failing each validation
    check (``checks``: SQL true for a bad row) and each plausibility row check, and the shrink guard's
    rows in scope (per municipality when it compares them). In the usual case (nothing to reject, no
    duplicates) that is the only scan of the table before its indexes are built."""
    counts = [sql.SQL("count(*)")] + [sql.SQL("count(*) FILTER (WHERE {})").format(sql.SQL(c)) for c in checks]
    guards = _row_checks(spec, policy) if policy is not None else []
    counts += [sql.SQL("count(*) FILTER (WHERE {})").format(c) for _, c, _, _ in guards]
    shrink = policy is not None and spec.shrink_guard
    per_m = shrink and _per_municipality(spec, policy)
    if shrink:
        counts.append(sql.SQL("count(*) FILTER (WHERE {})").format(_scope(spec, policy, partition)[0]))
    key = sql.SQL(spec.municipality) if per_m else sql.SQL("NULL::text")
    stmt = sql.SQL("SELECT {k}, {c} FROM {t}").format(k=key, c=sql.SQL(", ").join(counts), t=staging)
    rows = _fetch(cur, stmt + sql.SQL(" GROUP BY 1") if per_m else stmt)  # grouped: no row for an empty table
    sums = [sum(r[i] for r in rows) for i in range(1, len(counts) + 1)]
    n_checks = len(checks)
    staged = None
    if shrink:
        staged = (sums[-1], {r[0]: r[-1] for r in rows if r[0] is not None} if per_m else None)
    return Survey(total=sums[0], check_hits=tuple(sums[1:1 + n_checks]),
                  guard_hits=tuple(sums[1 + n_checks:1 + n_checks + len(guards)]), staged=staged)


# --------------------------------------------------------------------------- current rows, counted beside the load

class CurrentRows:
    """The shrink guard's counts of the current rows (``core.<table>`` in the load's scope), counted on a
    second connection in a thread, started before the COPY: the server counts them while the load's
    own connection waits for the file's first rows, instead of after the COPY on the load's path.

    The counts are read in one snapshot with the table's oid; :meth:`result` hands them over only
    when the name still stands for that table (a swap by another load in between puts another table
    under it), else None and the guard counts in the load's transaction as before. Loads of one kind
    hold their advisory lock while this runs. Tables replaced by partition are not counted here
    (their rows change in place)."""

    def __init__(self, connect: Callable[[], object], specs: Sequence[TableSpec], policy: LoadPolicy,
                 partition: str | None) -> None:
        self._connect, self._policy, self._partition = connect, policy, partition
        self._specs = [s for s in specs if s.shrink_guard and not s.partition]
        self._out: dict[str, tuple[int, tuple[int, dict[str, int] | None]]] = {}
        self._thread: threading.Thread | None = None

    def start(self) -> CurrentRows:
        if self._specs and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="current-rows", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        try:
            raw = self._connect()
        except Exception:  # noqa: BLE001 - then the guard counts on the load's connection
            log.debug("current rows: no second connection", exc_info=True)
            return
        try:
            pg = getattr(raw, "driver_connection", raw)
            with pg.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")  # one snapshot
                for spec in self._specs:
                    cur.execute(_stmt("current_oid"), {"name": _qualified(spec)})
                    oid = cur.fetchone()[0]
                    table = sql.SQL("{}.{}").format(sql.Identifier(spec.schema), sql.Identifier(spec.table))
                    cond, _ = _scope(spec, self._policy, self._partition)
                    self._out[spec.table] = (oid, _counts(cur, table, spec, cond, _per_municipality(spec, self._policy)))
            pg.rollback()
        except Exception:  # noqa: BLE001 - then the guard counts on the load's connection
            log.debug("current rows: counting beside the load failed", exc_info=True)
        finally:
            try:
                raw.close()
            except Exception:  # noqa: BLE001
                pass

    def result(self, cur, spec: TableSpec) -> tuple[int, dict[str, int] | None] | None:
        """(rows, per municipality) of ``core.<table>`` when still the table counted; None otherwise."""
        if self._thread is None:
            return None
        self._thread.join()
        got = self._out.get(spec.table)
        if got is None:
            return None
        cur.execute(_stmt("current_oid"), {"name": _qualified(spec)})
        return got[1] if cur.fetchone()[0] == got[0] else None

    def close(self, timeout: float = 30.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout)


def _qualified(spec: TableSpec) -> str:
    return f'"{spec.schema}"."{spec.table}"'  # internal constant names


def _fetch(cur, stmt) -> list[tuple]:
    cur.execute(stmt)
    return cur.fetchall()


def _shrinks(old: int, new: int, policy: LoadPolicy) -> bool:
    return old >= policy.shrink_min_rows and new < (1 - policy.max_shrink) * old
