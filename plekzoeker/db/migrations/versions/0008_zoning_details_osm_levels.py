"""OSM building levels (core.osm_building) and the zoning detail facts on result.fact.

Revision ID: 0008
Revises: 0007
"""
from pathlib import Path

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

FACT_COLUMNS = ("zoning_functions", "zoning_max_floors", "zoning_max_height_m", "zoning_max_coverage_pct",
                "bouwvlak_pct")


def upgrade() -> None:
    op.execute(Path(__file__).with_suffix(".sql").read_text())


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS core.osm_building")
    for c in FACT_COLUMNS:
        op.execute(f"ALTER TABLE result.fact DROP COLUMN IF EXISTS {c}")
