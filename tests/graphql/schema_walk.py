"""Builds a GraphQL request for any root field of the schema, from sample values per argument type.

The isolation and hostile-input tests use it to reach every field without naming them, so fields
added later are covered without editing the tests. A field whose arguments no rule can fill raises
`NoSampleRule`, which those tests turn into a failure: a new kind of id or a new scalar needs a rule
here, not a skip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_required_argument,
    is_required_input_field,
)

#: The kinds of object an ID argument can name, matched against argument, field and type names.
ID_KINDS = ("apikey", "customer", "segment", "tag", "job", "connector", "order", "product", "import", "export",
            "clvmodel", "node")
#: Kinds that are also recognised under another word.
ID_KIND_ALIASES = {"key": "apikey", "sync": "connector", "member": "customer", "consent": "customer"}


class NoSampleRule(Exception):
    """No rule gives a sample value for this argument: add one to `Samples` (this is a test failure)."""


@dataclass
class Samples:
    """Sample argument values: ids per kind, a date range, and per-name overrides.

    `value_for` is the hook the hostile-input test replaces to draw values from Hypothesis.
    """

    ids: dict[str, list[str]]
    first_day: str
    last_day: str
    search: str = "isolation"
    page_size: int = 20
    fill_optional_ids: bool = True
    value_for: Callable[[str, Any, str], Any] | None = None
    used_kinds: set[str] = field(default_factory=set)


def root_fields(schema: GraphQLSchema, operation: str) -> list[str]:
    """The names of the root `query` or `mutation` fields, in schema order (none without that root)."""
    root = schema.query_type if operation == "query" else schema.mutation_type
    return list(root.fields) if root is not None else []


def id_kind(*names: str) -> str:
    """The kind of object an ID names, from the most specific name (argument) to the least (type)."""
    for name in names:
        lowered = (name or "").lower()
        if lowered in ("id", "ids", ""):
            continue
        found = [(lowered.find(kind), kind) for kind in ID_KINDS if kind in lowered]
        found += [(lowered.find(alias), kind) for alias, kind in ID_KIND_ALIASES.items() if alias in lowered]
        if found:
            return min(found)[1]
    raise NoSampleRule(f"no rule for an ID named by {[n for n in names if n]}: add its kind to ID_KINDS")


@dataclass
class Request:
    """One GraphQL request: the document and its variables."""

    query: str
    variables: dict[str, Any]


class RequestBuilder:
    """Builds `Request`s for root fields: every leaf to `max_depth`, arguments from `Samples`."""

    def __init__(self, schema: GraphQLSchema, samples: Samples, *, max_depth: int = 3) -> None:
        self.schema, self.samples, self.max_depth = schema, samples, max_depth

    def build(self, operation: str, field_name: str, *, id_choice: int = 0,
              arguments: dict[str, Any] | None = None) -> Request:
        """The request for root field `field_name`; `id_choice` picks which sample id of each kind.

        `arguments`, when given, are the root field's argument values as they are (absent ones left out).
        """
        root = self.schema.query_type if operation == "query" else self.schema.mutation_type
        self._root_arguments = arguments
        self._variables: dict[str, Any] = {}
        self._definitions: list[str] = []
        self._id_choice = id_choice
        selection = self._field(root.fields[field_name], field_name, root.name, depth=0, root_field=field_name)
        header = f"{operation} Probe" + (f"({', '.join(self._definitions)})" if self._definitions else "")
        return Request(f"{header} {{ {selection} }}", dict(self._variables))

    # -- selections ---------------------------------------------------------------------------
    def _field(self, definition: GraphQLField, name: str, parent: str, *, depth: int, root_field: str) -> str:
        arguments = []
        if depth == 0 and self._root_arguments is not None:
            for arg_name, value in self._root_arguments.items():
                variable = f"v{len(self._definitions)}"
                self._definitions.append(f"${variable}: {definition.args[arg_name].type}")
                self._variables[variable] = value
                arguments.append(f"{arg_name}: ${variable}")
        for arg_name, arg in (definition.args.items() if depth or self._root_arguments is None else ()):
            required = is_required_argument(arg)
            if not required and not self._worth_filling(arg.type, arg_name):
                continue
            value = self._value(arg.type, arg_name, context=(arg_name, name, root_field, parent))
            if value is _SKIP:
                continue
            variable = f"v{len(self._definitions)}"
            self._definitions.append(f"${variable}: {arg.type}")
            self._variables[variable] = value
            arguments.append(f"{arg_name}: ${variable}")
        head = name + (f"({', '.join(arguments)})" if arguments else "")
        inner = self._selection(get_named_type(definition.type), depth + 1, root_field)
        return f"{head} {inner}" if inner else head

    def _selection(self, named: Any, depth: int, root_field: str) -> str | None:
        if isinstance(named, (GraphQLScalarType, GraphQLEnumType)):
            return None
        if isinstance(named, (GraphQLUnionType, GraphQLInterfaceType)):
            parts = ["__typename"]
            for possible in self.schema.get_possible_types(named):
                inner = self._selection(possible, depth, root_field)
                if inner:
                    parts.append(f"... on {possible.name} {inner}")
            return "{ " + " ".join(parts) + " }"
        parts = ["__typename"]
        for child_name, child in named.fields.items():
            child_type = get_named_type(child.type)
            leaf = isinstance(child_type, (GraphQLScalarType, GraphQLEnumType))
            if not leaf and depth >= self.max_depth:
                continue
            parts.append(self._field(child, child_name, named.name, depth=depth, root_field=root_field))
        return "{ " + " ".join(parts) + " }"

    # -- values -------------------------------------------------------------------------------
    def _worth_filling(self, type_: Any, name: str) -> bool:
        """Optional arguments worth filling: ids (they are the attack), ranges and inputs holding ids."""
        named = get_named_type(type_)
        lowered = name.lower()
        if named.name == "ID" or lowered.endswith(("id", "ids")):
            return self.samples.fill_optional_ids
        if "range" in lowered or "range" in named.name.lower() or named.name in ("Date", "DateTime"):
            return True
        if lowered in ("search", "query", "q", "email"):
            return True
        if isinstance(named, GraphQLInputObjectType):
            return self._holds_ids(named, set())
        return False

    def _holds_ids(self, named: GraphQLInputObjectType, seen: set[str]) -> bool:
        if named.name in seen:
            return False
        seen.add(named.name)
        for field_name, input_field in named.fields.items():
            inner = get_named_type(input_field.type)
            if inner.name == "ID" or field_name.lower().endswith(("id", "ids")):
                return True
            if isinstance(inner, GraphQLInputObjectType) and self._holds_ids(inner, seen):
                return True
        return False

    def _value(self, type_: Any, name: str, *, context: tuple[str, ...]) -> Any:
        if self.samples.value_for is not None:
            drawn = self.samples.value_for(name, type_, "/".join(context))
            if drawn is not _DEFAULT:
                return drawn
        if isinstance(type_, GraphQLNonNull):
            value = self._value(type_.of_type, name, context=context)
            if value is None or value is _SKIP:
                raise NoSampleRule(f"{'/'.join(context)}: no non-null sample for {name}")
            return value
        if isinstance(type_, GraphQLList):
            inner = get_named_type(type_)
            if inner.name == "ID":
                return self._ids(name, context, all_of_kind=True)
            value = self._value(type_.of_type, name, context=context)
            return [] if value in (None, _SKIP) else [value]
        if isinstance(type_, GraphQLEnumType):
            return next(iter(type_.values))
        if isinstance(type_, GraphQLInputObjectType):
            return self._input(type_, context)
        if isinstance(type_, GraphQLScalarType):
            return self._scalar(type_.name, name, context)
        raise NoSampleRule(f"{'/'.join(context)}: no rule for type {type_}")

    def _input(self, type_: GraphQLInputObjectType, context: tuple[str, ...]) -> dict[str, Any]:
        value: dict[str, Any] = {}
        for field_name, input_field in type_.fields.items():
            if not is_required_input_field(input_field) and not self._worth_filling(input_field.type, field_name):
                continue
            inner_context = (field_name, type_.name, *context)
            inner = self._value(input_field.type, field_name, context=inner_context)
            if inner is not _SKIP:
                value[field_name] = inner
        return value

    def _ids(self, name: str, context: tuple[str, ...], *, all_of_kind: bool = False) -> Any:
        kind = id_kind(name, *context)
        self.samples.used_kinds.add(kind)
        ids = self.samples.ids.get(kind)
        if not ids:
            raise NoSampleRule(f"{'/'.join(context)}: store B has no sample ids of kind {kind!r}")
        if all_of_kind:
            return list(ids)
        return ids[self._id_choice % len(ids)]

    def _scalar(self, scalar: str, name: str, context: tuple[str, ...]) -> Any:
        lowered = name.lower()
        if scalar == "ID":
            return self._ids(name, context)
        if scalar == "Int":
            if lowered in ("first", "last", "limit", "top", "size", "pagesize"):
                return self.samples.page_size
            return 1
        if scalar == "Float":
            return 1.0
        if scalar == "Boolean":
            return True
        if scalar == "String":
            if lowered in ("after", "before", "cursor"):
                return _SKIP
            if lowered in ("search", "query", "q", "text", "term"):
                return self.samples.search
            if "email" in lowered:
                return "isolation-probe@example.com"
            return "isolation-probe"
        if scalar == "Date":
            return self.samples.first_day if lowered in ("from", "since", "start", "firstday", "from_") \
                else self.samples.last_day
        if scalar == "DateTime":
            day = self.samples.first_day if lowered in ("from", "since", "start") else self.samples.last_day
            return f"{day}T00:00:00+00:00"
        if scalar == "Decimal":
            return "1"
        if scalar == "JSON":
            return {}
        raise NoSampleRule(f"{'/'.join(context)}: no sample rule for scalar {scalar}")


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: `value_for` returns `_DEFAULT` to fall back to the rules; any builder value may be `_SKIP` (leave out).
_DEFAULT = _Marker("DEFAULT")
_SKIP = _Marker("SKIP")
DEFAULT = _DEFAULT

__all__ = ["DEFAULT", "NoSampleRule", "Request", "RequestBuilder", "Samples", "id_kind", "root_fields"]
