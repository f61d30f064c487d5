"""Top tags (docs/metrics.md, widget H): the ten tags on the most customers today."""

from datetime import date

from crm_graph.services.analytics.precompute import precompute_day
from crm_graph.services.analytics.tags import tag_counts_at, top_tags
from tests.factories import StoreBuilder, utc

TODAY = date(2026, 4, 15)


def build(session, store):
    b = StoreBuilder(session, store)
    people = [b.customer(email=f"p{i}@example.com") for i in range(6)]
    gone = b.customer(email="gone@example.com", erased_at=utc(2026, 3, 1))
    for person in people[:3]:
        b.tag(person, "vip", utc(2026, 1, 1))
        b.tag(person, "newsletter", utc(2026, 2, 1))
    for person in people[3:6]:
        b.tag(person, "removed", utc(2026, 1, 1), removed_at=utc(2026, 3, 1))
    b.tag(people[0], "removed", utc(2026, 1, 1), removed_at=utc(2026, 5, 1))  # removal still to come
    b.tag(gone, "erased-only", utc(2026, 1, 1))
    b.tag(gone, "vip", utc(2026, 1, 1))
    b.tag(people[1], "twice", utc(2026, 1, 1))
    b.tag(people[1], "twice", utc(2026, 2, 1))
    b.tag(people[2], "future", utc(2026, 4, 20))
    for i in range(1, 9):
        b.tag(people[i % 6], f"a{i}", utc(2026, 1, 1))
    b.commit()


def test_top_ten_today(session, make_store):
    store = make_store()
    build(session, store)
    got = [(t.name, t.customers) for t in top_tags(session, store, today=TODAY)]
    # vip 3 (the erased customer is not counted), newsletter 3; then 1 customer each, by name:
    # a1..a8, removed (one application still on), twice (same customer twice). Not listed:
    # erased-only (0), future (applied after today). Ten at most: "removed" and "twice" fall off.
    assert got == [("newsletter", 3), ("vip", 3)] + [(f"a{i}", 1) for i in range(1, 9)]


def test_all_counts_and_an_earlier_day(session, make_store):
    store = make_store()
    build(session, store)
    assert {t.name: t.customers for t in tag_counts_at(session, store, date(2026, 2, 15))} == {
        "vip": 3, "newsletter": 3, "removed": 4, "twice": 1, **{f"a{i}": 1 for i in range(1, 9)}}


def test_empty_store(session, make_store):
    assert top_tags(session, make_store(), today=TODAY) == []


def test_precomputed_today_is_used(session, make_store):
    store = make_store()
    build(session, store)
    live = top_tags(session, store, today=TODAY)
    precompute_day(session, store, TODAY)
    session.commit()
    assert top_tags(session, store, today=TODAY) == live
    b = StoreBuilder(session, store)
    for i in range(4):
        b.tag(b.customer(), "late", utc(2026, 4, 14))
    b.commit()
    # dated inside the precomputed day: the stored rows are stale, the answer is live at once
    assert top_tags(session, store, today=TODAY) == tag_counts_at(session, store, TODAY, 10)
    assert top_tags(session, store, today=TODAY)[0].name == "late"
