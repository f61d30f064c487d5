"""Mutations of API keys (admin keys only)."""

import strawberry

from crm_graph.graphql.api_keys.mutations.api_key_create import api_key_create
from crm_graph.graphql.api_keys.mutations.api_key_revoke import api_key_revoke


@strawberry.type
class ApiKeyMutation:
    api_key_create = api_key_create
    api_key_revoke = api_key_revoke
