"""Load a GTFS feed into core.gtfs_* (stops, routes, trips, stop times, calendar, calendar dates, transfers).

One load is one transaction of the loader (plekzoeker/db/load.py): every table is staged, validated
and swapped together, so a bad feed leaves the previous timetable in place. What is checked where:

* in the reader (:mod:`plekzoeker.sources.gtfs_read`): missing files and columns, a truncated zip
  (one-line ``SourceError``); the cut to the area: only stops inside the area widened by
  ``transit.area_buffer_m`` are kept, and only the stop times, trips, routes and services they use;
* per row (``TableSpec.checks``, rejected into ``meta.reject`` with the reason): malformed times or
  dates, departure before arrival, weekday flags other than 0/1, unknown exception or transfer types;
* between tables (``sql/gtfs_refs.sql``, before the swap, also into ``meta.reject``): a stop time at
  a stop id that stops.txt does not have, of a trip id that trips.txt does not have, a trip of an
  unknown route or of a service in neither calendar file.

When the area is only a municipality code (no polygon or bbox), the cut uses the extent of the loaded
street graph (core.network_node, itself cut to the area by the OSM load) widened by the buffer; with
no street graph either, the whole feed is kept (logged).
"""
from __future__ import annotations

import logging
import re
from dataclasses import replace
from functools import cache
from pathlib import Path

import shapely
import sqlalchemy as sa
from psycopg import sql
from shapely.geometry import box

from plekzoeker.area import Area
from plekzoeker.db import ledger
from plekzoeker.db.guards import LoadPolicy
from plekzoeker.db.load import load_input
from plekzoeker.db.tables import LoadStats, TableSpec

from .bag import _area_options
from .gtfs_read import BAD_TIME, GtfsReader

log = logging.getLogger(__name__)
SQL_FILE = Path(__file__).parent / "sql" / "gtfs_refs.sql"

_NO_GEOM = {"geometry": None, "extent": None, "duplicate_geometry": False}
STOP = TableSpec(table="gtfs_stop", columns=("stop_id", "stop_name", "location_type", "parent_station", "input_id"),
                 geom_kind="point", id_column="stop_id", duplicate_geometry=False)
STOP_TIME = TableSpec(
    table="gtfs_stop_time", columns=("trip_id", "stop_sequence", "stop_id", "arrival_s", "departure_s", "input_id"),
    checks=(("trip_id IS NULL OR stop_id IS NULL", "no trip_id or stop_id"),
            ("stop_sequence IS NULL", "stop_sequence missing or not a number"),
            (f"arrival_s = {BAD_TIME} OR departure_s = {BAD_TIME}",
             "malformed arrival_time/departure_time (H:MM:SS; hours may exceed 24)"),
            ("departure_s < arrival_s", "departure_time before arrival_time")),
    indexes=("(trip_id, stop_sequence)",), **_NO_GEOM)
TRIP = TableSpec(table="gtfs_trip", columns=("trip_id", "route_id", "service_id", "input_id"), id_column="trip_id",
                 checks=(("route_id IS NULL OR service_id IS NULL", "no route_id or service_id"),), **_NO_GEOM)
ROUTE = TableSpec(table="gtfs_route",
                  columns=("route_id", "agency_id", "route_short_name", "route_long_name", "route_type", "input_id"),
                  id_column="route_id", checks=(("route_type IS NULL", "route_type missing or not a number"),),
                  **_NO_GEOM)
CALENDAR = TableSpec(table="gtfs_calendar", columns=("service_id", "weekdays", "start_date", "end_date", "input_id"),
                     id_column="service_id", required=False,
                     checks=(("weekdays IS NULL OR weekdays !~ '^[01]{7}$'", "weekday flags must each be 0 or 1"),
                             ("start_date IS NULL OR end_date IS NULL", "malformed start_date/end_date (YYYYMMDD)")),
                     **_NO_GEOM)
CALENDAR_DATE = TableSpec(table="gtfs_calendar_date", columns=("service_id", "date", "exception_type", "input_id"),
                          required=False, indexes=("(date)",),
                          checks=(("service_id IS NULL OR date IS NULL", "no service_id or malformed date (YYYYMMDD)"),
                                  ("exception_type IS NULL OR exception_type NOT IN (1, 2)",
                                   "exception_type must be 1 (added) or 2 (removed)")),
                          **_NO_GEOM)
