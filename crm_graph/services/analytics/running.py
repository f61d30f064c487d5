"""Per-customer running state for precomputing many consecutive days (the catch-up of a store's history).

The live per-day statements (`activity_at`, `spender_segments_at`, `tag_counts_at`) each read the
store's whole history, so N days cost N full scans. `RunningState` instead keeps, in TEMP tables of
the session's connection, what those statements derive per customer as of the end of the last day
it was advanced to:

- `precompute_spend`: counted orders and net revenue of every customer that may be a spender;
- `precompute_activity`: the latest activity instant (events, orders placed, recorded last activity);
- `precompute_tag`: per (tag, customer), how many applications of the tag are on.

It starts from the live arithmetic as of the start of the first day (one scan each), and each day
then adds only that day's orders, refunds, activity and tag changes. The day's figures (percentiles,
buckets, counts) are computed from the tables in SQL, with the same expressions as the live
statements, so they are exactly the live values (tests compare the two).

What each delta is, for a day whose instants are [start, end):
- an order counts from its `placed_at`; a refund lowers net revenue from the later of its
  `refunded_at` and its order's `placed_at` (the live figures count a refund once both are before
  the instant);
- the latest activity only moves forward (everything already applied is before `start`);
- a tag application is on at instant T when `applied_at < T <= removed_at`: +1 from the day of
  `applied_at`, -1 from the day of `removed_at` (applications removed before they started never count).
Customers erased now are left out of every day, as in the live statements; a customer counts from
its `created_at` (kept in each table).

The tables live as long as the connection: the caller may commit between days (a long catch-up
commits a month at a time) as long as it keeps the same connection, and calls `close()` at the end.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Column, Index, Integer, MetaData, Table, bindparam, func, insert, literal, select, text
from sqlalchemy.engine import Result
from sqlmodel import Session

from crm_graph.models import Store
from crm_graph.models.types import BigId, Money, UTCDateTime
from crm_graph.services.analytics.sql import COUNTED_SQL, tune_for_analytics
from crm_graph.services.analytics.customers import ActivityBuckets
from crm_graph.services.analytics.spenders import SpenderSegments, segments_of, spend_as_of
from crm_graph.services.analytics.tags import TagCount
from crm_graph.services.dates import day_end, day_start

_metadata = MetaData()

_spend = Table(
    "precompute_spend", _metadata,
    Column("customer_id", BigId, primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("orders", Integer, nullable=False),
    Column("net", Money, nullable=False),
    prefixes=["TEMPORARY"],
)

_activity = Table(
    "precompute_activity", _metadata,
    Column("customer_id", BigId, primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_at", UTCDateTime, nullable=False),
    prefixes=["TEMPORARY"],
)

_tag = Table(
    "precompute_tag", _metadata,
    Column("tag_id", BigId, primary_key=True),
    Column("customer_id", BigId, primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("active", Integer, nullable=False),
    prefixes=["TEMPORARY"],
)

#: The tag changes of the whole span, read once (customer_tag has no index on its instants).
_tag_change = Table(
    "precompute_tag_change", _metadata,
    Column("at", UTCDateTime, nullable=False),
    Column("tag_id", BigId, nullable=False),
    Column("customer_id", BigId, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delta", Integer, nullable=False),
    Index("ix_precompute_tag_change_at", "at"),
    prefixes=["TEMPORARY"],
)

_TABLES = (_spend, _activity, _tag, _tag_change)


class RunningState:
    """The running per-customer state of one store on the session's connection (see the module doc)."""

    def __init__(self, session: Session, store: Store, first_day: date, last_day: date) -> None:
        """Create the tables as of the start of local `first_day`, ready to advance day by day to `last_day`."""
        self.session = session
        self.store = store
        self._next_day = first_day
        self._last_day = last_day
        self._start = day_start(first_day, store.tz)
        self._postgres = session.get_bind().dialect.name == "postgresql"
        self._drop()
        connection = session.connection()
        for table in _TABLES:
            table.create(connection)
        self._fill(first_day)

    def close(self) -> None:
        """Drop the tables (the connection may go back to a pool)."""
        self._drop()

    def _drop(self) -> None:
        connection = self.session.connection()
        for table in reversed(_TABLES):
            table.drop(connection, checkfirst=True)

    def _execute(self, sql: str, **instants: datetime) -> Result:
        """Run `sql` with `:store_id` and the named UTC instants bound."""
        binds = [bindparam(name, value, type_=UTCDateTime) for name, value in instants.items()]
        if ":store_id" in sql:
            binds.append(bindparam("store_id", self.store.id))
        self._tune()
        return self.session.execute(text(sql).bindparams(*binds))

    def _tune(self) -> None:
        """Memory for the sorts, and no JIT: compiling a day's statements costs more than it saves."""
        tune_for_analytics(self.session)

    def _fill(self, first_day: date) -> None:
        store, start = self.store, self._start
        self.session.execute(insert(_spend).from_select(
            ["customer_id", "created_at", "orders", "net"], spend_as_of(store, start)))

        low_from = day_start(first_day - timedelta(days=store.analytics_settings.low_risk_days), store.tz)
        self._advance_activity(low_from, start)

        self._execute(start=start, sql="""
        INSERT INTO precompute_tag (tag_id, customer_id, created_at, active)
        SELECT ct.tag_id, ct.customer_id, c.created_at, COUNT(*)
        FROM customer_tag ct JOIN customer c ON c.id = ct.customer_id
        WHERE ct.store_id = :store_id AND ct.applied_at < :start
          AND (ct.removed_at IS NULL OR ct.removed_at >= :start)
          AND c.store_id = :store_id AND c.erased_at IS NULL
        GROUP BY ct.tag_id, ct.customer_id, c.created_at
        """)
        self._execute(start=start, end=day_end(self._last_day, store.tz), sql="""
        INSERT INTO precompute_tag_change (at, tag_id, customer_id, created_at, delta)
        SELECT ct.applied_at, ct.tag_id, ct.customer_id, c.created_at, 1
        FROM customer_tag ct JOIN customer c ON c.id = ct.customer_id
        WHERE ct.store_id = :store_id AND ct.applied_at >= :start AND ct.applied_at < :end
          AND (ct.removed_at IS NULL OR ct.removed_at > ct.applied_at)
          AND c.store_id = :store_id AND c.erased_at IS NULL
        UNION ALL
        SELECT ct.removed_at, ct.tag_id, ct.customer_id, c.created_at, -1
        FROM customer_tag ct JOIN customer c ON c.id = ct.customer_id
        WHERE ct.store_id = :store_id AND ct.removed_at >= :start AND ct.removed_at < :end
          AND ct.removed_at > ct.applied_at
          AND c.store_id = :store_id AND c.erased_at IS NULL
        """)
        if self._postgres:  # temporary tables get no statistics by themselves
            for table in _TABLES:
                self.session.execute(text(f"ANALYZE {table.name}"))

    def advance(self, day: date) -> None:
        """Apply local `day`'s changes; days must come one after the other from `first_day`."""
        if day != self._next_day or day > self._last_day:
            raise ValueError(f"the running state is at {self._next_day}, not {day}")
        start, end = day_start(day, self.store.tz), day_end(day, self.store.tz)
        self._advance_spend(start, end)
        self._advance_activity(start, end)
        self._advance_tags(start, end)
        self._next_day = day + timedelta(days=1)

    def _advance_spend(self, start, end) -> None:
        self._execute(start=start, end=end, sql=f"""
        UPDATE precompute_spend SET orders = orders + d.dn, net = net + d.dnet
        FROM (
            SELECT e.customer_id, SUM(e.dn) AS dn, SUM(e.dnet) AS dnet FROM (
                SELECT o.customer_id, 1 AS dn, o.total AS dnet FROM orders o
                WHERE o.store_id = :store_id AND o.status IN ({COUNTED_SQL}) AND o.customer_id IS NOT NULL
                  AND o.placed_at >= :start AND o.placed_at < :end
                UNION ALL
                SELECT o.customer_id, 0, -r.amount FROM refund r JOIN orders o ON o.id = r.order_id
                WHERE r.store_id = :store_id AND r.refunded_at >= :start AND r.refunded_at < :end
                  AND o.store_id = :store_id AND o.status IN ({COUNTED_SQL}) AND o.customer_id IS NOT NULL
                  AND o.placed_at < :end
                UNION ALL
                SELECT o.customer_id, 0, -r.amount FROM orders o JOIN refund r ON r.order_id = o.id
                WHERE o.store_id = :store_id AND o.status IN ({COUNTED_SQL}) AND o.customer_id IS NOT NULL
                  AND o.placed_at >= :start AND o.placed_at < :end
                  AND r.store_id = :store_id AND r.refunded_at < :start
            ) e
            GROUP BY e.customer_id
        ) d
        WHERE precompute_spend.customer_id = d.customer_id
        """)

    def _advance_activity(self, start, end) -> None:
        # Everything applied so far is before `start`, so a customer's new latest instant replaces the old.
        # The customer row is looked up per active customer (a join would hash the whole table every day).
        self._execute(start=start, end=end, sql="""
        INSERT INTO precompute_activity (customer_id, created_at, last_at)
        SELECT customer_id, created_at, last_at FROM (
            SELECT e.customer_id, MAX(e.at) AS last_at,
                   (SELECT c.created_at FROM customer c
                    WHERE c.id = e.customer_id AND c.store_id = :store_id AND c.erased_at IS NULL) AS created_at
            FROM (
                SELECT customer_id, occurred_at AS at FROM activity_event
                WHERE store_id = :store_id AND occurred_at >= :start AND occurred_at < :end
                UNION ALL
                SELECT customer_id, placed_at FROM orders
                WHERE store_id = :store_id AND customer_id IS NOT NULL AND placed_at >= :start AND placed_at < :end
                UNION ALL
                SELECT id, last_activity_at FROM customer
                WHERE store_id = :store_id AND last_activity_at >= :start AND last_activity_at < :end
            ) e
            GROUP BY e.customer_id
        ) latest
        WHERE created_at IS NOT NULL
        ON CONFLICT (customer_id) DO UPDATE SET last_at = excluded.last_at
        """)

    def _advance_tags(self, start, end) -> None:
        self._execute(start=start, end=end, sql="""
        INSERT INTO precompute_tag (tag_id, customer_id, created_at, active)
        SELECT tag_id, customer_id, created_at, SUM(delta) FROM precompute_tag_change
        WHERE at >= :start AND at < :end
        GROUP BY tag_id, customer_id, created_at
        ON CONFLICT (tag_id, customer_id) DO UPDATE SET active = precompute_tag.active + excluded.active
        """)

    def activity(self, day: date, customers: int) -> ActivityBuckets:
        """Activity buckets at the end of `day` (the last day advanced), given its number of customers."""
        settings, tz = self.store.analytics_settings, self.store.tz
        active, recent = self._execute(
            end=day_end(day, tz),
            active_from=day_start(day - timedelta(days=settings.active_days), tz),
            low_from=day_start(day - timedelta(days=settings.low_risk_days), tz),
            sql="""
            SELECT COALESCE(SUM(CASE WHEN last_at >= :active_from THEN 1 ELSE 0 END), 0), COUNT(*)
            FROM precompute_activity WHERE last_at >= :low_from AND created_at < :end
            """,
        ).one()
        return ActivityBuckets(day=day, active=int(active), low_risk=int(recent) - int(active),
                               high_risk=customers - int(recent), active_days=settings.active_days,
                               low_risk_days=settings.low_risk_days)

    def spender_segments(self, day: date) -> SpenderSegments:
        """Spender thresholds and segment sizes at the end of `day` (the last day advanced)."""
        end = literal(day_end(day, self.store.tz), UTCDateTime)
        # Rounded like the live figures; PostgreSQL's numeric(18, 2) sums are exact already.
        net = _spend.c.net if self._postgres else func.round(_spend.c.net, 2)
        spend = (
            select(_spend.c.customer_id, _spend.c.orders, net.label("net"))
            .where(_spend.c.created_at < end, _spend.c.orders > 0)
            .cte("spend")
        )
        self._tune()
        return segments_of(self.session, self.store, day, spend)

    def tag_counts(self, day: date) -> list[TagCount]:
        """Customers per tag at the end of `day` (the last day advanced), tags without customers left out;
        names are not read (the daily table keeps ids)."""
        rows = self._execute(end=day_end(day, self.store.tz), sql="""
        SELECT tag_id, COUNT(*) FROM precompute_tag WHERE active > 0 AND created_at < :end GROUP BY tag_id
        """)
        return [TagCount(int(tag_id), "", int(n)) for tag_id, n in rows]
