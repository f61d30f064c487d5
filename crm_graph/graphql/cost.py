"""Query cost: heavy fields say what they cost, and a request over the limit is refused before it runs.

Depth, alias and token limits bound the *shape* of a query; they do not see that `first: 200` costs
200 times `first: 1`, or that a daily series over five years is 1,826 points. A heavy field declares
its cost from its arguments with one line, through Strawberry's field `metadata`:

    @strawberry.field(description="...", metadata=page_cost("first", default=50))
    @strawberry.field(description="...", metadata=series_cost("range", granularity="granularity"))
    @strawberry.field(description="...", metadata=field_cost(lambda args: 10 * len(args["ids"])))

Before execution, `QueryCostLimiter` walks the operation execution will run (fragments included),
sums the costs of every selected field and refuses the request with code QUERY_TOO_COSTLY when the
sum is over the limit. Each occurrence of a field is priced, so 30 aliases of a field cost 30 times
one. A page multiplies the cost of what is selected inside it (200 customers, each with a 30-day
series, cost 200 + 200 x 30); a fragment spread twice costs twice its selections. The walk prices
each selection set once per parent type (`CostWalk`), so it is linear in the document however the
fragments are spread. Fields without a declaration cost nothing; tests/graphql/test_cost_model.py
fails when a root field, or a field taking a range or a page size, has none.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.execution import ExecutionResult
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry.extensions import SchemaExtension

from crm_graph.graphql.limits import SATURATED, evaluate_once, select_operation
from crm_graph.services.dates import MAX_SPAN_YEARS
from crm_graph.settings import get_settings

#: The key under which a field's `FieldCost` sits in its Strawberry `metadata`.
COST_KEY = "crm_graph.cost"

#: Days per point of a series at each granularity (GraphQL enum value names).
_DAYS_PER_POINT = {"DAY": 1, "WEEK": 7, "MONTH": 28, "QUARTER": 90, "YEAR": 365}

Arguments = Mapping[str, Any]
#: The cost of a selection set: what its non-list fields cost, and what its list fields cost.
_Cost = tuple[int, int]


#: Days of each date preset (GraphQL enum value names), at their longest; no range and no preset
#: means LAST_30_DAYS.
PRESET_DAYS = {"TODAY": 1, "YESTERDAY": 1, "LAST_7_DAYS": 7, "PREVIOUS_WEEK": 7, "LAST_30_DAYS": 30,
               "LAST_MONTH": 31, "LAST_90_DAYS": 90, "LAST_365_DAYS": 365, "YEAR_TO_DATE": 366}
DEFAULT_RANGE_DAYS = PRESET_DAYS["LAST_30_DAYS"]
_MAX_SPAN_DAYS = 366 * MAX_SPAN_YEARS


@dataclass(frozen=True)
class FieldCost:
    """What one occurrence of a field costs (`own`) and how much its selections are repeated (`repeat`).

    `shared`: the field's work is done once per request for each place it is written (a data loader
    shares it between the rows of a page and between the spreads of a fragment), so its cost is
    counted once per occurrence in the document text, not multiplied by the page around it.
    """

    own: Callable[[Arguments], int]
    repeat: Callable[[Arguments], int] | None = None
    shared: bool = False


def field_cost(own: Callable[[Arguments], int] | int,
               repeat: Callable[[Arguments], int] | None = None, *, shared: bool = False) -> dict[str, FieldCost]:
    """Field metadata declaring a cost computed from the field's arguments (GraphQL names, coerced)."""
    fn = own if callable(own) else (lambda _args, _value=int(own): _value)
    return {COST_KEY: FieldCost(own=fn, repeat=repeat, shared=shared)}


def range_cost(base: int, per_day: int = 1, *, range_argument: str = "range", preset_argument: str = "preset",
               shared: bool = False) -> dict[str, FieldCost]:
    """A field that reads the store's customers or orders of a range: `base` + `per_day` x its days.

    The days are those of the `range_argument` input, else of the `preset_argument` preset, else of
    the default preset (30).
    """

    def cost(args: Arguments) -> int:
        return base + per_day * range_days(args, range_argument, preset_argument)

    return {COST_KEY: FieldCost(own=cost, shared=shared)}


