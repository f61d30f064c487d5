"""Limits on the shape of a request, checked during validation in time linear in the document.

A fragment may be spread any number of times, and may spread other fragments: a document of 26
fragments, each spreading the next one twice, selects 2^26 fields once expanded. Walking such a
document spread by spread (as Strawberry's depth and alias limiters do) takes exponential time, so
every analysis here works on *selection sets*, each computed once and memoised (a fragment's
selection set is one selection set, whichever spread reaches it); a spread then costs a dictionary
look-up. Fragment cycles are refused by graphql-core's NoFragmentCycles rule; here a spread that
would close a cycle simply counts as empty, so the analysis ends either way.

Per operation, after expanding fragments:

- **depth**: the longest chain of nested fields with selections (root fields at depth 0, leaves and
  introspection fields such as `__schema` add nothing), as Strawberry's limiter counted it; a spread
  is as deep as its fragment. Over `max_depth`: QUERY_TOO_DEEP.
- **aliases**: every aliased field, counted as many times as fragment spreads reach it. Counting the
  alias once per document text would let a fragment holding 30 aliases be spread 30 times to ask
  for 900 copies of a field, so aliases are multiplied through spreads: that bounds the work.
  Over `max_aliases`: TOO_MANY_ALIASES.
- **fields**: every field selection, multiplied through spreads the same way: the size of the
  operation written out without fragments. Over `max_fields`: TOO_MANY_FIELDS. Fragments are a
  shorthand; they may not make an operation bigger than the token limit lets one be written out.

The counts saturate at `SATURATED` so that a doubling chain does not build huge integers.

`select_operation` picks the operation a request runs the way graphql-core does, and
`SingleOperation` refuses a document of several operations without `operationName` (Strawberry
would otherwise run the first one, and the cost walker would price whichever it picked).

`Validation` runs graphql-core's validation (with these rules) through a cache, and can hide the
"Did you mean …?" suggestions that would otherwise name the fields introspection hides.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    validate,
)
from graphql.execution import ExecutionResult
from graphql.language import SKIP
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

#: Counts stop growing here: far over every limit, and small enough to stay a machine integer.
SATURATED = 10**12

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def evaluate_once(root: K, children: Callable[[K], Iterable[K]], combine: Callable[[K, Callable[[K], V | None]], V],
                  memo: dict[K, V]) -> V:
    """The value of `root` in a graph where each node's value combines its children's values.

    Each node is combined once: its value is kept in `memo` (pass the same dict to share it between
    roots). Depth first, without recursion: a chain of hundreds of fragments must not exhaust the
    stack. `combine(node, value_of)` gets None from `value_of` for a child that is one of the node's
    own ancestors (a cycle), so a cyclic graph ends too.
    """
    open_: set[K] = set()
    stack: list[tuple[K, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if node in memo:
            continue
        if expanded:
            memo[node] = combine(node, memo.get)
            open_.discard(node)
            continue
        if node in open_:
            continue
        open_.add(node)
        stack.append((node, True))
        stack.extend((child, False) for child in children(node) if child not in memo and child not in open_)
    return memo[root]


@dataclass(frozen=True)
class Shape:
    """What a selection set asks for once its fragments are expanded."""

    depth: int = 0
    aliases: int = 0
    fields: int = 0


_EMPTY = Shape()


class ShapeAnalysis:
    """The `Shape` of each operation of one document, each selection set analysed once.

    `visits` counts the selections looked at: at most twice the selections written in the document,
    however often its fragments are spread (the fuzz tests check this bound).
    """

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.nodes: dict[int, SelectionSetNode] = {}
        self.memo: dict[int, Shape] = {}
        self.visits = 0

    def shape(self, operation: OperationDefinitionNode) -> Shape:
        """The expanded shape of `operation`."""
        self.nodes[id(operation.selection_set)] = operation.selection_set
        return evaluate_once(id(operation.selection_set), self._children, self._combine, self.memo)

    def _inner(self, selection: Any) -> SelectionSetNode | None:
        if isinstance(selection, FieldNode):
            return selection.selection_set
        if isinstance(selection, InlineFragmentNode):
            return selection.selection_set
        if isinstance(selection, FragmentSpreadNode):
            fragment = self.fragments.get(selection.name.value)
            return fragment.selection_set if fragment is not None else None
        return None

    def _children(self, key: int) -> Iterator[int]:
        for selection in self.nodes[key].selections:
            self.visits += 1
            inner = self._inner(selection)
            if inner is not None:
                self.nodes[id(inner)] = inner
                yield id(inner)

    def _combine(self, key: int, value_of: Callable[[int], Shape | None]) -> Shape:
        depth = aliases = fields = 0
        for selection in self.nodes[key].selections:
            self.visits += 1
            inner_node = self._inner(selection)
            inner = (value_of(id(inner_node)) or _EMPTY) if inner_node is not None else _EMPTY
            aliases += inner.aliases
            fields += inner.fields
            if isinstance(selection, FieldNode):
                fields += 1
                aliases += 1 if selection.alias else 0
                if inner_node is not None and not selection.name.value.startswith("__"):
                    depth = max(depth, 1 + inner.depth)
            else:
                depth = max(depth, inner.depth)
        return Shape(depth=depth, aliases=min(aliases, SATURATED), fields=min(fields, SATURATED))


@dataclass(frozen=True)
class ShapeLimits:
    """The largest depth, aliases and fields one operation may have (see the module docstring)."""

    max_depth: int
    max_aliases: int
    max_fields: int

    def errors(self, document: DocumentNode) -> list[GraphQLError]:
        """One error per operation of `document` and limit it exceeds, each with its code."""
        analysis = ShapeAnalysis(document)
        errors: list[GraphQLError] = []
        for operation in document.definitions:
            if not isinstance(operation, OperationDefinitionNode):
                continue
            shape = analysis.shape(operation)
            name = operation.name.value if operation.name else "anonymous"
            if shape.depth > self.max_depth:
                errors.append(GraphQLError(
                    f"Operation '{name}' is {shape.depth} fields deep, over the limit of {self.max_depth}.",
                    operation, extensions={"code": "QUERY_TOO_DEEP", "limit": self.max_depth}))
            if shape.aliases > self.max_aliases:
                errors.append(GraphQLError(
                    f"Operation '{name}' has {_count(shape.aliases)} aliased fields once its fragments are "
                    f"expanded, over the limit of {self.max_aliases}.",
                    operation, extensions={"code": "TOO_MANY_ALIASES", "limit": self.max_aliases}))
            if shape.fields > self.max_fields:
                errors.append(GraphQLError(
                    f"Operation '{name}' selects {_count(shape.fields)} fields once its fragments are "
                    f"expanded, over the limit of {self.max_fields}: spread fewer fragments.",
                    operation, extensions={"code": "TOO_MANY_FIELDS", "limit": self.max_fields}))
        return errors

    def rule(self) -> type[ASTValidationRule]:
        """A validation rule class applying these limits (build it once: the validation cache keys on it)."""
        limits = self

        class ShapeLimitRule(ASTValidationRule):
            """Refuses operations over the depth, alias or field limits, in time linear in the document."""

            def enter_document(self, node: DocumentNode, *_args: Any) -> Any:
                for error in limits.errors(node):
                    self.report_error(error)
                return SKIP

        return ShapeLimitRule


def _count(value: int) -> str:
    return f"{value:,}" if value < SATURATED else f"over {SATURATED:,}"


@lru_cache(maxsize=256)
def _validate(schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...],
              hide_suggestions: bool) -> tuple[GraphQLError, ...]:
    return tuple(validate(schema, document, (*rules, MaybeNullValidationRule, OneOfInputValidationRule),
                          hide_suggestions=hide_suggestions))


class Validation(SchemaExtension):
    """Validates the document (graphql-core's rules, Strawberry's, and the request's), through a cache.

    Replaces Strawberry's ValidationCache, which cannot pass graphql-core's `hide_suggestions`: in
    production, "Cannot query field 'x'. Did you mean 'y'?" would name the fields that disabled
    introspection hides. The cache is keyed by the parsed document (the parser cache hands the same
    object back for the same text), the rules and the switch.
    """

    def __init__(self, *, hide_suggestions: bool) -> None:
        self.hide_suggestions = hide_suggestions

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.pre_execution_errors is None:
            context.pre_execution_errors = list(_validate(context.schema._schema, context.graphql_document,
                                                          tuple(context.validation_rules), self.hide_suggestions))
        yield


def select_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    """The operation named `operation_name`, or the document's only one; None when unknown or ambiguous."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == operation_name), None)


class SingleOperation(SchemaExtension):
    """Refuses (GRAPHQL_VALIDATION_FAILED) a document of several operations sent without `operationName`.

    Strawberry fills in the first operation's name when the request gives none, so graphql-core's
    own check ("Must provide operation name …") never fires; the name the client sent is read here.
    """

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if context.result is None and document is not None:
            # Strawberry keeps the name the request gave apart from the one it derives.
            given = getattr(context, "_provided_operation_name", context.operation_name)
            count = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
            if given is None and count > 1:
                context.result = ExecutionResult(data=None, errors=[GraphQLError(
                    f"This document has {count} operations: send `operationName` to say which one to run.",
                    extensions={"code": "GRAPHQL_VALIDATION_FAILED"})])
        yield


__all__ = ["SATURATED", "Shape", "ShapeAnalysis", "ShapeLimits", "SingleOperation", "Validation", "evaluate_once",
           "select_operation"]
