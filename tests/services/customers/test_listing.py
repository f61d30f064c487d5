"""The customer list's keyset paging: forward and backward give the same rows in every sort.

Many rows share a sort value (ties broken by the id) and many have none (empty values last in both
directions), the cases where a keyset condition is easiest to get wrong.
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from sqlmodel import Session

from crm_graph.errors import UserError
from crm_graph.models import ClvModel, CustomerClv
from crm_graph.services.customers.listing import CustomerSort, SortDirection, customers_page
from crm_graph.services.filters import CustomerFilter
from tests.factories import StoreBuilder, utc


@pytest.fixture
def crowd(engine, store):
    rng = random.Random(7)
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        people = []
        for index in range(23):
            people.append(b.customer(
                email=f"p{index}@example.com", first_name=rng.choice(["Ann", "Bo", None]),
                last_name=rng.choice(["Lee", "Kim", "lee", None]), created_at=utc(2026, 1, rng.randint(1, 4)),
                last_order_at=rng.choice([None, utc(2026, 2, 1), utc(2026, 2, 2)]),
                total_spent=Decimal(rng.choice(["0.00", "10.00", "25.50"])),
            ))
        b.commit()
        model = ClvModel(store_id=store.id, status="READY", cutoff=utc(2026, 1, 1).date())
        session.add(model)
        session.flush()
        for person in people[::2]:
            session.add(CustomerClv(customer_id=person.id, store_id=store.id, model_id=model.id, frequency=1,
                                    recency_days=1, age_days=2, expected_orders=1.0,
                                    p_alive=rng.choice([0.1, 0.5, 0.9]),
                                    predicted_value=rng.choice([None, Decimal("5.00"), Decimal("50.00")])))
        session.commit()
    return store


def _walk(session, store, sort, direction, size, backward):
    pages, cursor = [], None
    for _ in range(100):
        page = customers_page(session, store, CustomerFilter(), sort=sort, direction=direction, size=size,
                              backward=backward, cursor=cursor)
        assert len(page.customers) == len(page.cursors) <= size
        pages.append([row.id for row in page.customers])
        more = page.has_previous_page if backward else page.has_next_page
        earlier = page.has_next_page if backward else page.has_previous_page
        assert earlier is (cursor is not None)
        if not more:
            return pages
        cursor = page.start_cursor if backward else page.end_cursor
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize("sort", list(CustomerSort))
@pytest.mark.parametrize("direction", list(SortDirection))
def test_backward_pages_are_the_forward_pages_read_from_the_end(engine, crowd, sort, direction):
    with Session(engine) as session:
        everything = [row.id for row in customers_page(session, crowd, CustomerFilter(), sort=sort, direction=direction,
                                                        size=100).customers]
        assert sorted(everything) == sorted(set(everything)) and len(everything) == 23
        for size in (1, 4, 23):
            forward = _walk(session, crowd, sort, direction, size, backward=False)
            backward = _walk(session, crowd, sort, direction, size, backward=True)
            assert sum(forward, []) == everything
            assert sum(reversed(backward), []) == everything
            assert all(len(page) == size for page in backward[:-1])  # full pages from the end
        # from any row's cursor, both ways: exactly the rows after it and before it
        cursors = customers_page(session, crowd, CustomerFilter(), sort=sort, direction=direction, size=100).cursors
        for index in (0, 5, 11, 22):
            after = customers_page(session, crowd, CustomerFilter(), sort=sort, direction=direction, size=100,
                                   cursor=cursors[index])
            before = customers_page(session, crowd, CustomerFilter(), sort=sort, direction=direction, size=100,
                                    backward=True, cursor=cursors[index])
            assert [row.id for row in after.customers] == everything[index + 1:]
            assert [row.id for row in before.customers] == everything[:index]
            assert after.cursors == cursors[index + 1:] and before.cursors == cursors[:index]


def test_a_cursor_names_its_argument_when_refused(engine, crowd):
    with Session(engine) as session:
        with pytest.raises(UserError, match="`before`"):
            customers_page(session, crowd, CustomerFilter(), backward=True, cursor="garbage")
        with pytest.raises(UserError, match="`last`"):
            customers_page(session, crowd, CustomerFilter(), size=0, backward=True)
