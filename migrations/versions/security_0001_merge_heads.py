"""Merge the migration heads of the parallel areas (no schema change).

Revision ID: security_0001
Revises: lifecycle_0001, merge_0001
"""

from collections.abc import Sequence

revision: str = "security_0001"
down_revision: str | Sequence[str] | None = ("lifecycle_0001", "merge_0001")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: this revision only joins the heads."""


def downgrade() -> None:
    """Nothing to change: this revision only joins the heads."""
