"""Outreach versions and history: no coordinator's note is lost.

result.outreach gets a version (1 at the first status, +1 per change) and who made the change;
result.outreach_history keeps every change and every conflicting edit with who/when.

Revision ID: 0002
Revises: 0001
"""
from pathlib import Path

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(Path(__file__).with_suffix(".sql").read_text())


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS result.outreach_history")
    op.execute("ALTER TABLE result.outreach DROP COLUMN IF EXISTS version, DROP COLUMN IF EXISTS updated_by")
