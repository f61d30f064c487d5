"""Mutations of the connectors domain, one module per mutation; `ConnectorMutation` gathers them."""

import strawberry

from crm_graph.graphql.connectors.mutations.connector_register import connector_register
from crm_graph.graphql.connectors.mutations.connector_sync import connector_sync


@strawberry.type
class ConnectorMutation:
    connector_register = connector_register
    connector_sync = connector_sync
