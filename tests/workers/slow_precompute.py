"""Loaded next to `workers.actors` by the worker processes of the Redis tests (``dramatiq
workers.actors tests.workers.slow_precompute``): a precompute that writes one committed, idempotent
row per day and takes `CRM_GRAPH_TEST_DAY_SECONDS` per day, so that a test can kill its worker in
the middle. It stands in for the analytics precompute in tests of the job machinery only.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, time as clock, timedelta, timezone

from sqlalchemy import delete, func, insert, select

import workers.tasks
from crm_graph.models import Customer, DailyCustomerCount


def slow_precompute(engine, store_id, first_day, last_day, progress):
    """Per day: replace the store's DailyCustomerCount row with the customers created by its end."""
    pause = float(os.environ.get("CRM_GRAPH_TEST_DAY_SECONDS", "0.2"))
    days = (last_day - first_day).days + 1
    progress(0, days)
    for index in range(days):
        day = first_day + timedelta(days=index)
        end = datetime.combine(day + timedelta(days=1), clock(), tzinfo=timezone.utc)
        with engine.begin() as connection:
            customers = connection.execute(
                select(func.count()).select_from(Customer)
                .where(Customer.store_id == store_id, Customer.created_at < end)
            ).scalar_one()
            connection.execute(delete(DailyCustomerCount).where(
                DailyCustomerCount.store_id == store_id, DailyCustomerCount.day == day))
            connection.execute(insert(DailyCustomerCount).values(
                store_id=store_id, day=day, customers=customers, identified=customers, spenders=0,
                computed_at=datetime.now(timezone.utc)))
        progress(index + 1, days)
        time.sleep(pause)
    return {"counts": {"days": days}}


workers.tasks.precompute_for_job = slow_precompute