def range_days(args: Arguments, range_argument: str = "range", preset_argument: str = "preset") -> int:
    """The days a field's range arguments span (see `range_cost`).

    A range longer than the resolvers accept (`MAX_SPAN_YEARS`) counts no days: it is refused, with
    its own clearer error, before anything is read.
    """
    days = days_in_range(args.get(range_argument))
    if days is not None:
        return days if days <= _MAX_SPAN_DAYS else 0
    preset = args.get(preset_argument)
    return PRESET_DAYS.get(_enum_name(preset), DEFAULT_RANGE_DAYS) if preset is not None else DEFAULT_RANGE_DAYS


def page_cost(size_argument: str = "first", *, default: int = 50, max_size: int | None = None) -> dict[str, FieldCost]:
    """A page of `size_argument` rows costs that many, and repeats its selections that many times.

    Sizes over `max_size` (default: the `max_page_size` setting) count as `max_size`: the resolver
    refuses them with its own, clearer error.
    """

    def size(args: Arguments) -> int:
        value = args.get(size_argument)
        if value is None and size_argument == "first":
            value = args.get("last")  # a connection paged backward
        wanted = max(int(value), 0) if isinstance(value, int) else default
        return min(wanted, max_size if max_size is not None else get_settings().max_page_size)

    return {COST_KEY: FieldCost(own=size, repeat=size)}


def series_cost(range_argument: str = "range", *, granularity: str | None = None,
                default_days: int = 366) -> dict[str, FieldCost]:
    """A series costs one per point: the days of the range, divided by the granularity's days per point.

    `default_days` applies when the range is absent or given as a preset (presets span at most a year).
    """

    def points(args: Arguments) -> int:
        days = days_in_range(args.get(range_argument)) or default_days
        step = _DAYS_PER_POINT.get(_enum_name(args.get(granularity)) if granularity else "DAY", 1)
        return max(math.ceil(days / step), 1)

    return {COST_KEY: FieldCost(own=points)}


def days_in_range(value: Any) -> int | None:
    """Inclusive days between `from` and `to` of a date-range input value, or None when not given."""
    if value is None:
        return None
    first, last = _read(value, "from", "from_"), _read(value, "to", "to_")
    first, last = _as_date(first), _as_date(last)
    if first is None or last is None:
        return None
    return abs((last - first).days) + 1


def _read(value: Any, *names: str) -> Any:
    for name in names:
        if isinstance(value, Mapping) and name in value:
            return value[name]
        if hasattr(value, name):
            return getattr(value, name)
    return None


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _enum_name(value: Any) -> str:
    return str(getattr(value, "name", value) or "DAY").upper()


def operation_cost(schema: GraphQLSchema, document: Any, operation_name: str | None,
                   variables: dict[str, Any] | None) -> int:
    """The summed cost of the operation `operation_name` of `document` with `variables`.

    The operation is the one execution runs (`select_operation`): none, and a cost of 0, when the
    name is unknown or the document has several operations and no name (execution refuses those).
    """
    return CostWalk(schema, document, variables).operation(operation_name)


