"""Tagging and untagging customers in bulk (by ids or by filter), in set-based SQL.

A tag is created the first time it is used. Tagging a customer that already carries the tag, or
untagging one that does not, changes nothing. Untagging keeps the history: the row gets `removed_at`.
"""

from __future__ import annotations

from sqlalchemy import and_, exists, insert, literal, select, update
from sqlmodel import Session

from crm_graph.errors import UserError
from crm_graph.models import Customer, CustomerTag, Store, Tag
from crm_graph.models.types import utcnow
from crm_graph.services.customers.selection import Selection, selected_ids

#: The most tags one call may apply or remove.
MAX_TAGS = 50


def clean_tag_names(names: list[str]) -> list[str]:
    """Tag names trimmed and de-duplicated; a `UserError` for empty, too long or too many."""
    cleaned = list(dict.fromkeys(name.strip() for name in names))
    if not cleaned or any(not name for name in cleaned):
        raise UserError("`tags` must name at least one tag, and no name may be empty.")
    if len(cleaned) > MAX_TAGS:
        raise UserError(f"`tags` names {len(cleaned)} tags; at most {MAX_TAGS} per call.")
    if any(len(name) > 200 for name in cleaned):
        raise UserError("`tags`: a tag name is longer than 200 characters.")
    return cleaned


def tag_customers(session: Session, store: Store, selection: Selection, names: list[str], *, source: str = "api") -> int:
    """Put the tags `names` on the selected customers; returns how many tag applications were new."""
    names = clean_tag_names(names)
    ids = selected_ids(session, store, selection)
    now = utcnow()
    applied = 0
    for name in names:
        tag = session.exec(select(Tag).where(Tag.store_id == store.id, Tag.name == name)).scalars().first()
        if tag is None:
            tag = Tag(store_id=store.id, name=name, created_at=now)
            session.add(tag)
            session.flush()
        already = exists().where(
            CustomerTag.store_id == store.id, CustomerTag.customer_id == Customer.id,
            CustomerTag.tag_id == tag.id, CustomerTag.removed_at.is_(None),
        )
        rows = select(
            literal(store.id), Customer.id, literal(tag.id), literal(now, CustomerTag.__table__.c.applied_at.type),
            literal(source),
        ).where(Customer.store_id == store.id, Customer.id.in_(ids), ~already)
        result = session.execute(
            insert(CustomerTag).from_select(["store_id", "customer_id", "tag_id", "applied_at", "source"], rows),
            execution_options={"preserve_rowcount": True},
        )
        applied += result.rowcount or 0
    return applied


def untag_customers(session: Session, store: Store, selection: Selection, names: list[str]) -> int:
    """Take the tags `names` off the selected customers; returns how many tag applications ended."""
    names = clean_tag_names(names)
    ids = selected_ids(session, store, selection)
    tag_ids = select(Tag.id).where(Tag.store_id == store.id, Tag.name.in_(names))
    result = session.execute(
        update(CustomerTag)
        .where(and_(CustomerTag.store_id == store.id, CustomerTag.tag_id.in_(tag_ids),
                    CustomerTag.removed_at.is_(None), CustomerTag.customer_id.in_(ids)))
        .values(removed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
