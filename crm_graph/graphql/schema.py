"""The whole schema: each domain's root fields merged into one Query (and Mutation).

A new domain adds its `Query` class to `QUERIES` (and mutations to `MUTATIONS`); nothing else here
changes. `schema.graphql` at the top of the repository is this schema printed (`crm-graph schema`).
"""

import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types

from crm_graph.graphql.connectors.mutations import ConnectorMutation
from crm_graph.graphql.connectors.queries import ConnectorQuery
from crm_graph.graphql.customers.mutations import CustomerMutation
from crm_graph.graphql.customers.queries import CustomerQuery
from crm_graph.graphql.dashboard.queries import DashboardQuery
from crm_graph.graphql.errors import ErrorCodes
from crm_graph.graphql.jobs.mutations.clv_fit_start import ClvFitStartMutation
from crm_graph.graphql.jobs.mutations.precompute_start import PrecomputeStartMutation
from crm_graph.graphql.jobs.mutations.sync_start import SyncStartMutation
from crm_graph.graphql.jobs.queries import JobQuery
from crm_graph.graphql.lifecycle.queries import LifecycleQuery
from crm_graph.graphql.period.queries import PeriodQuery
from crm_graph.graphql.rfm.queries import RfmQuery
from crm_graph.graphql.segments.mutations import SegmentMutation
from crm_graph.graphql.segments.queries import SegmentQuery
from crm_graph.graphql.store.queries import StoreQuery

QUERIES: tuple[type, ...] = (
    StoreQuery, CustomerQuery, SegmentQuery, DashboardQuery, RfmQuery, PeriodQuery, ConnectorQuery, JobQuery,
    LifecycleQuery,
)
MUTATIONS: tuple[type, ...] = (
    ConnectorMutation, CustomerMutation, SegmentMutation, PrecomputeStartMutation, SyncStartMutation,
    ClvFitStartMutation,
)

#: Limits on what one request may ask for (SPEC §7); they reject a query before it runs.
MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5000


def build_schema(*, introspection: bool = True) -> strawberry.Schema:
    """Build the schema; `introspection=False` in production."""
    from strawberry.extensions import DisableIntrospection

    extensions = [
        ErrorCodes,
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    query = merge_types("Query", QUERIES)
    mutation = merge_types("Mutation", MUTATIONS) if MUTATIONS else None
    return strawberry.Schema(query=query, mutation=mutation, extensions=extensions)


schema = build_schema()


def schema_sdl() -> str:
    """The schema in SDL, as committed in `schema.graphql`."""
    return schema.as_str().rstrip() + "\n"
