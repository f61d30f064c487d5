"""Root query fields of the connectors domain."""

from __future__ import annotations

import strawberry

from crm_graph.graphql.cost import field_cost
from crm_graph.graphql.connectors.types import ConnectorType, InstalledConnectorType
from crm_graph.graphql.context import Info
from crm_graph.services import connectors as service


def _registrations(session, store) -> list[ConnectorType]:
    return [ConnectorType.from_model(row, service.public_settings(row), service.cursors(session, store, row))
            for row in service.list_connectors(session, store)]


@strawberry.type
class ConnectorQuery:
    @strawberry.field(description="The connectors registered for the store (settings without secrets). Cost: 1.",
                      metadata=field_cost(1))
    async def connectors(self, info: Info) -> list[ConnectorType]:
        return await info.context.run(_registrations)

    @strawberry.field(description="The connectors the installed plugins provide. Cost: 1.", metadata=field_cost(1))
    def installed_connectors(self, info: Info) -> list[InstalledConnectorType]:
        info.context.require()
        return [InstalledConnectorType.from_model(item) for item in service.installed_connectors()]
