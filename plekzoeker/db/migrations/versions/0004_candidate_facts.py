"""Facts per candidate (result.fact): zoning and its verdict, energy label and the label-C rule,
monument status, construction year, floors and height. NULL means unknown.

Revision ID: 0004
Revises: 0003
"""
from pathlib import Path

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(Path(__file__).with_suffix(".sql").read_text())


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS result.fact")
