"""The demo town with its generated GTFS feed: scored candidates carry transit times that make sense."""
import datetime as dt

import sqlalchemy as sa
from db_helpers import detect_and_score

from plekzoeker.scoring.transit_config import TransitConfig


def test_demo_candidates_carry_transit_times(db, demo_dir):
    cfg, run_id, _ = detect_and_score(db, demo_dir / "demo.yaml", reset=True)
    tc = TransitConfig.from_config(cfg)
    with db.connect() as conn:
        rows = conn.execute(sa.text("SELECT criteria, subscores FROM result.score WHERE score IS NOT NULL")).all()
        summary = conn.execute(sa.text("SELECT count(*) FROM core.gtfs_stop_time")).scalar()
    assert rows and summary > 1000
    for crit, sub in rows:
        for cat in tc.categories:
            med, best = crit.get(f"transit_{cat}_min"), crit.get(f"transit_{cat}_best_min")
            assert med is not None, (cat, crit)             # a small town: everything is reachable in the window
            assert 0 < best <= med <= tc.max_travel_s / 60
            assert crit[f"transit_{cat}_within"] >= 1
            assert 0 <= sub[f"transit_{cat}"] <= 1
    # somewhere the bus (or train) beats walking for some departures: best strictly below the median
    gaps = [c[f"transit_{k}_min"] - c[f"transit_{k}_best_min"] for c, _ in rows for k in tc.categories]
    assert max(gaps) > 1.0


def test_demo_picks_a_weekday_and_no_transit_without_a_feed(db, demo_dir):
    from plekzoeker.scoring.run import run_score
    from plekzoeker.scoring.timetable import pick_date
    from plekzoeker.scoring.transit import read_feed
    from plekzoeker.settings import load_config

    cfg, run_id, _ = detect_and_score(db, demo_dir / "demo.yaml", reset=True)
    with db.connect() as conn:
        feed = read_feed(conn)
    day = pick_date(TransitConfig.from_config(cfg).weekday, feed.trips, feed.calendar, feed.calendar_dates)
    assert isinstance(day, dt.date) and day.weekday() == 1
    with db.begin() as conn:
        conn.execute(sa.text("TRUNCATE core.gtfs_stop, core.gtfs_stop_time, core.gtfs_trip"))
    run_score(db, load_config(demo_dir / "demo.yaml"), run_id)
    with db.connect() as conn:
        crit = conn.execute(sa.text("SELECT criteria FROM result.score")).scalars().all()
    assert crit and not any(k.startswith("transit_") for c in crit for k in c)
