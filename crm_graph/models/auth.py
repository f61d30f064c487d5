"""API keys: each scoped to one store and one role, stored only as a hash."""

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from crm_graph.models.base import created_field, id_field, instant_field, store_field


class ApiKey(SQLModel, table=True):
    """A key a client sends as ``Authorization: Bearer <key>``; only its SHA-256 is kept."""

    __tablename__ = "api_key"
    __table_args__ = (Index("ix_api_key_store", "store_id", "created_at"),)

    id: int | None = id_field()
    store_id: int = store_field()
    name: str = Field(max_length=200, nullable=False)
    role: str = Field(max_length=8, nullable=False)
    prefix: str = Field(max_length=16, nullable=False)
    key_hash: str = Field(max_length=64, unique=True, nullable=False)
    created_at: datetime = created_field()
    last_used_at: datetime | None = instant_field()
    revoked_at: datetime | None = instant_field()
