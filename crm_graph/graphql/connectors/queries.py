"""Root query fields of the connectors domain, and `node(id:)` of a connector registration."""

from __future__ import annotations

import strawberry

from crm_graph.graphql.connectors.types import ConnectorType, InstalledConnectorType
from crm_graph.graphql.context import Info
from crm_graph.graphql.cost import field_cost
from crm_graph.graphql.relay import register_node
from crm_graph.plugins import MAX_CONNECTORS
from crm_graph.services import connectors as service


def connector_view(session, store, row) -> ConnectorType:
    """The GraphQL view of a registration (its public settings and its cursors read in `session`)."""
    return ConnectorType.from_model(row, service.public_settings(row), service.cursors(session, store, row))


def _registrations(session, store) -> list[ConnectorType]:
    return [connector_view(session, store, row) for row in service.list_connectors(session, store)]


def _registrations_by_id(session, store, config_ids: list[int]) -> dict[int, ConnectorType]:
    return {config_id: connector_view(session, store, row)
            for config_id, row in service.connectors_by_id(session, store, config_ids).items()}


async def load_connectors(info: Info, config_ids: list[int]) -> dict[int, ConnectorType]:
    """The request store's registrations among `config_ids` (for `node(id:)`)."""
    return await info.context.run(_registrations_by_id, config_ids)


register_node("Connector", load_connectors)


@strawberry.type
class ConnectorQuery:
    @strawberry.field(description="The connectors registered for the store (settings without secrets), by name, one "
                      f"per registered connector (at most {MAX_CONNECTORS}). Cost: 1.", metadata=field_cost(1))
    async def connectors(self, info: Info) -> list[ConnectorType]:
        return await info.context.run(_registrations)

    @strawberry.field(description="The connectors the installed plugins provide, by name, one per installed connector "
                      f"(at most {MAX_CONNECTORS}). Cost: 1.", metadata=field_cost(1))
    def installed_connectors(self, info: Info) -> list[InstalledConnectorType]:
        info.context.require()
        return [InstalledConnectorType.from_model(item) for item in service.installed_connectors()]
