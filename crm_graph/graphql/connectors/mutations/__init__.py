"""Mutations of the connectors domain."""

import strawberry

from crm_graph.graphql.connectors.mutations.connector_register import register_connector


@strawberry.type
class ConnectorMutation:
    register_connector = register_connector
