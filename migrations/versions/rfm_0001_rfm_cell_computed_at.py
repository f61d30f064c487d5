"""RFM grids: when each precomputed grid was computed (also joins the analytics and customers heads)

Revision ID: rfm_0001
Revises: analytics_0001, customers_0001
Create Date: 2026-11-22 15:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm_graph.models.types

revision: str = "rfm_0001"
down_revision: str | Sequence[str] | None = ("analytics_0001", "customers_0001")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # daily_rfm_cell is a cache the daily precompute fills again; emptying it lets the new column be NOT NULL.
    op.execute("DELETE FROM daily_rfm_cell")
    with op.batch_alter_table("daily_rfm_cell", recreate="always") as batch_op:
        batch_op.add_column(sa.Column("computed_at", crm_graph.models.types.UTCDateTime(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("daily_rfm_cell", recreate="always") as batch_op:
        batch_op.drop_column("computed_at")
