"""GDPR erasures: who erased which customer when, and tombstones that stop a re-sync resurrecting them."""

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_graph.models.base import id_field, instant_field, ref_field, store_field


class CustomerErasure(SQLModel, table=True):
    """The record that a customer's personal data was erased, when and by whom (no personal data)."""

    __tablename__ = "customer_erasure"
    __table_args__ = (Index("ix_customer_erasure_store_time", "store_id", "erased_at"),)

    id: int | None = id_field()
    store_id: int = store_field()
    customer_id: int = ref_field("customer.id")
    erased_at: datetime = instant_field(nullable=False)
    actor: str | None = Field(default=None, max_length=200)


class ErasedIdentity(SQLModel, table=True):
    """A SHA-256 of an erased customer's identity (`source:external_id`, or `email:`/`phone:` value).

    Importers check it (`services.customers.erasure.is_erased_identity`) before creating a customer,
    so a connector sync or a CSV import does not bring an erased person back.
    """

    __tablename__ = "erased_identity"
    __table_args__ = (UniqueConstraint("store_id", "identity_hash"),)

    id: int | None = id_field()
    store_id: int = store_field()
    identity_hash: str = Field(max_length=64, nullable=False)
    erased_at: datetime = instant_field(nullable=False)
