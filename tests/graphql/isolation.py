"""Two stores for the isolation test: B full of recognisable data, A with its own; leak and change checks."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from crm_graph.models import (
    ClvModel, ConnectorConfig, DailyConsentCount, DailyCustomerCount, DailyRfmCell, DailySpenderThresholds, DailyTagCount, Job,
    JobError, MarketingSpend, Segment, SegmentSnapshot, Store, SyncCursor, Tag, metadata,
)
from crm_graph.models.types import utcnow
from crm_graph.services.api_keys import create_api_key
from tests.factories import StoreBuilder, StoreFactory, utc

#: Store B's customer count: any count equal to it in store A's answers came from B.
B_CUSTOMERS = 41
#: Distinctive numbers stored in B's precomputed tables and segments (A's data never reaches them).
B_NUMBERS = {9741, 9743, 9747, 9751, 9753, 9757, 9761, 9767}
#: Money amounts of B's orders, refunds and spend: distinctive decimals.
B_MONEY = ["7311.17", "7313.19", "7317.23", "8123.45", "6991.07"]


@dataclass
class TwoStores:
    """Store A (the caller) and store B (the victim), with what identifies B's data."""

    a: Store
    b: Store
    a_key: str
    b_ids: dict[str, list[str]]
    a_ids: dict[str, list[str]]
    b_strings: list[str]
    b_counts: set[int]
    first_day: str
    last_day: str
    engine: Engine
    extra: dict[str, Any] = field(default_factory=dict)

    def fingerprint(self, store: Store | None = None) -> str:
        """A hash of every row of `store` (default B) in every table, and of its store row."""
        store_id = (store or self.b).id
        digest = hashlib.sha256()
        with self.engine.connect() as connection:
            for table in metadata.sorted_tables:
                # a key's last use moves with every request made with it, by design
                columns = [c for c in table.c if (table.name, c.name) != ("api_key", "last_used_at")]
                if table.name == "store":
                    query = select(*columns).where(table.c.id == store_id)
                elif "store_id" in table.c:
                    query = select(*columns).where(table.c.store_id == store_id)
                else:
                    continue
                keys = list(table.primary_key.columns) or list(table.c)
                for row in connection.execute(query.order_by(*keys)):
                    digest.update(f"{table.name}:{tuple(row)!r}\n".encode())
        return digest.hexdigest()


