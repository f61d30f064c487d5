"""GraphQL types of connectors; settings are shown without secrets, ever."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from crm_graph.graphql.relay import NodeType, global_id
from crm_graph.models import ConnectorConfig, SyncCursor
from crm_graph.services.connectors import ConnectorInfo


@strawberry.type(name="InstalledConnector", description="A connector an installed plugin provides.")
class InstalledConnectorType:
    name: str = strawberry.field(description="The connector's name, as `connectorRegister` and `connectorSync` take it.")
    title: str = strawberry.field(description="Display name.")
    settings_schema: JSON = strawberry.field(description="JSON Schema of the connector's settings.")
    secret_fields: list[str] = strawberry.field(
        description="Settings that are secrets (never returned), one name per secret setting (at most 50).")

    @classmethod
    def from_model(cls, info: ConnectorInfo) -> "InstalledConnectorType":
        """The GraphQL view of an installed connector."""
        return cls(name=info.name, title=info.title, settings_schema=info.settings_schema,
                   secret_fields=list(info.secret_fields))


@strawberry.type(name="SyncCursor", description="How far a stream of a connector has been read.")
class SyncCursorType:
    stream: str = strawberry.field(description="The stream (customers, orders...).")
    value: str | None = strawberry.field(description="The cursor (an instant for time-based streams).")
    updated_at: datetime = strawberry.field(description="When the cursor last moved.")

    @classmethod
    def from_model(cls, row: SyncCursor) -> "SyncCursorType":
        """The GraphQL view of a cursor row."""
        return cls(stream=row.stream, value=row.value, updated_at=row.updated_at)


@strawberry.type(name="Connector", description="A connector registered for the store; secrets are never shown.")
class ConnectorType(NodeType):
    connector: str = strawberry.field(description="The connector's name (woocommerce, shopify...).")
    enabled: bool = strawberry.field(description="Whether syncs and webhooks run.")
    settings: JSON = strawberry.field(description="The settings, secrets left out.")
    last_sync_at: datetime | None = strawberry.field(description="When the last sync finished.")
    cursors: list[SyncCursorType] = strawberry.field(
        description="Where each stream of the connector stands, one per stream it has read (at most 20).")

    @classmethod
    def from_model(cls, row: ConnectorConfig, public: dict, cursors: list[SyncCursor]) -> "ConnectorType":
        """The GraphQL view of a registration with its public settings."""
        return cls(id=global_id("Connector", row.id), connector=row.connector, enabled=row.enabled, settings=public,
                   last_sync_at=row.last_sync_at, cursors=[SyncCursorType.from_model(c) for c in cursors])
