"""`plekzoeker ingest gtfs`: a feed through the loader (staging -> validate -> swap), rejects with reasons,
the cut to the area, broken feeds refused in one line with the previous timetable kept."""
import copy
import subprocess
import sys
import zipfile

import pandas as pd
import pytest
import sqlalchemy as sa
from gtfs_fixtures import small_feed, write_feed
from pyproj import Transformer

from plekzoeker.area import Area
from plekzoeker.errors import SourceError
from plekzoeker.sources.gtfs import load_gtfs
from plekzoeker.sources.gtfs_read import parse_times


def counts(engine):
    with engine.connect() as c:
        return {t: c.execute(sa.text(f"SELECT count(*) FROM core.gtfs_{t}")).scalar()
                for t in ("stop", "route", "trip", "stop_time", "calendar", "calendar_date", "transfer")}


def rejects(engine):
    with engine.connect() as c:
        return [r[0] for r in c.execute(sa.text("SELECT reason FROM meta.reject ORDER BY reason"))]


def test_times_over_24h_empty_and_malformed():
    got = parse_times(pd.Series(["07:30:00", "7:30:05", "25:10:00", "", None, "8:61:00", "abc"]))
    assert got.tolist()[:3] == [27000, 27005, 90600]
    assert got.isna().tolist()[3:5] == [True, True]
    assert got.tolist()[5:] == [-1, -1]


def test_load_small_feed(db, tmp_path):
    feed = write_feed(tmp_path / "feed.zip", small_feed())
    st = load_gtfs(db, feed)
    assert counts(db) == {"stop": 5, "route": 2, "trip": 5, "stop_time": 16, "calendar": 2, "calendar_date": 1,
                          "transfer": 1}
    assert st.rejected == 0
    with db.connect() as c:
        late = c.execute(sa.text("SELECT arrival_s FROM core.gtfs_stop_time WHERE trip_id = 'late' "
                                 "ORDER BY stop_sequence")).scalars().all()
        srid = c.execute(sa.text("SELECT DISTINCT ST_SRID(geom) FROM core.gtfs_stop")).scalar()
    assert late == [85800, 87000] and srid == 28992
    # unchanged: skipped
    assert load_gtfs(db, feed).skipped


def test_unknown_ids_and_bad_rows_are_rejected_with_reasons(db, tmp_path):
    t = small_feed()
    t["stop_times"].append({"trip_id": "t1_0", "arrival_time": "08:30:00", "departure_time": "08:30:00",
                            "stop_id": "nowhere", "stop_sequence": "9"})
    t["stop_times"].append({"trip_id": "ghost", "arrival_time": "08:30:00", "departure_time": "08:30:00",
                            "stop_id": "s1", "stop_sequence": "1"})
    t["stop_times"][0]["arrival_time"] = "7:99:00"
    t["trips"].append({"route_id": "nope", "service_id": "wk", "trip_id": "orphan"})
    t["stop_times"].append({"trip_id": "orphan", "arrival_time": "09:00:00", "departure_time": "09:00:00",
                            "stop_id": "s2", "stop_sequence": "1"})
    t["calendar_dates"].append({"service_id": "wk", "date": "2026-12-24", "exception_type": "1"})
    st = load_gtfs(db, write_feed(tmp_path / "feed.zip", t))
    reasons = rejects(db)
    assert "gtfs_stop_time: stop_id not in stops.txt" in reasons
    assert "gtfs_stop_time: trip_id not in trips.txt (or its trip was rejected)" in reasons
    assert "gtfs_trip: route_id not in routes.txt" in reasons
    assert any("malformed arrival_time" in r for r in reasons)
    assert any("malformed date" in r for r in reasons)
    assert st.rejected == len(reasons) == 6   # the orphan trip's stop time goes with it
    assert counts(db)["stop_time"] == 16 - 1
    with db.connect() as c:
        assert c.execute(sa.text("SELECT rows_rejected FROM meta.input WHERE input_id = :i"),
                         {"i": st.input_id}).scalar() == 6


def test_cut_to_the_area_with_a_buffer(db, tmp_path):
    feed = write_feed(tmp_path / "feed.zip", small_feed())
    to_rd = Transformer.from_crs(4326, 28992, always_xy=True)
    x0, y0 = to_rd.transform(5.12, 52.09)      # stop s0; the stops are ~205 m apart eastwards
    area = Area(bbox=(x0 - 50, y0 - 50, x0 + 50, y0 + 50))
    load_gtfs(db, feed, area=area, buffer_m=300, force=True)
    with db.connect() as c:
        stops = c.execute(sa.text("SELECT stop_id FROM core.gtfs_stop ORDER BY stop_id")).scalars().all()
        trips = c.execute(sa.text("SELECT DISTINCT trip_id FROM core.gtfs_stop_time ORDER BY 1")).scalars().all()
    assert stops == ["s0", "s1"]
    assert trips == ["late", "t1_0", "t1_1", "t1_2", "t2_0"]   # every trip calling at s0 or s1
    assert counts(db)["transfer"] == 0                         # s3 -> s4 lies outside


@pytest.mark.parametrize("breakage, message", [
    ("truncated", "truncated or corrupt"),
    ("no_stop_times", "missing stop_times.txt"),
    ("no_calendar", "neither calendar.txt nor calendar_dates.txt"),
    ("no_column", "stops.txt: missing column(s) stop_lat"),
])
def test_broken_feed_is_one_line_and_keeps_the_previous_timetable(db, tmp_path, breakage, message):
    load_gtfs(db, write_feed(tmp_path / "good.zip", small_feed()))
    before = counts(db)
    t = copy.deepcopy(small_feed())
    path = tmp_path / "bad.zip"
    if breakage == "truncated":
        write_feed(path, t)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif breakage == "no_stop_times":
        del t["stop_times"]
        write_feed(path, t)
    elif breakage == "no_calendar":
        del t["calendar"], t["calendar_dates"]
        write_feed(path, t)
    else:
        for r in t["stops"]:
            del r["stop_lat"]
        write_feed(path, t)
    with pytest.raises(SourceError) as exc:
        load_gtfs(db, path)
    assert message in str(exc.value) and "\n" not in str(exc.value) and str(path) in str(exc.value)
    assert counts(db) == before


def test_truncated_member_inside_a_valid_directory(db, tmp_path):
    """A zip whose central directory is fine but whose stop_times member is cut short (CRC error)."""
    path = write_feed(tmp_path / "feed.zip", small_feed())
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("stop_times.txt")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 5: start + 15] = b"\x00" * 10   # corrupt the compressed bytes
    path.write_bytes(bytes(data))
    with pytest.raises(SourceError, match="stop_times.txt"):
        load_gtfs(db, path)


def test_cli_help():
    out = subprocess.run([sys.executable, "-m", "plekzoeker.cli", "ingest", "gtfs", "--help"], capture_output=True,
                         text=True)
    assert out.returncode == 0 and "GTFS" in out.stdout and "meta.reject" in out.stdout
