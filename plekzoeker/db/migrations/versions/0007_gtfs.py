"""GTFS timetables (core.gtfs_*): stops, routes, trips, stop times, calendar, calendar dates, transfers.

Revision ID: 0007
Revises: 0006
"""
from pathlib import Path

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("gtfs_stop", "gtfs_route", "gtfs_trip", "gtfs_stop_time", "gtfs_calendar", "gtfs_calendar_date",
          "gtfs_transfer")


def upgrade() -> None:
    op.execute(Path(__file__).with_suffix(".sql").read_text())


def downgrade() -> None:
    for t in TABLES:
        op.execute(f"DROP TABLE IF EXISTS core.{t}")
