"""The metric contract end to end: registration through the plugin hook, the runner, the PRECOMPUTE job.

A plugin registered through the real plugin manager adds a stored daily metric (its own table); the
runner answers it live, the real PRECOMPUTE job (`startPrecompute`, the in-process workers) writes
it, the runner then reads it, and a late change makes it live again until the next job. And every
stored metric registered (the built-in ones, plus any plugin's) is written by that job: afterwards
the runner answers each from stored rows, with the live value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import date, datetime

import pytest
from sqlalchemy import BigInteger, Date, Integer, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlmodel import Session

from crm_graph.hookspecs import hookimpl
from crm_graph.models import Customer, Order, Store
from crm_graph.models.enums import COUNTED_ORDER_STATUSES
from crm_graph.models.types import UTCDateTime, utcnow
from crm_graph.plugins import get_plugin_manager
from crm_graph.services.analytics import runner
from crm_graph.services.analytics.contract import DailyRows, Metric, StoredForm, StoredValue
from crm_graph.services.analytics.daily import fresh
from crm_graph.services.analytics.freshness import FreshnessSource
from crm_graph.services.analytics.precompute import stored_forms
from crm_graph.services.dates import DatePreset, day_end, day_start, resolve_range
from tests.factories import StoreBuilder, utc
from tests.graphql.test_fresh_figures import build, live_api, precompute  # noqa: F401  (live_api: a fixture)

DAYS = (date(2026, 3, 30), date(2026, 3, 31))


class _Base(DeclarativeBase):
    """The plugin's own tables (not the app's metadata: the migrations know nothing of them)."""


class PluginDailyOrders(_Base):
    """Counted orders placed on each local day, as a third-party plugin would store them."""

    __tablename__ = "plugin_daily_orders"
    store_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    orders: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


def _orders_on(session: Session, store: Store, day: date) -> int:
    return session.execute(select(func.count()).select_from(Order).where(
        Order.store_id == store.id, Order.status.in_(COUNTED_ORDER_STATUSES),
        Order.placed_at >= day_start(day, store.tz), Order.placed_at < day_end(day, store.tz))).scalar_one()


def live_orders(session: Session, store: Store, *, days: Sequence[date]) -> dict[date, int]:
    return {day: _orders_on(session, store, day) for day in days}


def stored_orders(session: Session, store: Store, *, days: Sequence[date]) -> StoredValue[dict[date, int]] | None:
    rows = session.execute(select(PluginDailyOrders.day, PluginDailyOrders.orders, PluginDailyOrders.computed_at)
                           .where(PluginDailyOrders.store_id == store.id, PluginDailyOrders.day.in_(days),
                                  fresh(PluginDailyOrders.day, store))).all()
    if len(rows) < len(set(days)):
        return None
    return StoredValue({day: orders for day, orders, _ in rows}, min(at for _, _, at in rows))


def _rows(job, day: date):
    yield PluginDailyOrders, dict(store_id=job.store.id, day=day, orders=_orders_on(job.session, job.store, day),
                                  computed_at=job.computed_at)


ORDERS_PER_DAY = Metric(
    "plugin_orders_per_day", ("days",), live_orders,
    stored=StoredForm(DailyRows("plugin_orders", (PluginDailyOrders,), _rows), stored_orders),
)


class OrdersPlugin:
    @hookimpl
    def register_metrics(self):
        return [ORDERS_PER_DAY]


@pytest.fixture
def orders_plugin(engine) -> Iterator[None]:
    """The plugin registered on the process's plugin manager (the workers' too), and its table."""
    PluginDailyOrders.__table__.create(engine, checkfirst=True)
    pm = get_plugin_manager()
    plugin = OrdersPlugin()
    pm.register(plugin, name="test-orders-plugin")
    try:
        yield
    finally:
        pm.unregister(plugin)
        PluginDailyOrders.__table__.drop(engine, checkfirst=True)


def _answer(engine, store: Store, name: str, **arguments):
    with Session(engine, expire_on_commit=False) as session:
        return runner.answer(session, store, name, **arguments)


def test_a_plugin_metric_is_answered_by_the_runner_and_written_by_the_precompute_job(
        orders_plugin, live_api, engine, make_store):
    store = make_store()
    with Session(engine, expire_on_commit=False) as session:
        ids = build(session, store)
    assert "plugin_orders_per_day" in runner.registered_metrics()
    assert any(form.name == "plugin_orders" for form in stored_forms())

    before = _answer(engine, store, "plugin_orders_per_day", days=DAYS)
    assert before.freshness.source is FreshnessSource.LIVE
    assert before.value == {date(2026, 3, 30): 0, date(2026, 3, 31): 0}

    key = live_api.key(store, "write")
    job = precompute(live_api, engine, key, "2026-03-30", "2026-03-31")
    assert job.counts["days"] == 2
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(PluginDailyOrders)
                               .where(PluginDailyOrders.store_id == store.id)).scalar_one() == 2
    stored = _answer(engine, store, "plugin_orders_per_day", days=DAYS)
    assert stored.freshness.source is FreshnessSource.STORED and stored.value == before.value

    # A late order on a stored day: the stored rows are unusable at once, the answer is live and right.
    with Session(engine, expire_on_commit=False) as session:
        StoreBuilder(session, store).order(session.get(Customer, ids["ann"]), "10.00", utc(2026, 3, 30, 12))
        session.commit()
    late = _answer(engine, store, "plugin_orders_per_day", days=DAYS)
    assert late.freshness.source is FreshnessSource.LIVE and late.value[date(2026, 3, 30)] == 1
    precompute(live_api, engine, key, "2026-03-31", "2026-03-31")  # recomputes every stale stored day
    again = _answer(engine, store, "plugin_orders_per_day", days=DAYS)
    assert again.freshness.source is FreshnessSource.STORED and again.value == late.value


def _sample_arguments(store: Store) -> dict[str, dict]:
    """Arguments each built-in stored metric is asked with after a job whose last day is 31 March."""
    return {
        "consent_counts": dict(days=DAYS, by_gender=True),
        "customer_counts": dict(days=DAYS),
        "activity": dict(day=DAYS[-1]),
        "spender_segments": dict(day=DAYS[-1]),
        "top_tags": dict(today=DAYS[-1]),
        "rfm_grid": dict(resolved=resolve_range(store, None, DatePreset.LAST_30_DAYS, today=DAYS[-1])),
        "plugin_orders_per_day": dict(days=DAYS),
    }


def _comparable(value):
    """A value without when it was computed (a stored RFM grid says when; a live one does not)."""
    if dataclasses.is_dataclass(value) and hasattr(value, "computed_at"):
        return dataclasses.replace(value, computed_at=None)
    return value


def test_every_registered_stored_metric_is_written_by_the_precompute_job(orders_plugin, live_api, engine,
                                                                         make_store):
    store = make_store()
    with Session(engine, expire_on_commit=False) as session:
        build(session, store)
    metrics = runner.registered_metrics()
    stored_metrics = sorted(name for name, metric in metrics.items() if metric.stored is not None)
    samples = _sample_arguments(store)
    assert set(stored_metrics) <= set(samples), "give the new stored metric sample arguments here"
    started = utcnow()
    precompute(live_api, engine, live_api.key(store, "write"), "2026-03-30", "2026-03-31")
    for name in stored_metrics:
        answer = _answer(engine, store, name, **samples[name])
        live = _answer(engine, store, name, live=True, **samples[name])
        assert answer.freshness.source is FreshnessSource.STORED, name
        assert answer.freshness.computed_at >= started, name
        assert live.freshness.source is FreshnessSource.LIVE, name
        assert _comparable(answer.value) == _comparable(live.value), name
    with Session(engine) as session:
        for form in stored_forms():
            for table in form.tables:
                rows = session.execute(select(func.count()).select_from(table)
                                       .where(table.store_id == store.id)).scalar_one()
                assert rows > 0, (form.name, table.__tablename__)


def test_a_metric_takes_only_its_declared_arguments(session, store):
    with pytest.raises(TypeError, match="activity"):
        runner.answer(session, store, "activity", days=DAYS)
    with pytest.raises(TypeError, match="missing"):
        runner.answer(session, store, "customer_counts")


def test_the_cache_key_follows_the_arguments_and_the_settings_a_metric_depends_on(store):
    key = runner.cache_key(store, "activity", day=DAYS[-1])
    assert key == runner.cache_key(store, "activity", day=DAYS[-1])
    assert key != runner.cache_key(store, "activity", day=DAYS[0])
    changed = Store(**{**store.model_dump(), "settings": {**(store.settings or {}), "active_days": 10}})
    assert key != runner.cache_key(changed, "activity", day=DAYS[-1])
    assert runner.cache_key(store, "top_tags", today=DAYS[-1]) == runner.cache_key(changed, "top_tags", today=DAYS[-1])
    assert runner.cache_key(store, "rfm_grid", resolved=None) is None  # answered anew every time
