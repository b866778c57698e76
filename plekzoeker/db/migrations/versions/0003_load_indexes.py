"""The indexes that loads build, in the schema from the start; the owner table's comment restored.

Revision ID: 0003
Revises: 0002
"""
from pathlib import Path

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEXES = ("core.pand_ix0", "core.perceel_ix0", "core.bgt_vlak_ix0", "core.network_node_geom", "core.network_edge_ix0",
           "core.network_edge_ix1", "core.poi_ix0", "core.landuse_ix0", "result.candidate_ix0", "result.candidate_ix1")


def upgrade() -> None:
    op.execute(Path(__file__).with_suffix(".sql").read_text())


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