def build_two_stores(engine: Engine) -> TwoStores:
    """Create stores A and B; B has one of every kind of row, with recognisable values."""
    stores = StoreFactory(engine)
    a = stores(name="Store A", timezone="Europe/Warsaw", currency="PLN")
    b = stores(name="Bravo secret store", timezone="America/New_York", currency="USD")
    today = date.today()
    first_day, last_day = date(2024, 1, 1), today
    b_strings = ["Bravo secret store", b.slug, "cs_bravo_secret_value", "https://bravo-shop.example",
                 "bravo-secret-path.csv", "bravo secret record", "bravo secret reason", "bravo-secret-key"]
    b_ids: dict[str, list[str]] = {}
    with Session(engine, expire_on_commit=False) as session:
        builder = StoreBuilder(session, b)
        product = builder.product("Bravo secret product", sku="BRAVO-SKU")
        b_strings += ["Bravo secret product", "BRAVO-SKU"]
        customers = []
        for index in range(B_CUSTOMERS):
            email = f"bravo.{index}@bravo-secret.test"
            customer = builder.customer(
                email=email, first_name=f"Bravofirst{index}", last_name=f"Bravolast{index}",
                phone=f"+4860099{index:04d}", city="Bravocity", country="US",
                created_at=utc(2025, 1, 1) + timedelta(days=index * 7),
                last_activity_at=utc(2025, 1, 2) + timedelta(days=index * 9),
            )
            customers.append(customer)
            b_strings += [email, f"Bravofirst{index}", f"Bravolast{index}", f"+4860099{index:04d}"]
            builder.identity(customer, "woocommerce", f"bravo-ext-{index}")
            b_strings.append(f"bravo-ext-{index}")
        b_strings.append("Bravocity")
        orders = []
        for index, customer in enumerate(customers[:12]):
            at = utc(2025, 2, 1) + timedelta(days=index * 23)
            orders.append(builder.order(customer, B_MONEY[index % 3], at, lines=[(product, 1, B_MONEY[index % 3])],
                                        external_id=f"bravo-order-{index}"))
            b_strings.append(f"bravo-order-{index}")
            builder.consent(customer, "EMAIL", "SUBSCRIBED", at, reason="bravo consent reason")
            builder.activity(customer, "VISIT", at + timedelta(days=1))
        builder.order(customers[13], "6991.07", utc(2026, 1, 5), status="PAID", external_id="bravo-order-recent")
        builder.refund(orders[0], "8123.45", utc(2025, 3, 1))
        for index, customer in enumerate(customers[:9]):
            builder.tag(customer, f"bravo-secret-tag-{index % 3}", utc(2025, 4, 1))
        b_strings += [f"bravo-secret-tag-{index}" for index in range(3)] + ["bravo consent reason"]
        session.add(MarketingSpend(store_id=b.id, channel="bravo-ads", day=date(2025, 5, 1), amount=Decimal("8123.45")))
        b_strings.append("bravo-ads")
        segments = [Segment(store_id=b.id, name=f"Bravo secret segment {i}", description="bravo segment text",
                            filter={}, member_count=9741, last_computed_at=utcnow()) for i in range(2)]
        session.add_all(segments)
        session.flush()
        b_strings += ["Bravo secret segment", "bravo segment text"]
        session.add(SegmentSnapshot(store_id=b.id, segment_id=segments[0].id, day=date(2025, 6, 1), member_count=9743))
        tags = list(session.execute(select(Tag).where(Tag.store_id == b.id)).scalars())
        for offset in range(0, 400, 3):
            day = today - timedelta(days=offset)
            for channel in ("EMAIL", "SMS"):
                for bucket, count in (("SUBSCRIBED", 9751), ("UNSUBSCRIBED", 9753), ("UNKNOWN", 9757)):
                    session.add(DailyConsentCount(store_id=b.id, day=day, channel=channel, bucket=bucket,
                                                  customers=count))
            session.add(DailyCustomerCount(store_id=b.id, day=day, customers=9761, identified=9767, spenders=9747))
            session.add(DailyTagCount(store_id=b.id, day=day, tag_id=tags[0].id, customers=9747))
            session.add(DailySpenderThresholds(store_id=b.id, day=day, spenders=9747, value_low=Decimal("7313.19"),
                                               value_high=Decimal("7317.23"), frequent_threshold=9))
            for scheme in ("QUINTILE", "EDRONE"):
                session.add(DailyRfmCell(store_id=b.id, day=day, preset="LAST_12_MONTHS", scheme=scheme, r=1, fm=1,
                                         customers=9761, revenue=Decimal("7311.17")))
        jobs = [Job(store_id=b.id, kind=kind, status=status, params={"path": "bravo-secret-path.csv"},
                    counts={"created": 9741}, error="bravo secret reason")
                for kind, status in (("CSV_IMPORT", "SUCCEEDED"), ("EXPORT", "RUNNING"), ("SYNC", "QUEUED"),
                                     ("customers.export", "SUCCEEDED"))]
        jobs[-1].result = {"path": "bravo-secret-path.csv", "rows": 9741}  # a file to download
        session.add_all(jobs)
        session.flush()
        session.add(JobError(store_id=b.id, job_id=jobs[0].id, line=7, record="bravo secret record",
                             reason="bravo secret reason"))
        connector = ConnectorConfig(store_id=b.id, connector="woocommerce",
                                    config={"url": "https://bravo-shop.example", "consumer_key": "ck_bravo_key",
                                            "consumer_secret": "cs_bravo_secret_value"})
        session.add(connector)
        session.flush()
        b_strings.append("ck_bravo_key")
        session.add(SyncCursor(store_id=b.id, connector_id=connector.id, stream="orders", value="bravo-cursor"))
        b_strings.append("bravo-cursor")
        b_fit = ClvModel(store_id=b.id, status="NOT_ENOUGH_HISTORY", reason="bravo secret reason",
                         cutoff=date(2025, 6, 1), n_customers=9741)
        session.add(b_fit)
        session.flush()
        b_key, b_plain = create_api_key(session, b, "admin", "bravo-secret-key")
        b_strings += [b_plain, b_key.prefix]
        builder.commit()
        b_ids = {
            "customer": [str(c.id) for c in (customers[0], customers[13], customers[-1])],
            "segment": [str(s.id) for s in segments],
            "tag": [str(t.id) for t in tags],
            "job": [str(j.id) for j in jobs],
            "connector": [str(connector.id)],
            "order": [str(o.id) for o in orders[:3]],
            "product": [str(product.id)],
            "apikey": [str(b_key.id)],
            "clvmodel": [str(b_fit.id)],
        }
        b_ids = as_global_ids(b_ids)

        a_builder = StoreBuilder(session, a)
        a_customers = [a_builder.customer(email=f"alpha.{i}@alpha.test", first_name="Alpha")
                       for i in range(A_CUSTOMERS)]
        a_product = a_builder.product("Alpha product")
        a_order = a_builder.order(a_customers[0], "10.00", utc(2025, 6, 1), lines=[(a_product, 1, "10.00")])
        a_builder.consent(a_customers[0], "EMAIL", "SUBSCRIBED", utc(2025, 6, 1))
        a_builder.tag(a_customers[1], "alpha-tag", utc(2025, 6, 2))
        a_segment = Segment(store_id=a.id, name="Alpha segment", filter={})
        a_job = Job(store_id=a.id, kind="CSV_IMPORT", status="SUCCEEDED")
        a_export = Job(store_id=a.id, kind="customers.export", status="SUCCEEDED", result={"path": "alpha.csv"})
        a_connector = ConnectorConfig(store_id=a.id, connector="woocommerce", config={"url": "https://alpha.example"})
        session.add_all([a_segment, a_job, a_export, a_connector])
        session.flush()
        a_tag = session.execute(select(Tag).where(Tag.store_id == a.id)).scalars().first()
        a_fit = ClvModel(store_id=a.id, status="NOT_ENOUGH_HISTORY", reason="alpha reason", cutoff=date(2025, 6, 1))
        session.add(a_fit)
        session.flush()
        a_key, a_plain = create_api_key(session, a, "admin", "alpha key")
        a_builder.commit()
        a_ids = {"customer": [str(a_customers[0].id)], "segment": [str(a_segment.id)], "tag": [str(a_tag.id)],
                 "job": [str(a_job.id)], "connector": [str(a_connector.id)], "order": [str(a_order.id)],
                 "product": [str(a_product.id)], "apikey": [str(a_key.id)],
                 "clvmodel": [str(a_fit.id)]}
        a_ids = as_global_ids(a_ids)
    _precompute_if_available(engine, (a, b), first_day, last_day)
    return TwoStores(
        a=a, b=b, a_key=a_plain, b_ids=b_ids, a_ids=a_ids, b_strings=sorted(set(b_strings)) + B_MONEY,
        b_counts={B_CUSTOMERS, *B_NUMBERS}, first_day=first_day.isoformat(), last_day=last_day.isoformat(),
        engine=engine,
    )