class CostWalk:
    """Prices one operation of a document, each selection set once per parent type.

    A fragment spread twice is priced once and counted twice: its selection set's cost is memoised
    under (selection set, parent type), so a chain of fragments each spreading the next twice costs
    2^n in value but is walked in time linear in the document. `visits` counts the selections
    looked at (at most twice the selections written, per parent type they are reached with).
    """

    def __init__(self, schema: GraphQLSchema, document: Any, variables: dict[str, Any] | None) -> None:
        self.schema, self.document, self.raw_variables = schema, document, variables or {}
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.variables: dict[str, Any] = {}
        self.nodes: dict[tuple[int, str], tuple[Any, SelectionSetNode]] = {}
        self.memo: dict[tuple[int, str], _Cost] = {}
        self.shared = 0
        self.visits = 0

    def operation(self, operation_name: str | None) -> int:
        """The cost of the operation execution would run (0 when there is none)."""
        operation = select_operation(self.document, operation_name)
        if operation is None:
            return 0
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0
        coerced = get_variable_values(self.schema, operation.variable_definitions or (), self.raw_variables)
        if isinstance(coerced, list):  # bad variables: execution reports them
            return 0
        self.variables = coerced
        return self.cost(root, operation.selection_set)

    def cost(self, parent: Any, selection_set: SelectionSetNode) -> int:
        """The cost of `selection_set` selected on the type `parent` (plus the shared costs met so far)."""
        plain, rows = evaluate_once(self._key(parent, selection_set), self._children, self._combine, self.memo)
        return min(plain + rows + self.shared, SATURATED)

    def _key(self, parent: Any, selection_set: SelectionSetNode) -> tuple[int, str]:
        key = (id(selection_set), getattr(parent, "name", ""))
        self.nodes[key] = (parent, selection_set)
        return key

    def _parts(self, key: tuple[int, str]) -> Iterator[tuple[Any, tuple[int, str] | None]]:
        """Each selection of the set: (the field's definition or None, the key of what it selects or None)."""
        parent, selection_set = self.nodes[key]
        for selection in selection_set.selections:
            self.visits += 1
            if isinstance(selection, FieldNode):
                definition = (getattr(parent, "fields", None) or {}).get(selection.name.value)
                inner = (self._key(get_named_type(definition.type), selection.selection_set)
                         if definition is not None and selection.selection_set else None)
                yield (selection, definition), inner
            elif isinstance(selection, InlineFragmentNode):
                yield None, self._key(self._condition(parent, selection.type_condition), selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    yield None, self._key(self._condition(parent, fragment.type_condition), fragment.selection_set)

    def _children(self, key: tuple[int, str]) -> Iterator[tuple[int, str]]:
        return (inner for _field, inner in self._parts(key) if inner is not None)

    def _combine(self, key: tuple[int, str], value_of: Callable[[tuple[int, str]], _Cost | None]) -> _Cost:
        plain = rows = 0
        for field, inner in self._parts(key):
            inner_plain, inner_rows = (value_of(inner) or (0, 0)) if inner is not None else (0, 0)
            if field is None:  # a fragment: its selections are at this level
                plain, rows = plain + inner_plain, rows + inner_rows
                continue
            node, definition = field
            if definition is None:
                continue
            own, repeat, is_list = 0, 1, is_list_type(get_nullable_type(definition.type))
            declared = _declared_cost(definition)
            if declared is not None:
                try:
                    args = get_argument_values(definition, node, self.variables)
                except GraphQLError:
                    args = {}
                own = max(int(declared.own(args)), 0)
                repeat = max(int(declared.repeat(args)), 0) if declared.repeat else 1
                if declared.shared:
                    self.shared = min(self.shared + own, SATURATED)
                    own = 0
            # A page that is a list repeats all it selects; a page object (a connection) repeats its
            # lists (`nodes`), not its counts and facets, which run once per page.
            total = own + (repeat * (inner_plain + inner_rows) if is_list else inner_plain + repeat * inner_rows)
            if is_list:
                rows += total
            else:
                plain += total
        return min(plain, SATURATED), min(rows, SATURATED)

    def _condition(self, parent: Any, condition: Any) -> Any:
        if condition is None:
            return parent
        return self.schema.get_type(condition.name.value) or parent


def _declared_cost(definition: Any) -> FieldCost | None:
    strawberry_field = (definition.extensions or {}).get("strawberry-definition")
    metadata = getattr(strawberry_field, "metadata", None) or {}
    declared = metadata.get(COST_KEY)
    return declared if isinstance(declared, FieldCost) else None


class QueryCostLimiter(SchemaExtension):
    """Refuses, before execution, a request whose `operation_cost` is over `max_cost` (QUERY_TOO_COSTLY)."""

    def __init__(self, *, max_cost: int) -> None:
        self.max_cost = max_cost

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:
            cost = operation_cost(context.schema._schema, document, context.operation_name, context.variables)
            if cost > self.max_cost:
                shown = cost if cost < SATURATED else f"over {SATURATED}"
                context.result = ExecutionResult(data=None, errors=[GraphQLError(
                    f"This request costs {shown}, over the limit of {self.max_cost}: ask for fewer days, "
                    "smaller pages or fewer aliased copies of heavy fields.",
                    extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "maxCost": self.max_cost},
                )])
        yield


__all__ = ["COST_KEY", "CostWalk", "DEFAULT_RANGE_DAYS", "FieldCost", "PRESET_DAYS", "QueryCostLimiter",
           "days_in_range", "field_cost", "operation_cost", "page_cost", "range_cost", "range_days", "series_cost"]

