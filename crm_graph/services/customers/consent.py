"""Setting marketing consent through the API: one customer, a list of ids, or a filter.

Each change is a new consent event (the history is append-only) with source `api`, the reason the
caller gave and the actor (who did it, e.g. `api-key:12`). A customer whose current state on the
channel already is the new state gets no event: nothing changed for it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, literal, select
from sqlmodel import Session

from crm_graph.errors import UserError
from crm_graph.models import ConsentEvent, Customer, Store
from crm_graph.models.enums import Channel, ConsentState, OptInLevel
from crm_graph.models.types import utcnow
from crm_graph.services.customers.selection import Selection, selected_ids
from crm_graph.services.filters import current_consent_state

SOURCE = "api"


def set_consent(
    session: Session,
    store: Store,
    selection: Selection,
    channel: Channel,
    state: ConsentState,
    *,
    opt_in_level: OptInLevel = OptInLevel.UNKNOWN,
    reason: str | None = None,
    actor: str | None = None,
    at: datetime | None = None,
) -> int:
    """Record `state` on `channel` for the selected customers; returns how many changed."""
    if state is ConsentState.REDACTED:
        raise UserError("`state` REDACTED is set by erasure, not by hand.")
    if reason is not None and len(reason) > 500:
        raise UserError("`reason` is longer than 500 characters.")
    now = utcnow()
    at = at or now
    if at.tzinfo is None or at > now:
        raise UserError("`occurredAt` must be a timezone-aware instant that is not in the future.")
    ids = selected_ids(session, store, selection)
    current = func.coalesce(current_consent_state(channel), "NONE")
    rows = select(
        literal(store.id), Customer.id, literal(channel.value), literal(state.value), literal(opt_in_level.value),
        literal(at, ConsentEvent.__table__.c.occurred_at.type), literal(SOURCE), literal(reason),
        literal(actor), literal(now, ConsentEvent.__table__.c.created_at.type),
    ).where(Customer.store_id == store.id, Customer.id.in_(ids), current != state.value)
    columns = ["store_id", "customer_id", "channel", "state", "opt_in_level", "occurred_at", "source", "reason",
               "actor", "created_at"]
    result = session.execute(insert(ConsentEvent).from_select(columns, rows), execution_options={"preserve_rowcount": True})
    return result.rowcount or 0
