"""Shared pieces of every table: the metadata naming convention and store-scoped columns."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from crm_graph.models.types import BigId, UTCDateTime, utcnow

# Stable constraint names, so that migrations are the same on SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def id_field() -> int | None:
    """An auto-incremented surrogate primary key."""
    return Field(default=None, primary_key=True, sa_type=BigId)


def store_field(primary_key: bool = False) -> int:
    """The tenant column that every row carries; deleting a store deletes its rows."""
    if primary_key:
        return Field(primary_key=True, foreign_key="store.id", ondelete="CASCADE", sa_type=BigId)
    return Field(foreign_key="store.id", ondelete="CASCADE", nullable=False, sa_type=BigId)


def ref_field(target: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> int:
    """A reference to another table's id (`target` is ``table.id``)."""
    return Field(
        default=None if nullable else ...,
        foreign_key=target,
        ondelete=ondelete,
        nullable=nullable,
        sa_type=BigId,
    )


def created_field() -> datetime:
    """When the row was created, in UTC."""
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def instant_field(nullable: bool = True) -> datetime | None:
    """A timezone-aware instant, stored as UTC."""
    return Field(default=None if nullable else ..., sa_type=UTCDateTime, nullable=nullable)
