"""Write small GTFS feeds (zip) from Python rows, for the ingest and transit tests."""
import csv
import io
import zipfile
from pathlib import Path

# near Utrecht (lat/lon): RD New about (136 000, 455 000)
LAT0, LON0 = 52.09, 5.12


def stop_rows(n: int, step_deg: float = 0.003, prefix: str = "s") -> list[dict]:
    return [{"stop_id": f"{prefix}{i}", "stop_name": f"Stop {i}", "stop_lat": f"{LAT0:.6f}",
             "stop_lon": f"{LON0 + i * step_deg:.6f}"} for i in range(n)]


def write_feed(path: Path, tables: dict[str, list[dict]]) -> Path:
    """``tables``: file name without .txt -> rows (dicts); the header is the union of their keys."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, rows in tables.items():
            cols = list(dict.fromkeys(k for r in rows for k in r)) or ["x"]
            buf = io.StringIO()
            w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
            z.writestr(f"{name}.txt", buf.getvalue())
    return path


def hms(s: int) -> str:
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def small_feed() -> dict[str, list[dict]]:
    """Two routes over five stops, weekday and weekend service, an exception, a trip past midnight."""
    stops = stop_rows(5)
    routes = [{"route_id": "r1", "route_short_name": "1", "route_type": "3"},
              {"route_id": "r2", "route_short_name": "2", "route_type": "2"}]
    trips = [{"route_id": "r1", "service_id": "wk", "trip_id": f"t1_{k}"} for k in range(3)]
    trips += [{"route_id": "r2", "service_id": "we", "trip_id": "t2_0"},
              {"route_id": "r1", "service_id": "wk", "trip_id": "late"}]
    st = []
    for k in range(3):
        t = 7 * 3600 + 1800 + k * 1200
        for seq, s in enumerate(range(4)):
            st.append({"trip_id": f"t1_{k}", "arrival_time": hms(t + seq * 300), "departure_time": hms(t + seq * 300),
                       "stop_id": f"s{s}", "stop_sequence": str(seq + 1)})
    st += [{"trip_id": "t2_0", "arrival_time": "10:00:00", "departure_time": "10:00:00", "stop_id": "s0",
            "stop_sequence": "1"},
           {"trip_id": "t2_0", "arrival_time": "10:20:00", "departure_time": "10:20:00", "stop_id": "s4",
            "stop_sequence": "2"},
           {"trip_id": "late", "arrival_time": "23:50:00", "departure_time": "23:50:00", "stop_id": "s0",
            "stop_sequence": "1"},
           {"trip_id": "late", "arrival_time": "24:10:00", "departure_time": "24:10:00", "stop_id": "s3",
            "stop_sequence": "2"}]
    calendar = [{"service_id": "wk", "monday": "1", "tuesday": "1", "wednesday": "1", "thursday": "1", "friday": "1",
                 "saturday": "0", "sunday": "0", "start_date": "20261101", "end_date": "20261231"},
                {"service_id": "we", "monday": "0", "tuesday": "0", "wednesday": "0", "thursday": "0", "friday": "0",
                 "saturday": "1", "sunday": "1", "start_date": "20261101", "end_date": "20261231"}]
    calendar_dates = [{"service_id": "wk", "date": "20261225", "exception_type": "2"}]
    transfers = [{"from_stop_id": "s3", "to_stop_id": "s4", "transfer_type": "2", "min_transfer_time": "120"}]
    return {"stops": stops, "routes": routes, "trips": trips, "stop_times": st, "calendar": calendar,
            "calendar_dates": calendar_dates, "transfers": transfers}
