"""Global object identification and cursor connections, as the Relay specifications define them.

Every object a client may fetch again (a customer, an order, a segment, a job, an API key, a
connector) implements `Node`: its `id` is an opaque global id that names the type and the row, so
`node(id:)` can find it and client caches (Apollo, Relay, urql) can normalise on `id` alone. A
global id is base64url of `"Customer:123"`; clients must not build or parse them. Every `ID`
argument takes global ids and only those of the type it expects, so an id of another type, of
another store or of nothing at all is "not found", never a different object.

Lists that can grow without bound are connections: `edges { cursor node }`, `nodes`,
`pageInfo { hasNextPage hasPreviousPage startCursor endCursor }` and `totalCount`, paged forward
with `first`/`after` or backward with `last`/`before`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry

from crm_graph.graphql.context import Info
from crm_graph.graphql.cost import field_cost
from crm_graph.graphql.ids import parse_id
from crm_graph.graphql.mutation_errors import FieldNotFound

#: How many ids `nodes(ids:)` takes at once.
MAX_NODES = 100


@strawberry.interface(name="Node", description="An object with a global id: `node(id:)` fetches it again.")
class NodeType:
    id: strawberry.ID = strawberry.field(description="Opaque global id of the object (the same in every query).")


def global_id(type_name: str, row_id: int) -> strawberry.ID:
    """The global id of the row `row_id` of the GraphQL type `type_name`."""
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{row_id}".encode()).decode().rstrip("="))


def split_global_id(value: object) -> tuple[str, int] | None:
    """(type name, row id) of a global id; None when `value` is not one we issued."""
    text = str(value)
    if not 2 <= len(text) <= 120:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    type_name, _, number = raw.partition(":")
    row_id = parse_id(number)
    if not type_name.isidentifier() or row_id is None:
        return None
    return type_name, row_id


def node_row_id(value: object, type_name: str) -> int | None:
    """The row id in a global id of `type_name`; None when it is malformed or of another type."""
    parts = split_global_id(value)
    return parts[1] if parts is not None and parts[0] == type_name else None


def require_row_id(value: object, type_name: str, argument: str = "id") -> int:
    """The row id in the global id `value` of `type_name`, or a `NotFound` naming `argument`."""
    row_id = node_row_id(value, type_name)
    if row_id is None:
        raise FieldNotFound(f"`{argument}`: there is no {type_name.lower()} {str(value)[:60]!r} in this store.",
                            field=argument)
    return row_id


# --- node(id:) / nodes(ids:) -------------------------------------------------------------------

#: Loads the objects of one type by row id, for the request's store only: {row id: GraphQL object}.
NodeLoader = Callable[[Info, list[int]], Awaitable[dict[int, Any]]]
_LOADERS: dict[str, NodeLoader] = {}


def register_node(type_name: str, loader: NodeLoader) -> None:
    """Make `node(id:)` answer global ids of `type_name` with `loader` (each domain registers its types)."""
    _LOADERS[type_name] = loader


async def load_nodes(info: Info, ids: Sequence[object]) -> list[Any]:
    """The objects `ids` name, in order; None for an id that names nothing of this store."""
    info.context.require()
    wanted: dict[str, set[int]] = {}
    parts = [split_global_id(value) for value in ids]
    for part in parts:
        if part is not None and part[0] in _LOADERS:
            wanted.setdefault(part[0], set()).add(part[1])
    found = {name: await _LOADERS[name](info, sorted(row_ids)) for name, row_ids in wanted.items()}
    return [found.get(part[0], {}).get(part[1]) if part is not None else None for part in parts]


def _nodes_cost(args: dict[str, Any]) -> int:
    ids = args.get("ids")
    return len(ids) if isinstance(ids, list) else 1


@strawberry.type
class NodeQuery:
    @strawberry.field(description="The object with this global id in the store; null when there is none. Cost: 1.",
                      metadata=field_cost(1))
    async def node(self, info: Info,
                   id: Annotated[strawberry.ID, strawberry.argument(description="A global id.")]) -> NodeType | None:
        return (await load_nodes(info, [id]))[0]

    @strawberry.field(description=f"The objects with these global ids, in order (null for each that is not in the "
                      f"store); at most {MAX_NODES} ids. Cost: one per id.",
                      metadata=field_cost(_nodes_cost))
    async def nodes(self, info: Info,
                    ids: Annotated[list[strawberry.ID], strawberry.argument(description="Global ids.")]
                    ) -> list[NodeType | None]:
        if len(ids) > MAX_NODES:
            from crm_graph.graphql.errors import graphql_error

            raise graphql_error(f"`ids`: at most {MAX_NODES} ids at once.", "BAD_USER_INPUT")
        return await load_nodes(info, ids)


# --- connections -------------------------------------------------------------------------------

@strawberry.type(name="PageInfo", description="Where a page of a connection is in the whole list.")
class PageInfoType:
    has_next_page: bool = strawberry.field(description="Whether more objects follow `endCursor`.")
    has_previous_page: bool = strawberry.field(description="Whether objects come before `startCursor`.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first object of the page; pass as `before`.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last object of the page; pass as `after`.")


@dataclass(frozen=True)
class PageRequest:
    """Which page a client asked for: `size` objects after `after`, or before `before` when `backward`."""

    size: int
    backward: bool
    cursor: str | None


def page_request(first: int | None, after: str | None, last: int | None, before: str | None, *,
                 default: int, max_size: int) -> PageRequest:
    """The page the Relay arguments ask for; a `UserError` when they contradict or are out of range.

    Forward (`first`, `after`) and backward (`last`, `before`) paging are not mixed in one request:
    the cursors of one direction page that direction. With neither size, the page is the first
    `default` objects.
    """
    from crm_graph.errors import UserError

    if (first is not None or after is not None) and (last is not None or before is not None):
        raise UserError("Page forward (`first`, `after`) or backward (`last`, `before`), not both at once.")
    backward = last is not None or before is not None
    size = (last if backward else first)
    size = default if size is None else size
    name = "last" if backward else "first"
    if not 1 <= size <= max_size:
        raise UserError(f"`{name}` must be between 1 and {max_size}.")
    return PageRequest(size=size, backward=backward, cursor=before if backward else after)


__all__ = [
    "MAX_NODES", "NodeQuery", "NodeType", "PageInfoType", "PageRequest", "global_id", "load_nodes", "node_row_id",
    "page_request", "register_node", "require_row_id", "split_global_id",
]
