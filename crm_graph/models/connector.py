"""Connector configurations and their per-stream sync cursors."""

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_graph.models.base import created_field, id_field, instant_field, ref_field, store_field
from crm_graph.models.types import JsonType


class ConnectorConfig(SQLModel, table=True):
    """A store's registration of a connector plugin, with its (validated) configuration.

    `config` holds secrets; it is never logged nor returned through GraphQL.
    """

    __tablename__ = "connector_config"
    __table_args__ = (UniqueConstraint("store_id", "connector"),)

    id: int | None = id_field()
    store_id: int = store_field()
    connector: str = Field(max_length=64, nullable=False)
    config: dict[str, Any] = Field(default_factory=dict, sa_type=JsonType, nullable=False)
    enabled: bool = Field(default=True, nullable=False)
    created_at: datetime = created_field()
    updated_at: datetime = created_field()
    last_sync_at: datetime | None = instant_field()


class SyncCursor(SQLModel, table=True):
    """How far a connector's stream has been read for a store; advanced only after a commit."""

    __tablename__ = "sync_cursor"
    __table_args__ = (UniqueConstraint("store_id", "connector_id", "stream"),)

    id: int | None = id_field()
    store_id: int = store_field()
    connector_id: int = ref_field("connector_config.id")
    stream: str = Field(max_length=64, nullable=False)
    value: str | None = Field(default=None, max_length=500)
    updated_at: datetime = created_field()


class WebhookDelivery(SQLModel, table=True):
    """A platform webhook delivery already applied, so that a redelivery changes nothing.

    Shopify may deliver the same event more than once; its `X-Shopify-Webhook-Id` is the key. The
    delivery id is not signed, so every applied delivery also has a row whose `delivery_id` is
    ``sha256:`` and the hash of its connector, topic and body: a replay under a new (or without a)
    delivery id is a duplicate too. The maintenance prunes rows older than the webhook age limit
    and the payload retention (a delivery that old is refused anyway).
    """

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("store_id", "connector", "delivery_id"),)

    id: int | None = id_field()
    store_id: int = store_field()
    connector: str = Field(max_length=64, nullable=False)
    delivery_id: str = Field(max_length=255, nullable=False)
    topic: str = Field(max_length=128, nullable=False)
    received_at: datetime = created_field()


class WebhookVersion(SQLModel, table=True):
    """The newest modification time (the platform's) of a resource a webhook applied, so that an
    older delivery of it arriving later (a delay, a retry, a replay) does not overwrite it."""

    __tablename__ = "webhook_version"
    __table_args__ = (UniqueConstraint("store_id", "connector", "entity", "external_id"),)

    id: int | None = id_field()
    store_id: int = store_field()
    connector: str = Field(max_length=64, nullable=False)
    entity: str = Field(max_length=32, nullable=False)
    external_id: str = Field(max_length=255, nullable=False)
    modified_at: datetime = instant_field(nullable=False)
