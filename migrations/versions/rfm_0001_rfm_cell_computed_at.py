"""RFM grids: when each precomputed grid was computed; indexes for the RFM and period analytics

Also joins the analytics and customers heads.

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
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_store_placed_cover", ["store_id", "placed_at", "customer_id", "status", "total", "id"]
        )
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.create_index("ix_customer_store_first_order", ["store_id", "first_order_at"])
        batch_op.create_index(
            "ix_customer_store_erased", ["store_id", "id"],
            postgresql_where=sa.text("erased_at IS NOT NULL"), sqlite_where=sa.text("erased_at IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_store_erased")
        batch_op.drop_index("ix_customer_store_first_order")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_store_placed_cover")
    with op.batch_alter_table("daily_rfm_cell", recreate="always") as batch_op:
        batch_op.drop_column("computed_at")
