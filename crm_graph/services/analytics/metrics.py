"""Every built-in analytics figure declared as a `Metric` (contract.py), and the stored forms they read.

`BUILTIN_METRICS` is what `crm_graph.default_hooks.register_metrics` returns. The SQL lives in the
domain modules (consent, customers, spenders, tags, rfm_grid, period, lifecycle.*); this module only
says, for each figure, which function computes it live, which stored rows it reads and how they are
brought forward, and what the precompute job writes.

The dashboard's widgets are views of five metrics, so that widgets of one request share one
computation (and one result-cache entry):

| widget | metric |
|---|---|
| A consent KPIs, B subscriptions over time, C subscription × gender | `consent_counts` |
| D identified, E spenders vs prospects | `customer_counts` |
| F activity | `activity` |
| G spender segments | `spender_segments` |
| H top tags | `top_tags` |
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from crm_graph.models import (
    DailyConsentCount,
    DailyConsentGenderCount,
    DailyCustomerCount,
    DailyRfmCell,
    DailySpenderThresholds,
    DailyTagCount,
    Store,
)
from crm_graph.models.enums import Channel, ConsentBucket, Gender
from crm_graph.services.analytics import consent, customers, period, rfm_grid, spenders, tags
from crm_graph.services.analytics.contract import DailyRows, Metric, PrecomputeDays, PresetGrids, StoredForm
from crm_graph.services.analytics.daily import settings_key
from crm_graph.services.dates import Granularity, ResolvedRange, day_end
from crm_graph.services.lifecycle import channels, cohorts, products, rhythm, stages

Rows = Iterable[tuple[type, dict[str, Any]]]


# --- What the precompute job writes ----------------------------------------------------------------


def _consent_rows(job: PrecomputeDays, day: date) -> Rows:
    """Customers per channel × bucket, and per channel × gender × bucket, at the end of `day`."""
    counts = job.shared("consent_counts", lambda: dict(zip(job.days, consent.consent_counts_at(
        job.session, job.store, [day_end(d, job.store.tz) for d in job.days], by_gender=True))))[day]
    store_id = job.store.id
    for channel in Channel:
        for bucket in ConsentBucket:
            per_gender = {g.value: counts[(channel.value, g.value, bucket.value)] for g in Gender}
            yield DailyConsentCount, dict(store_id=store_id, day=day, channel=channel.value, bucket=bucket.value,
                                          customers=sum(per_gender.values()))
            for gender, n in per_gender.items():
                yield DailyConsentGenderCount, dict(store_id=store_id, day=day, channel=channel.value,
                                                    gender=gender, bucket=bucket.value, customers=n)


def _customer_rows(job: PrecomputeDays, day: date) -> Rows:
    """Customers, identified, spenders and the activity buckets at the end of `day` (one row, which also
    marks the day as precomputed and says when)."""
    people = job.shared("customer_counts", lambda: dict(zip(job.days, customers.customer_counts_at(
        job.session, job.store, [day_end(d, job.store.tz) for d in job.days]))))[day]
    activity = job.running.activity(day, people.customers)
    yield DailyCustomerCount, dict(
        store_id=job.store.id, day=day, customers=people.customers, identified=people.identified,
        spenders=people.spenders, active=activity.active, low_risk=activity.low_risk,
        high_risk=activity.high_risk, settings_key=job.settings_key, computed_at=job.computed_at,
    )


def _spender_rows(job: PrecomputeDays, day: date) -> Rows:
    """The spender thresholds and segment sizes at the end of `day`."""
    segments = job.running.spender_segments(day)
    yield DailySpenderThresholds, dict(
        store_id=job.store.id, day=day, spenders=segments.spenders,
        value_low=segments.value_low or 0, value_high=segments.value_high or 0,
        frequent_threshold=segments.frequent_threshold, small=segments.small, medium=segments.medium,
        big=segments.big, one_time=segments.one_time, repeat=segments.repeat, frequent=segments.frequent,
        settings_key=job.settings_key,
    )


def _tag_rows(job: PrecomputeDays, day: date) -> Rows:
    """Customers per tag at the end of `day` (tags without customers left out)."""
    for tag in job.running.tag_counts(day):
        yield DailyTagCount, dict(store_id=job.store.id, day=day, tag_id=tag.tag_id, customers=tag.customers)


CONSENT_DAYS = DailyRows("consent", (DailyConsentCount, DailyConsentGenderCount), _consent_rows)
CUSTOMER_DAYS = DailyRows("customers", (DailyCustomerCount,), _customer_rows)
SPENDER_DAYS = DailyRows("spenders", (DailySpenderThresholds,), _spender_rows)
TAG_DAYS = DailyRows("tags", (DailyTagCount,), _tag_rows)
RFM_PRESET_GRIDS = PresetGrids("rfm", (DailyRfmCell,), rfm_grid.precompute_rfm_day)


# --- Adapters for services whose arguments are named otherwise -------------------------------------


def _period_kpis(session, store: Store, *, resolved: ResolvedRange, granularity: Granularity | str = Granularity.DAY,
                 with_series: bool = True) -> period.PeriodKpis:
    return period.period_kpis(session, store, resolved, granularity, with_series=with_series)


def _analytics_settings(store: Store) -> str:
    return settings_key(store.analytics_settings)


def _rfm_scheme(store: Store) -> str:
    return str(store.analytics_settings.rfm_scheme)


# --- The metrics -----------------------------------------------------------------------------------

BUILTIN_METRICS: tuple[Metric, ...] = (
    Metric(
        "consent_counts", ("days", "by_gender"), consent.live_consent_counts, optional=("by_gender",),
        stored=StoredForm(CONSENT_DAYS, consent.stored_consent_counts, consent.forward_consent_counts),
        cached=True, description="Customers per channel × (gender ×) consent bucket at the end of each day (A–C).",
    ),
    Metric(
        "customer_counts", ("days",), customers.live_customer_counts,
        stored=StoredForm(CUSTOMER_DAYS, customers.stored_customer_counts, customers.forward_customer_counts),
        cached=True, description="Customers, identified and spenders at the end of each day (D, E).",
    ),
    Metric(
        "activity", ("day",), customers.live_activity,
        stored=StoredForm(CUSTOMER_DAYS, customers.stored_activity), cached=True, depends_on=_analytics_settings,
        description="Active / low-risk / high-risk customers at the end of a day (F).",
    ),
    Metric(
        "spender_segments", ("day",), spenders.live_spender_segments,
        stored=StoredForm(SPENDER_DAYS, spenders.stored_spender_segments), cached=True,
        depends_on=_analytics_settings,
        description="Spender thresholds and segments by value and frequency at the end of a day (G).",
    ),
    Metric(
        "top_tags", ("today", "limit"), tags.live_top_tags, optional=("limit",),
        stored=StoredForm(TAG_DAYS, tags.stored_top_tags), cached=True,
        description="The tags on the most customers today (H).",
    ),
    Metric(
        "rfm_grid", ("resolved", "scheme", "customer_filter", "customer_ids"), rfm_grid.live_grid,
        optional=("scheme", "customer_filter", "customer_ids"),
        stored=StoredForm(RFM_PRESET_GRIDS, rfm_grid.stored_rfm_grid), depends_on=_rfm_scheme,
        description="The RFM grid of a range (I); preset ranges are stored per day.",
    ),
    Metric(
        "period_kpis", ("resolved", "granularity", "with_series"), _period_kpis,
        optional=("granularity", "with_series"),
        description="Putler's period KPIs with the previous period and their series (J).",
    ),
    Metric("lifecycle_stages", ("resolved", "granularity"), stages.stage_counts, optional=("granularity",),
           description="Buyers per lifecycle stage at the end of each period."),
    Metric("cohorts", ("resolved",), cohorts.cohort_matrix,
           description="Retention matrix of the monthly cohorts the range touches."),
    Metric("purchase_rhythm", ("resolved",), rhythm.purchase_rhythm,
           description="Days between orders and the lifetime of repeat buyers."),
    Metric("product_popularity", ("resolved", "sort", "limit"), products.product_popularity,
           optional=("sort", "limit"), description="The most popular products of a range."),
    Metric("product_pairs", ("resolved", "min_orders", "limit"), products.product_pairs,
           optional=("min_orders", "limit"), description="Products bought together in the orders of a range."),
    Metric("acquisition_channels", ("resolved",), channels.acquisition_channels,
           description="New customers, revenue, repeat rate, LTV, spend, CAC and ROI per acquisition channel."),
)
