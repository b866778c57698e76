"""What a coordinator acts on (result.ranking): capacity range, hard vetoes, quick-scan flags, owner
priority, the scoring profile used, months flagged, relative score and rank range. NULL means unknown.
And core.offer: places owners offer (contact details are personal data, never published).

Revision ID: 0006
Revises: 0005
"""
from pathlib import Path

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(Path(__file__).with_suffix(".sql").read_text())


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS result.ranking")
    op.execute("DROP TABLE IF EXISTS core.offer")
