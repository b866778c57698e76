"""A GTFS feed for the demo town (``gtfs.zip``): bus lines over the town's OSM bus stops and a train line.

Fictitious and deterministic (no randomness, no download). Stops are the demo's OSM bus stops and its
station, so walking to a stop uses the same street graph as everything else; a second station
("Station Stadwijk", 4 km east along the railway) is the far end of the train line.

* line 1 "Ringlijn" (bus): all bus stops ordered around the town's centre, clockwise;
* line 2 "Ringlijn" (bus): the same loop counter-clockwise;
* line 3 "Sprinter" (rail): Station Demodorp <-> Station Stadwijk;
* weekdays (``calendar.txt`` 1111100): buses every 10 min 06:00-20:00, trains every 30 min; a late bus
  leaves at 23:45 and runs past midnight (times ``24:xx``); weekends (0000011): buses every 30 min
  08:00-18:00, trains hourly; ``calendar_dates.txt``: no weekday service on 25 December 2026, weekend
  service instead.

Buses run at ``BUS_M_S`` (straight line between stops, rounded up to whole minutes, at least one), trains
at ``TRAIN_M_S``; a call takes no dwell time.
"""
from __future__ import annotations

import csv
import io
import math
import zipfile
from pathlib import Path

import numpy as np
from pyproj import Transformer

BUS_M_S = 7.0
TRAIN_M_S = 20.0
FAR_STATION_DX_M = 4000.0
START, END = "20260101", "20271231"
_TO_WGS84 = Transformer.from_crs(28992, 4326, always_xy=True)


def _hms(s: int) -> str:
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def _csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _legs_min(xy: np.ndarray, speed: float) -> list[int]:
    d = np.hypot(*np.diff(xy, axis=0).T)
    return [max(1, math.ceil(v / speed / 60)) for v in d]


def _trips(prefix: str, route: str, service: str, stop_ids: list[str], legs: list[int], starts: range,
           trips: list, stop_times: list) -> None:
    for k, t0 in enumerate(starts):
        tid = f"{prefix}_{service}_{k:03d}"
        trips.append({"route_id": route, "service_id": service, "trip_id": tid})
        t = t0
        for seq, sid in enumerate(stop_ids):
            if seq:
                t += legs[seq - 1] * 60
            stop_times.append({"trip_id": tid, "arrival_time": _hms(t), "departure_time": _hms(t), "stop_id": sid,
                               "stop_sequence": seq + 1})


def write_demo_gtfs(path: Path, pois: list[tuple[int, int, dict]]) -> dict:
    """Write the feed from the demo's OSM POIs ((x_cm, y_cm, tags) in RD New); returns counts."""
    bus = [(x / 100.0, y / 100.0, t.get("name", "")) for x, y, t in pois if t.get("highway") == "bus_stop"]
    station = next((x / 100.0, y / 100.0, t.get("name", "Station")) for x, y, t in pois if t.get("railway") == "station")
    xy = np.array([(x, y) for x, y, _ in bus])
    cx, cy = xy.mean(axis=0)
    order = np.argsort(-np.arctan2(xy[:, 1] - cy, xy[:, 0] - cx), kind="stable")  # clockwise
    stops, ids = [], []
    for n, i in enumerate(order):
        ids.append(f"bus{n + 1:02d}")
        stops.append((ids[-1], bus[i][2] or f"Halte {n + 1}", bus[i][0], bus[i][1]))
    stops += [("stat_demodorp", station[2], station[0], station[1]),
              ("stat_stadwijk", "Station Stadwijk", station[0] + FAR_STATION_DX_M, station[1])]
    stop_rows = []
    for sid, name, x, y in stops:
        lon, lat = _TO_WGS84.transform(x, y)
        stop_rows.append({"stop_id": sid, "stop_name": name, "stop_lat": f"{lat:.7f}", "stop_lon": f"{lon:.7f}",
                          "location_type": 0})
    loop = ids + ids[:1]
    loop_xy = np.vstack([xy[order], xy[order][:1]])
    legs = _legs_min(loop_xy, BUS_M_S)
    rail_xy = np.array([[station[0], station[1]], [station[0] + FAR_STATION_DX_M, station[1]]])
    rail = _legs_min(rail_xy, TRAIN_M_S)
    trips, st = [], []
    for service, bus_starts, train_starts in (("wk", range(6 * 3600, 20 * 3600 + 1, 600), range(6 * 3600, 21 * 3600, 1800)),
                                              ("we", range(8 * 3600, 18 * 3600 + 1, 1800), range(8 * 3600, 19 * 3600, 3600))):
        _trips("ring_cw", "1", service, loop, legs, bus_starts, trips, st)
        _trips("ring_ccw", "2", service, loop[::-1], legs[::-1], bus_starts, trips, st)
        _trips("train_e", "3", service, ["stat_demodorp", "stat_stadwijk"], rail, train_starts, trips, st)
        _trips("train_w", "3", service, ["stat_stadwijk", "stat_demodorp"], rail, train_starts, trips, st)
    _trips("ring_cw_late", "1", "wk", loop, legs, range(23 * 3600 + 2700, 23 * 3600 + 2701), trips, st)
    flags = {"wk": "1111100", "we": "0000011"}
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    calendar = [{"service_id": s, **{d: f for d, f in zip(days, flags[s])}, "start_date": START, "end_date": END}
                for s in ("wk", "we")]
    tables = {
        "agency": [{"agency_id": "demo", "agency_name": "Demo Vervoer", "agency_url": "https://example.org",
                    "agency_timezone": "Europe/Amsterdam"}],
        "stops": stop_rows,
        "routes": [{"route_id": "1", "agency_id": "demo", "route_short_name": "1", "route_long_name": "Ringlijn",
                    "route_type": 3},
                   {"route_id": "2", "agency_id": "demo", "route_short_name": "2", "route_long_name": "Ringlijn",
                    "route_type": 3},
                   {"route_id": "3", "agency_id": "demo", "route_short_name": "SPR", "route_long_name": "Sprinter",
                    "route_type": 2}],
        "trips": trips, "stop_times": st, "calendar": calendar,
        "calendar_dates": [{"service_id": "wk", "date": "20261225", "exception_type": 2},
                           {"service_id": "we", "date": "20261225", "exception_type": 1}],
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, rows in tables.items():
            # a fixed entry time (the demo's reference date), not the clock: the same seed gives the same bytes
            info = zipfile.ZipInfo(f"{name}.txt", date_time=(2025, 6, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, _csv(rows))
    return {"stops": len(stop_rows), "trips": len(trips), "stop_times": len(st)}
