"""Drop ix_orders_store_placed: ix_orders_store_placed_cover starts with the same columns.

Every query that could use (store_id, placed_at) uses the covering index as well, so the narrow one
only cost every order write a fifth index.

Revision ID: orders_0001
Revises: security_0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "orders_0001"
down_revision: str | Sequence[str] | None = "security_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Drop the index that the covering index makes redundant."""
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_store_placed")


def downgrade() -> None:
    """Recreate the narrow index."""
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_store_placed", ["store_id", "placed_at"], unique=False)
