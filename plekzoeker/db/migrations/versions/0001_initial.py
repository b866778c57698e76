"""Initial schema: raw, core, result, meta.

Revision ID: 0001
Revises:
"""
from pathlib import Path

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(Path(__file__).with_suffix(".sql").read_text())


def downgrade() -> None:
    for schema in ("result", "core", "raw", "meta"):
        op.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
