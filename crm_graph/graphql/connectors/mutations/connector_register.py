"""`connectorRegister`: connect the store to a platform (admin keys only)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from crm_graph.connectors.egress import EgressPolicy
from crm_graph.errors import UserError
from crm_graph.graphql.connectors.queries import connector_view
from crm_graph.graphql.connectors.types import ConnectorType
from crm_graph.graphql.context import Info, app_settings
from crm_graph.graphql.mutation_errors import NotFoundErrorType, ValidationErrorType, error_result
from crm_graph.models.enums import Role
from crm_graph.services import connectors as service
from crm_graph.services.customers.errors import FieldError

ConnectorRegisterResult = Annotated[
    ConnectorType | ValidationErrorType | NotFoundErrorType,
    strawberry.union("ConnectorRegisterResult", description="The registered connector, or why nothing was changed."),
]


def _register(session, store, connector: str, settings: dict, enabled: bool, egress: EgressPolicy) -> ConnectorType:
    row = service.register_connector(session, store, connector, settings, enabled=enabled, egress=egress)
    return connector_view(session, store, row)


@strawberry.mutation(description="Register (or re-configure) a connector for the store with validated settings; "
                                 "needs an admin key. Secrets are stored and never returned. The platform's address must "
                                 "be public (and https in production) unless the operator allows it; see SECURITY.md. "
                                 "Returns the connector, a NotFoundError when no installed plugin provides it, or a "
                                 "ValidationError naming the setting that is not accepted.")
async def connector_register(
    info: Info,
    connector: Annotated[str, strawberry.argument(description="The connector's name, e.g. woocommerce or shopify.")],
    settings: Annotated[JSON, strawberry.argument(description="The connector's settings (see installedConnectors).")],
    enabled: Annotated[bool, strawberry.argument(description="Whether syncs and webhooks run.")] = True,
) -> ConnectorRegisterResult:
    info.context.require(Role.ADMIN)
    egress = EgressPolicy.from_settings(app_settings(info))
    try:
        if not isinstance(settings, dict):
            raise FieldError("settings", "`settings` must be a JSON object.")
        return await info.context.run(_register, connector, settings, enabled, egress, role=Role.ADMIN)
    except UserError as exc:
        return error_result(exc)
