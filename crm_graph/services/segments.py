"""Saved segments (docs/customers.md, “Segments”): a named `CustomerFilter`, its live members, and its counts.

Membership is always live: the segment's filter compiled to SQL. `member_count` is a precomputed
count with its freshness (`last_computed_at`, `computing`, `last_error`), refreshed by a worker
(`refresh_segment_count`) and on demand; `snapshot_segments` stores each segment's count at the end
of a local day, which is the segment's count over time.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlmodel import Session

from crm_graph.errors import NotFound, UserError
from crm_graph.models import Customer, Segment, SegmentSnapshot, Store
from crm_graph.models.types import utcnow
from crm_graph.services.customers.errors import Conflict, FieldError
from crm_graph.services.filters import CustomerFilter, customer_conditions
from crm_graph.services.keyset import KeysetPage, Order, keyset_page, total_count

#: The most segments a store may have.
MAX_SEGMENTS = 1000


def list_segments(session: Session, store: Store) -> list[Segment]:
    """The store's segments by name."""
    return list(session.exec(select(Segment).where(Segment.store_id == store.id).order_by(Segment.name, Segment.id)).scalars())


#: The order of the segment list: by name (names are unique in a store), then id.
SEGMENT_ORDER = (Order(Segment.name, str), Order(Segment.id, int))


def segments_page(session: Session, store: Store, *, size: int, backward: bool = False,
                  cursor: str | None = None) -> KeysetPage[Segment]:
    """A page of the store's segments by name (see `crm_graph.services.keyset`)."""
    query = select(Segment).where(Segment.store_id == store.id)
    return keyset_page(session, query, "segments", SEGMENT_ORDER, lambda segment: (segment.name, segment.id),
                       size=size, backward=backward, cursor=cursor)


def segment_count(session: Session, store: Store) -> int:
    """How many segments the store has."""
    return total_count(session, select(Segment).where(Segment.store_id == store.id))


def get_segment(session: Session, store: Store, segment_id: int) -> Segment:
    """The store's segment `segment_id`, or `NotFound` (segments of other stores included)."""
    segment = session.exec(select(Segment).where(Segment.store_id == store.id, Segment.id == segment_id)).scalars().first()
    if segment is None:
        raise NotFound(f"`id`: the store has no segment {segment_id}.")
    return segment


def segments_by_id(session: Session, store: Store, segment_ids: list[int]) -> list[Segment | None]:
    """For each id, the store's segment or None (for a DataLoader)."""
    rows = session.exec(select(Segment).where(Segment.store_id == store.id, Segment.id.in_(segment_ids))).scalars()
    found = {row.id: row for row in rows}
    return [found.get(segment_id) for segment_id in segment_ids]


def segment_filter(segment: Segment) -> CustomerFilter:
    """The segment's saved filter."""
    return CustomerFilter.model_validate(segment.filter or {})


def create_segment(
    session: Session, store: Store, name: str, filter: CustomerFilter, description: str | None = None
) -> Segment:
    """Save `filter` as a segment named `name` (unique in the store)."""
    count = session.exec(select(func.count()).select_from(Segment).where(Segment.store_id == store.id)).scalar_one()
    if count >= MAX_SEGMENTS:
        raise UserError(f"The store already has {MAX_SEGMENTS} segments; delete some first.")
    segment = Segment(store_id=store.id, name=_name(name), description=_description(description), filter={})
    _set_filter(session, store, segment, filter)
    _check_unique_name(session, store, segment)
    session.add(segment)
    session.flush()
    return segment


def update_segment(
    session: Session, store: Store, segment_id: int, *, name: str | None = None,
    filter: CustomerFilter | None = None, description: str | None = None, clear_description: bool = False,
) -> Segment:
    """Rename, re-describe or re-filter a segment; a new filter makes its count stale (null)."""
    segment = get_segment(session, store, segment_id)
    if name is not None:
        segment.name = _name(name)
        _check_unique_name(session, store, segment)
    if description is not None or clear_description:
        segment.description = _description(description)
    if filter is not None:
        _set_filter(session, store, segment, filter)
        segment.member_count = None
        segment.last_computed_at = None
        segment.last_error = None
    segment.updated_at = utcnow()
    session.add(segment)
    session.flush()
    return segment


def delete_segment(session: Session, store: Store, segment_id: int) -> Segment:
    """Delete a segment and its snapshots; refused while another segment's filter refers to it."""
    segment = get_segment(session, store, segment_id)
    for other in list_segments(session, store):
        if other.id != segment.id and (other.filter or {}).get("segment_id") == segment.id:
            raise Conflict(f"`id`: segment {other.name!r} uses this segment in its filter; change it first.", field="id")
    session.execute(
        SegmentSnapshot.__table__.delete().where(
            SegmentSnapshot.store_id == store.id, SegmentSnapshot.segment_id == segment.id
        )
    )
    session.delete(segment)
    session.flush()
    return segment


