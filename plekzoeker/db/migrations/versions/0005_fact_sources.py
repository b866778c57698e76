"""Sources of the facts per candidate: zoning (IMRO2012 and Omgevingsplan), energy labels,
monuments, 3DBAG heights, protected nature (Natura 2000) and high-voltage lines.

Revision ID: 0005
Revises: 0004
"""
from pathlib import Path

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = ("core.zoning", "core.energy_label", "core.monument", "core.pand_3d", "core.protected_area", "core.power_line")


def upgrade() -> None:
    op.execute(Path(__file__).with_suffix(".sql").read_text())


def downgrade() -> None:
    for t in TABLES:
        op.execute(f"DROP TABLE IF EXISTS {t}")
