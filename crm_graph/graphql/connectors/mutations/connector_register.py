"""`registerConnector`: connect the store to a platform (admin keys only)."""

from __future__ import annotations

import strawberry
from typing import Annotated

from strawberry.scalars import JSON

from crm_graph.graphql.connectors.types import ConnectorType
from crm_graph.connectors.egress import EgressPolicy
from crm_graph.graphql.context import Info, app_settings
from crm_graph.models.enums import Role
from crm_graph.services import connectors as service


def _register(session, store, connector: str, settings: dict, enabled: bool, egress: EgressPolicy) -> ConnectorType:
    row = service.register_connector(session, store, connector, settings, enabled=enabled, egress=egress)
    return ConnectorType.from_model(row, service.public_settings(row), service.cursors(session, store, row))


@strawberry.mutation(description="Register (or re-configure) a connector for the store with validated settings; "
                                 "needs an admin key. Secrets are stored and never returned. The platform's address must "
                                 "be public (and https in production) unless the operator allows it; see SECURITY.md.")
async def register_connector(
    info: Info,
    connector: Annotated[str, strawberry.argument(description="The connector's name, e.g. woocommerce or shopify.")],
    settings: Annotated[JSON, strawberry.argument(description="The connector's settings (see installedConnectors).")],
    enabled: Annotated[bool, strawberry.argument(description="Whether syncs and webhooks run.")] = True,
) -> ConnectorType:
    if not isinstance(settings, dict):
        from crm_graph.errors import UserError

        raise UserError("settings: must be a JSON object.")
    egress = EgressPolicy.from_settings(app_settings(info))
    return await info.context.run(_register, connector, settings, enabled, egress, role=Role.ADMIN)