def count_members(session: Session, store: Store, segment: Segment) -> int:
    """The live number of members of `segment`."""
    conditions = customer_conditions(store, segment_filter(segment), session=session)
    return session.exec(select(func.count()).select_from(Customer).where(*conditions)).scalar_one()


def refresh_segment_count(session: Session, store: Store, segment_id: int) -> Segment:
    """Recount a segment's members and store the count with its freshness fields.

    It commits twice: once to show `computing = true` while the count runs, once with the result.
    A failure is stored in `last_error` (the old count stays) and raised again.
    """
    segment = get_segment(session, store, segment_id)
    segment.computing = True
    session.add(segment)
    session.commit()
    try:
        count = count_members(session, store, segment)
    except Exception as exc:
        session.rollback()
        segment = get_segment(session, store, segment_id)
        segment.computing = False
        segment.last_error = str(exc)[:2000]
        session.add(segment)
        session.commit()
        raise
    segment.member_count = count
    segment.last_computed_at = utcnow()
    segment.computing = False
    segment.last_error = None
    session.add(segment)
    session.commit()
    return segment


def snapshot_segments(session: Session, store: Store, day: date) -> int:
    """Store every segment's current member count as its count at the end of `day`; returns how many.

    Run it once a day just after midnight of the store's timezone for the day that ended (running it
    again for the same day replaces that day's counts).
    """
    taken = 0
    for segment in list_segments(session, store):
        try:
            count = count_members(session, store, segment)
        except UserError as exc:
            segment.last_error = str(exc)[:2000]
            session.add(segment)
            continue
        existing = session.exec(
            select(SegmentSnapshot).where(
                SegmentSnapshot.store_id == store.id, SegmentSnapshot.segment_id == segment.id, SegmentSnapshot.day == day
            )
        ).scalars().first()
        if existing is None:
            session.add(SegmentSnapshot(store_id=store.id, segment_id=segment.id, day=day, member_count=count))
        else:
            existing.member_count = count
            session.add(existing)
        taken += 1
    session.flush()
    return taken


def segment_history(session: Session, store: Store, segment_id: int, first_day: date, last_day: date) -> list[SegmentSnapshot]:
    """The segment's daily snapshots from `first_day` to `last_day` (inclusive), oldest first."""
    if first_day > last_day:
        raise UserError("`from` must not be after `to`.")
    if (last_day - first_day).days > 3660:
        raise UserError("The range spans more than 10 years.")
    segment = get_segment(session, store, segment_id)
    return list(
        session.exec(
            select(SegmentSnapshot)
            .where(SegmentSnapshot.store_id == store.id, SegmentSnapshot.segment_id == segment.id,
                   SegmentSnapshot.day >= first_day, SegmentSnapshot.day <= last_day)
            .order_by(SegmentSnapshot.day)
        ).scalars()
    )


def _set_filter(session: Session, store: Store, segment: Segment, filter: CustomerFilter) -> None:
    if filter.segment_id is not None and filter.segment_id == segment.id:
        raise FieldError("filter.segmentId", "`filter.segmentId` cannot be the segment itself.")
    # Compiling checks that referred segments exist and that references do not loop too deep.
    customer_conditions(store, filter, session=session)
    if filter.segment_id is not None and segment.id is not None:
        _check_no_cycle(session, store, segment.id, filter.segment_id)
    segment.filter = filter.to_json()


def _check_no_cycle(session: Session, store: Store, segment_id: int, target: int) -> None:
    seen = set()
    while target is not None and target not in seen:
        if target == segment_id:
            raise FieldError("filter.segmentId", "`filter.segmentId` would make segments refer to each other in a loop.")
        seen.add(target)
        other = session.get(Segment, target)
        target = (other.filter or {}).get("segment_id") if other is not None else None


def _check_unique_name(session: Session, store: Store, segment: Segment) -> None:
    clash = session.exec(
        select(Segment.id).where(Segment.store_id == store.id, Segment.name == segment.name, Segment.id != segment.id)
        if segment.id is not None else select(Segment.id).where(Segment.store_id == store.id, Segment.name == segment.name)
    ).first()
    if clash is not None:
        raise Conflict(f"`name`: the store already has a segment named {segment.name!r}.", field="name")


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise FieldError("name", "`name` must be 1 to 200 characters.")
    return name


def _description(description: str | None) -> str | None:
    description = (description or "").strip() or None
    if description is not None and len(description) > 2000:
        raise FieldError("description", "`description` is longer than 2000 characters.")
    return description


__all__ = [
    "count_members", "create_segment", "delete_segment", "get_segment", "list_segments", "segment_count", "segments_page",
    "refresh_segment_count", "segment_filter", "segment_history", "segments_by_id", "snapshot_segments",
    "update_segment",
]
