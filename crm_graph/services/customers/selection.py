"""Which customers a bulk change acts on: a bounded list of ids, or a filter.

- `ids`: at most `MAX_IDS`; every id must be a (not erased) customer of the store, else the whole
  change is refused with a `NotFound` listing the unknown ids, and nothing changes.
- `filter`: any `CustomerFilter`. An empty filter selects every customer, so it is refused unless
  the caller also says `all=True`; the GraphQL layer runs filter selections as background jobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select, select
from sqlmodel import Session

from crm_graph.errors import NotFound, UserError
from crm_graph.models import Customer, Store
from crm_graph.services.filters import CustomerFilter, filtered_customer_ids

#: The most ids one call may name; larger changes go by filter.
MAX_IDS = 1000


@dataclass(frozen=True)
class Selection:
    """The target of a bulk change: `ids`, or `filter` (an empty one only with `all=True`)."""

    ids: tuple[int, ...] | None = None
    filter: CustomerFilter | None = None
    all: bool = False
    notes: list[str] = field(default_factory=list, compare=False)

    @property
    def by_filter(self) -> bool:
        """True when the change selects by filter (and so runs as a background job)."""
        return self.ids is None

    def to_json(self) -> dict:
        """The selection as job parameters."""
        if self.ids is not None:
            return {"ids": list(self.ids)}
        return {"filter": (self.filter or CustomerFilter()).to_json(), "all": self.all}

    @classmethod
    def from_json(cls, data: dict) -> Selection:
        """The inverse of `to_json`."""
        if "ids" in data:
            return cls(ids=tuple(data["ids"]))
        return cls(filter=CustomerFilter.model_validate(data.get("filter") or {}), all=bool(data.get("all")))


def make_selection(ids: list[int] | None, filter: CustomerFilter | None, all: bool = False) -> Selection:
    """Check a selection as the client gave it; a `UserError` names the argument that is wrong."""
    if ids is not None and (filter is not None or all):
        raise UserError("Give either `ids` or `filter` (with `all`), not both.")
    if ids is not None:
        if not ids:
            raise UserError("`ids` is empty: name at least one customer.")
        if len(ids) > MAX_IDS:
            raise UserError(f"`ids` names {len(ids)} customers; at most {MAX_IDS} per call, use `filter` for more.")
        return Selection(ids=tuple(dict.fromkeys(ids)))
    filter = filter or CustomerFilter()
    if filter.is_empty() and not all:
        raise UserError("`filter` is empty and would select every customer; pass `all: true` if that is meant.")
    return Selection(filter=filter, all=all)


def selected_ids(session: Session, store: Store, selection: Selection) -> Select:
    """``SELECT customer.id`` of the selection; for ids, checks first that each one is the store's."""
    if selection.ids is not None:
        check_ids(session, store, selection.ids)
        return select(Customer.id).where(
            Customer.store_id == store.id, Customer.erased_at.is_(None), Customer.id.in_(selection.ids)
        )
    return filtered_customer_ids(store, selection.filter or CustomerFilter(), session=session)


class MissingCustomers(NotFound):
    """Some ids of a bulk change are not live customers of the store; `missing` lists them in order."""

    def __init__(self, message: str, missing: list[int]) -> None:
        super().__init__(message)
        self.missing = missing


def check_ids(session: Session, store: Store, ids: tuple[int, ...] | list[int]) -> None:
    """Raise `MissingCustomers` naming the ids that are not live customers of the store (other stores' too)."""
    found = set(
        session.exec(
            select(Customer.id).where(Customer.store_id == store.id, Customer.erased_at.is_(None), Customer.id.in_(ids))
        ).scalars()
    )
    missing = [customer_id for customer_id in ids if customer_id not in found]
    if missing:
        shown = ", ".join(str(customer_id) for customer_id in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise MissingCustomers(f"`ids`: the store has no customer {shown}{more}; nothing was changed.", missing)