TRANSFER = TableSpec(table="gtfs_transfer",
                     columns=("from_stop_id", "to_stop_id", "transfer_type", "min_transfer_time", "input_id"),
                     required=False,
                     checks=(("transfer_type NOT BETWEEN 0 AND 5", "transfer_type must be 0..5"),
                             ("min_transfer_time < 0", "negative min_transfer_time")),
                     **_NO_GEOM)
SPECS = {"stops": STOP, "stop_times": STOP_TIME, "trips": TRIP, "routes": ROUTE, "calendar": CALENDAR,
         "calendar_dates": CALENDAR_DATE, "transfers": TRANSFER}


@cache
def _statements() -> list[tuple[str, str]]:
    parts = re.split(r"^-- name: (\w+)\n", SQL_FILE.read_text(), flags=re.M)
    return [(n, body.strip().rstrip(";")) for n, body in zip(parts[1::2], parts[2::2])]


def area_mask(engine: sa.Engine, area: Area, buffer_m: float):
    """The geometry stops must fall in: the area's polygon/bbox, or the street graph's extent, widened."""
    mask = area.mask()
    if mask is None and area.municipality:
        with engine.connect() as conn:
            ext = conn.execute(sa.text("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                                       "(SELECT ST_Extent(geom) AS e FROM core.network_node) s")).first()
        if ext and ext[0] is not None:
            mask = box(*ext)
            log.info("gtfs: area %s has no polygon or bbox; cut to the street graph's extent", area.gm_code)
        else:
            log.warning("gtfs: area %s has no polygon, bbox or street graph: the whole feed is kept", area.gm_code)
    if mask is None:
        return None
    mask = mask.buffer(buffer_m)
    shapely.prepare(mask)
    return mask


def load_gtfs(engine: sa.Engine, path: str | Path, area: Area | None = None, buffer_m: float = 0.0,
              force: bool = False, policy: LoadPolicy | None = None) -> LoadStats:
    """Read a GTFS zip (or folder), cut to ``area`` widened by ``buffer_m``, and load all tables atomically."""
    area = area or Area()
    mask = area_mask(engine, area, buffer_m)
    reader = GtfsReader(path, mask)
    refs = {"rejected": 0, "per_table": {}}

    def check_references(cur, staged: dict[str, str]) -> None:
        names = {k: sql.SQL(staged[s.table])
                 for k, s in (("stop", STOP), ("stop_time", STOP_TIME), ("trip", TRIP), ("route", ROUTE),
                              ("calendar", CALENDAR), ("calendar_date", CALENDAR_DATE))}
        tag = ledger.input_id_of(staged[STOP.table])
        for name, stmt in _statements():
            cur.execute(sql.SQL(stmt).format(**names), {"input_id": tag})
            if cur.rowcount:
                log.warning("gtfs: %d row(s) rejected: %s (see meta.reject, input %s)", cur.rowcount, name, tag)
                refs["rejected"] += cur.rowcount
                table = "gtfs_trip" if name.startswith("trip") else "gtfs_stop_time"
                refs["per_table"][table] = refs["per_table"].get(table, 0) + cur.rowcount

    targets = {spec: getattr(reader, name) for name, spec in SPECS.items()}
    stats = load_input(engine, "gtfs", path, targets, force=force, post_sql=check_references,
                       options={"area": _area_options(area), "buffer_m": buffer_m},
                       policy=replace(policy or LoadPolicy.default(), area=None))  # the cut is the reader's, by geometry
    if refs["rejected"] and stats.input_id is not None:
        stats.rejected += refs["rejected"]
        stats.rows_out -= refs["rejected"]
        for t, n in refs["per_table"].items():
            stats.per_table[t] = stats.per_table.get(t, 0) - n
        ledger.correct_counts(engine, stats.input_id, stats.rejected, stats.rows_out)  # counted before the checks
    if reader.cut.dropped_stops:
        log.info("gtfs: %d stop(s) outside the area (+%.0f m) or without coordinates left out",
                 reader.cut.dropped_stops, buffer_m)
    return stats
