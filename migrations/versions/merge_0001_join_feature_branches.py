"""Join the migration branches of the dashboard, RFM, customers, connectors and workers tables.

Revision ID: merge_0001
Revises: rfm_0001, workers_0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

revision: str = "merge_0001"
down_revision: str | Sequence[str] | None = ("rfm_0001", "workers_0001")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: this revision only makes the history linear again."""


def downgrade() -> None:
    """Nothing to change."""