#: The GraphQL `Node` type of each kind of id: the API names these objects by global ids only.
NODE_TYPES = {"customer": "Customer", "segment": "Segment", "job": "Job", "connector": "Connector", "order": "Order",
              "apikey": "ApiKey", "clvmodel": "ClvModel"}


def as_global_ids(ids: dict[str, list[str]]) -> dict[str, list[str]]:
    """Row ids per kind as the API spells them: global ids for Nodes, and `node` for every one of them."""
    from crm_graph.graphql.relay import global_id

    spelled = {kind: [global_id(NODE_TYPES[kind], int(value)) if kind in NODE_TYPES else value for value in values]
               for kind, values in ids.items()}
    spelled["import"], spelled["export"] = spelled["job"], spelled["job"]
    spelled["node"] = [value for kind in NODE_TYPES for value in spelled[kind]]
    return spelled


def _precompute_if_available(engine: Engine, stores: tuple[Store, ...], first_day: date, last_day: date) -> None:
    """Fill the daily rollups with the real precompute, where that code exists, for recent days."""
    try:
        from crm_graph.services.analytics.precompute import precompute_range
    except ImportError:
        return
    with Session(engine, expire_on_commit=False) as session:
        for store in stores:
            precompute_range(session, store, max(first_day, last_day - timedelta(days=3)), last_day)
        session.commit()


