"""Top tags (docs/metrics.md, widget H): the tags on the most customers today; the date range does not apply.

A tag is on a customer at instant T when one of its applications started before T and was not
removed before T. Customers are counted once per tag, erased customers never; ties are broken by
tag name. "Today" is the store's local today, counted as of its end (= now, unless rows are dated in
the future).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from crm_graph.models import Store
from crm_graph.models.types import utcnow
from crm_graph.services.analytics import daily, runner
from crm_graph.services.analytics.contract import StoredValue
from crm_graph.services.analytics.sql import SqlQuery
from crm_graph.services.dates import day_end, store_today

TOP_TAGS = 10


@dataclass(frozen=True)
class TagCount:
    """A tag and the number of customers carrying it."""

    tag_id: int
    name: str
    customers: int


def tag_counts_at(session: Session, store: Store, day: date, limit: int | None = None) -> list[TagCount]:
    """Live: customers per tag at the end of local `day`, most first (all tags with customers, or `limit`)."""
    q = SqlQuery(session, store.id)
    end = q.instant("end", day_end(day, store.tz))
    limit_sql = f"LIMIT {q.value('limit', limit)}" if limit is not None else ""
    sql = f"""
    SELECT t.id, t.name, COUNT(DISTINCT ct.customer_id) AS customers
    FROM customer_tag ct
    JOIN tag t ON t.id = ct.tag_id
    JOIN customer c ON c.id = ct.customer_id
    WHERE ct.store_id = :store_id AND ct.applied_at < {end}
      AND (ct.removed_at IS NULL OR ct.removed_at >= {end})
      AND c.store_id = :store_id AND c.erased_at IS NULL AND c.created_at < {end}
    GROUP BY t.id, t.name
    ORDER BY customers DESC, t.name, t.id
    {limit_sql}
    """
    return [TagCount(int(tag_id), name, int(n)) for tag_id, name, n in q.execute(sql)]


def top_tags(session: Session, store: Store, *, today: date | None = None, limit: int = TOP_TAGS) -> list[TagCount]:
    """The `limit` tags on the most customers today: the `top_tags` metric."""
    return runner.answer(session, store, "top_tags", today=today or store_today(store), limit=limit).value


def stored_top_tags(session: Session, store: Store, *, today: date,
                    limit: int = TOP_TAGS) -> StoredValue[list[TagCount]] | None:
    """The top tags of `today` from its daily rows, when stored and fresh."""
    rows = daily.top_tag_rows(session, store, today, limit)
    if rows is None:
        return None
    return StoredValue([TagCount(tag_id, name, customers) for tag_id, name, customers in rows],
                       daily.computed_at(session, store, [today]) or utcnow())


def live_top_tags(session: Session, store: Store, *, today: date, limit: int = TOP_TAGS) -> list[TagCount]:
    """The top tags at the end of `today`, computed live (`tag_counts_at`)."""
    return tag_counts_at(session, store, today, limit)
