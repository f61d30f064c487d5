"""The dashboard's short-lived result cache: reused within its seconds, per store, forgotten on a change."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import Session

from crm_graph.graphql.result_cache import ResultCache
from tests.factories import StoreBuilder, utc

COUNT = "{ dashboard(preset: LAST_30_DAYS) { spendersProspects { customers } } }"
CREATE = 'mutation { customerCreate(input: {email: "new@example.com"}) { __typename } }'


def customers(api, key) -> int:
    return api.data(COUNT, key=key)["dashboard"]["spendersProspects"]["customers"]


def test_a_change_made_elsewhere_shows_after_the_cache_seconds_one_made_here_at_once(api, store, engine):
    with Session(engine, expire_on_commit=False) as session:
        StoreBuilder(session, store).customer(email="anna@example.com", created_at=utc(2025, 1, 1))
        session.commit()
    key = api.key(store, "write")
    assert customers(api, key) == 1
    with Session(engine, expire_on_commit=False) as session:  # another process (a sync worker) adds one
        StoreBuilder(session, store).customer(email="bob@example.com", created_at=utc(2025, 1, 2))
        session.commit()
    assert customers(api, key) == 1  # within CRM_GRAPH_DASHBOARD_CACHE_SECONDS (5 s by default)
    assert "errors" not in api.post(CREATE, key=key)
    assert customers(api, key) == 3  # a change made through this process forgets the store's results


def test_results_are_kept_per_store(api, make_store, engine):
    first, second = make_store(), make_store()
    with Session(engine, expire_on_commit=False) as session:
        StoreBuilder(session, first).customer(email="anna@example.com", created_at=utc(2025, 1, 1))
        session.commit()
    assert customers(api, api.key(first, "read")) == 1
    assert customers(api, api.key(second, "read")) == 0


def test_concurrent_callers_share_one_computation_and_failures_are_not_kept():
    async def scenario():
        cache = ResultCache(seconds=60)
        calls = []

        async def compute():
            calls.append(1)
            await asyncio.sleep(0.01)
            return len(calls)

        assert await asyncio.gather(*(cache.get(1, "k", compute) for _ in range(5))) == [1] * 5
        assert await cache.get(2, "k", compute) == 2  # another store computes its own

        async def fail():
            raise RuntimeError("database unavailable")

        with pytest.raises(RuntimeError):
            await cache.get(1, "bad", fail)
        assert await cache.get(1, "bad", compute) == 3  # the failure was not kept
        cache.forget(1)
        assert await cache.get(1, "k", compute) == 4
        assert await cache.get(2, "k", compute) == 2

    asyncio.run(scenario())


def test_zero_seconds_keeps_nothing():
    async def scenario():
        cache, calls = ResultCache(seconds=0), []

        async def compute():
            calls.append(1)
            return len(calls)

        assert [await cache.get(1, "k", compute) for _ in range(3)] == [1, 2, 3]

    asyncio.run(scenario())