def find_leaks(body: dict, two: TwoStores, sent: dict) -> list[str]:
    """What of store B appears in store A's response `body` (to the request with variables `sent`)."""
    problems: list[str] = []
    sent_text = json.dumps(sent).lower()
    data_text = json.dumps(body.get("data")).lower()
    errors_text = json.dumps(body.get("errors") or []).lower()
    for marker in two.b_strings:
        lowered = marker.lower()
        if lowered in data_text:
            problems.append(f"B's value {marker!r} in data")
        elif lowered in errors_text and lowered not in sent_text:
            problems.append(f"B's value {marker!r} in an error message")
    _walk(body.get("data"), two, problems, path="data")
    return problems


_COUNT_WORDS = ("count", "total", "customers", "members", "size", "spenders", "identified", "number")
#: Store A's customers: no count of people in A's answers can be larger (a missing store filter
#: counts every store of the database, which is far more).
A_CUSTOMERS = 6
_PEOPLE_WORDS = ("customer", "member", "spender", "identified", "subscri", "count")
_NOT_PEOPLE_WORDS = ("day", "point", "bucket", "page", "week", "month", "year", "score", "cost")


def _walk(value: Any, two: TwoStores, problems: list[str], path: str) -> None:
    if isinstance(value, dict):
        kind = _kind_of_type(value.get("__typename"))
        if kind and str(value.get("id")) in two.b_ids.get(kind, []):
            problems.append(f"B's {kind} id {value.get('id')} at {path}")
        for key, item in value.items():
            if isinstance(item, str) and item.startswith("/exports/") and _link_store(item) != two.a.id:
                problems.append(f"a download link of store {_link_store(item)} at {path}.{key}")
            if isinstance(item, int) and not isinstance(item, bool):
                lowered = key.lower()
                if item in B_NUMBERS or (item == B_CUSTOMERS and any(w in lowered for w in _COUNT_WORDS)):
                    problems.append(f"B's number {item} at {path}.{key}")
                elif (item > A_CUSTOMERS and any(w in lowered for w in _PEOPLE_WORDS)
                      and not any(w in lowered for w in _NOT_PEOPLE_WORDS)):
                    problems.append(f"count {item} at {path}.{key} is more than store A has")
            _walk(item, two, problems, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, two, problems, f"{path}[{index}]")


def _link_store(url: str) -> int | None:
    """The store a download link (`/exports/<store>.<job>.<until>.<signature>`) was made for."""
    head = url.rsplit("/", 1)[-1].split(".", 1)[0]
    return int(head) if head.isdigit() else None


def _kind_of_type(typename: Any) -> str | None:
    if not isinstance(typename, str):
        return None
    lowered = typename.lower()
    for kind in ("apikey", "customer", "segment", "tag", "job", "connector", "order", "product", "clvmodel"):
        if lowered == kind or lowered == f"{kind}type":
            return kind
    return None
