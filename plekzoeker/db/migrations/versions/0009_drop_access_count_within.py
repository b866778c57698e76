"""result.access loses count_within: nothing read it (issue 20 removed the count searches).

Revision ID: 0009
Revises: 0008
"""
from pathlib import Path

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(Path(__file__).with_suffix(".sql").read_text())


def downgrade() -> None:
    op.execute("ALTER TABLE result.access ADD COLUMN IF NOT EXISTS count_within integer")
