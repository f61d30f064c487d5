"""The whole schema: each domain's root fields merged into one Query (and Mutation).

A new domain adds its `Query` class to `QUERIES` (and mutations to `MUTATIONS`); nothing else here
changes. `schema.graphql` at the top of the repository is this schema printed (`crm-graph schema`).
"""

import copy
import functools

import strawberry
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache
from strawberry.tools import merge_types

from crm_graph.graphql.api_keys.mutations import ApiKeyMutation
from crm_graph.graphql.api_keys.queries import ApiKeyQuery
from crm_graph.graphql.cost import QueryCostLimiter
from crm_graph.graphql.connectors.mutations import ConnectorMutation
from crm_graph.graphql.connectors.queries import ConnectorQuery
from crm_graph.graphql.customers.mutations import CustomerMutation
from crm_graph.graphql.customers.queries import CustomerQuery
from crm_graph.graphql.errors import ErrorCodes, code_errors
from crm_graph.graphql.dashboard.queries import DashboardQuery
from crm_graph.graphql.period.queries import PeriodQuery
from crm_graph.graphql.relay import NodeQuery
from crm_graph.graphql.rfm.queries import RfmQuery
from crm_graph.graphql.segments.mutations import SegmentMutation
from crm_graph.graphql.segments.queries import SegmentQuery
from crm_graph.graphql.jobs.mutations import JobMutation
from crm_graph.graphql.jobs.queries import JobQuery
from crm_graph.graphql.lifecycle.queries import LifecycleQuery
from crm_graph.graphql.limits import ShapeLimits, SingleOperation, Validation
from crm_graph.graphql.store.queries import StoreQuery
from crm_graph.graphql.text_guard import TextGuard

QUERIES: tuple[type, ...] = (
    StoreQuery, CustomerQuery, ApiKeyQuery, DashboardQuery, SegmentQuery, RfmQuery, PeriodQuery, ConnectorQuery,
    JobQuery, LifecycleQuery, NodeQuery,
)
MUTATIONS: tuple[type, ...] = (
    ApiKeyMutation, CustomerMutation, SegmentMutation, ConnectorMutation, JobMutation,
)

#: Limits on what one request may ask for (docs/SECURITY.md); they reject a query before it runs.
MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5000
#: Fields of one operation once its fragments are expanded: no more than its tokens could spell out.
MAX_FIELDS = MAX_TOKENS
#: Default limit of a request's summed field costs (see crm_graph/graphql/cost.py); a setting.
MAX_COST = 5000


class CrmSchema(strawberry.Schema):
    """The Strawberry schema, minus Strawberry's own error logging, and optionally without suggestions.

    `ErrorCodes` logs internal errors once, with the id the client sees; the caller's mistakes
    (validation, bad arguments, limits) are not worth a traceback, and logging each one would let a
    hostile client flood the log.
    """

    def __init__(self, *args, hide_suggestions: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.hide_suggestions = hide_suggestions

    def _get_custom_context_kwargs(self, *args, **kwargs) -> dict:
        """Strawberry's arguments to graphql-core's `execute`, plus `hide_suggestions` (variable values)."""
        return {**super()._get_custom_context_kwargs(*args, **kwargs), "hide_suggestions": self.hide_suggestions}

    def process_errors(self, errors, execution_context=None) -> None:
        """Log nothing here: `ErrorCodes` does it."""

    async def execute(self, *args, **kwargs):
        """Execute, then make sure every error has its code (see `code_errors`)."""
        result = await super().execute(*args, **kwargs)
        code_errors(result)
        return result

    def execute_sync(self, *args, **kwargs):
        """Execute synchronously, then make sure every error has its code (see `code_errors`)."""
        result = super().execute_sync(*args, **kwargs)
        code_errors(result)
        return result


def build_schema(*, introspection: bool = True, max_cost: int = MAX_COST) -> strawberry.Schema:
    """The schema; `introspection=False` in production; `max_cost` is the request cost limit.

    Without introspection, validation errors carry no "Did you mean …?" suggestions either: they
    would name the fields introspection hides.

    Each call returns a schema object of its own, since an app adds extensions to its schema
    (metrics, tracing); the converted types under it (graphql-core's schema) are built once per
    `introspection` and `max_cost` in a process: converting them takes about 0.1 s, and a process
    that creates several apps (the tests create one per test) would pay that each time.
    """
    return copy.copy(_built_schema(introspection, max_cost))


@functools.cache
def _built_schema(introspection: bool, max_cost: int) -> strawberry.Schema:
    """Build the schema for `build_schema` (once per argument values)."""
    from strawberry.extensions import DisableIntrospection

    # The shape rule class is built once: the validation cache is keyed by the rule classes.
    limit_rules = [ShapeLimits(max_depth=MAX_DEPTH, max_aliases=MAX_ALIASES, max_fields=MAX_FIELDS).rule()]
    extensions = [
        ErrorCodes,
        lambda: AddValidationRules(limit_rules),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=256),
        lambda: Validation(hide_suggestions=not introspection),
        SingleOperation,
        lambda: QueryCostLimiter(max_cost=max_cost),
        TextGuard,
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    query = merge_types("Query", QUERIES)
    mutation = merge_types("Mutation", MUTATIONS) if MUTATIONS else None
    return CrmSchema(query=query, mutation=mutation, extensions=extensions, hide_suggestions=not introspection)


schema = build_schema()


def schema_sdl() -> str:
    """The schema in SDL, as committed in `schema.graphql`."""
    return schema.as_str().rstrip() + "\n"
