"""The schedule: each store's daily precompute after its local midnight, periodic connector syncs,
the job reaper, the export clean-up and data retention (`crm-graph scheduler`, APScheduler).

Every minute the scheduler plans: for each store, whether the day before (in the store's timezone)
is due and which days are missing since the last precomputed one (the catch-up), and whether a
change has made stored days stale (`stale_recompute`: the job recomputes them); for each enabled
connector, whether its current sync slot has a job. Planned work becomes jobs with a key
(``precompute:<day>``, ``precompute:stale:<newest invalidation>``, ``sync:<connector>:<slot>``) that
is unique per store in the database, so two schedulers started by mistake, or an embedded scheduler
in each API process, create each job once: the second insert finds the first one's row and sends
nothing.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from crm_graph.db import session_scope
from crm_graph.models import AnalyticsInvalidation, ConnectorConfig, Customer, DailyCustomerCount, Store
from crm_graph.models.types import utcnow
from crm_graph.services.jobs import JobKind, active_job, start_keyed_job
from crm_graph.settings import Settings

log = logging.getLogger("crm_graph.scheduler")

#: The longest history a catch-up precomputes for a store seen for the first time.
MAX_CATCH_UP_DAYS = 730


def due_day(store: Store, now: datetime, delay_minutes: int) -> date:
    """The newest local day of `store` whose precompute is due at `now`: yesterday, once `delay_minutes`
    have passed since local midnight (late syncs bring the day's last orders); before that, the day before."""
    local = now.astimezone(store.tz) - timedelta(minutes=delay_minutes)
    return local.date() - timedelta(days=1)


def precompute_span(session: Session, store: Store, last_day: date) -> tuple[date, date] | None:
    """The days to precompute up to `last_day`: from the day after the newest precomputed day, or,
    for a store never precomputed, from its first customer's day (at most `MAX_CATCH_UP_DAYS` back)."""
    newest = session.exec(
        select(func.max(DailyCustomerCount.day)).where(DailyCustomerCount.store_id == store.id)
    ).one()
    if newest is not None:
        first_day = newest + timedelta(days=1)
    else:
        first_seen = session.exec(select(func.min(Customer.created_at)).where(Customer.store_id == store.id)).one()
        earliest = last_day - timedelta(days=MAX_CATCH_UP_DAYS - 1)
        if first_seen is None:
            first_day = last_day
        else:
            if first_seen.tzinfo is None:
                first_seen = first_seen.replace(tzinfo=timezone.utc)
            first_day = max(earliest, first_seen.astimezone(store.tz).date())
    return (first_day, last_day) if first_day <= last_day else None


def stale_recompute(session: Session, store: Store) -> tuple[tuple[date, date], int] | None:
    """The stored days to recompute because changes made them stale, and the newest pending
    invalidation's id (the job's key); None when no stored day is stale.

    Invalidations of days after the newest stored one wait for the daily precompute, which takes
    them. While a sync or CSV import of the store is queued or running, more changes are on their
    way: the recompute waits for it to end (answers are live meanwhile), so a first sync that runs
    for hours does not make the workers recompute the history after each of its batches.
    """
    from crm_graph.services.analytics.precompute import stored_span

    earliest, newest_id = session.exec(
        select(func.min(AnalyticsInvalidation.from_day), func.max(AnalyticsInvalidation.id))
        .where(AnalyticsInvalidation.store_id == store.id)
    ).one()
    if earliest is None:
        return None
    stored = stored_span(session, store)
    if stored is None or earliest > stored[1]:
        return None
    if any(active_job(session, store, kind) is not None for kind in (JobKind.SYNC, JobKind.CSV_IMPORT)):
        return None
    return (max(earliest, stored[0]), stored[1]), newest_id


def plan_precomputes(engine: Engine, settings: Settings, now: datetime | None = None) -> list[int]:
    """Create (and send) the due precompute jobs of every store; return the ids of new jobs."""
    now = now or utcnow()
    created: list[int] = []
    with session_scope(engine) as session:
        stores = list(session.exec(select(Store).order_by(Store.id)))
    for store in stores:
        with session_scope(engine) as session:
            last_day = due_day(store, now, settings.precompute_delay_minutes)
            if active_job(session, store, JobKind.PRECOMPUTE) is not None:
                continue
            span = precompute_span(session, store, last_day)
            job = None
            if span is not None:
                params = {"first_day": span[0].isoformat(), "last_day": span[1].isoformat(), "scheduled": True}
                job = start_keyed_job(session, store, JobKind.PRECOMPUTE, params,
                                      key=f"precompute:{last_day.isoformat()}")
            stale = stale_recompute(session, store) if job is None else None
            if stale is not None:
                (first_day, stale_last), newest_id = stale
                params = {"first_day": first_day.isoformat(), "last_day": stale_last.isoformat(), "scheduled": True}
                job = start_keyed_job(session, store, JobKind.PRECOMPUTE, params, key=f"precompute:stale:{newest_id}")
            if job is not None:
                created.append(job.id)
    return created


def plan_clv_fits(engine: Engine, settings: Settings, now: datetime | None = None) -> list[int]:
    """Create (and send) each store's daily CLV refit once its day is due; return the ids of new jobs.

    The fit reads orders up to the store's today; one a day keeps predictions fresh without
    competing with the precompute (both run on the precompute queue)."""
    now = now or utcnow()
    created: list[int] = []
    with session_scope(engine) as session:
        stores = list(session.exec(select(Store).order_by(Store.id)))
    for store in stores:
        with session_scope(engine) as session:
            day = due_day(store, now, settings.precompute_delay_minutes)
            if active_job(session, store, JobKind.CLV_FIT) is not None:
                continue
            job = start_keyed_job(session, store, JobKind.CLV_FIT, {"scheduled": True}, key=f"clv:{day.isoformat()}")
            if job is not None:
                created.append(job.id)
    return created


def sync_slot(now: datetime, interval_minutes: int) -> datetime:
    """The start of the sync slot `now` falls in; 30 s of tolerance absorbs clock skew between hosts."""
    seconds = interval_minutes * 60
    epoch = int((now + timedelta(seconds=30)).timestamp()) // seconds * seconds
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def plan_syncs(engine: Engine, settings: Settings, now: datetime | None = None) -> list[int]:
    """Create (and send) a sync job for each enabled connector whose current slot has none, unless a
    sync of that connector is still queued or running; return the ids of new jobs."""
    now = now or utcnow()
    slot = sync_slot(now, settings.sync_interval_minutes)
    created: list[int] = []
    with session_scope(engine) as session:
        configs = list(session.exec(
            select(ConnectorConfig.id, ConnectorConfig.store_id).where(ConnectorConfig.enabled.is_(True))
            .order_by(ConnectorConfig.id)
        ).all())
    for config_id, store_id in configs:
        with session_scope(engine) as session:
            store = session.get(Store, store_id)
            if store is None or active_job(session, store, JobKind.SYNC, connector_id=config_id) is not None:
                continue
            job = start_keyed_job(session, store, JobKind.SYNC, {"connector_id": config_id, "scheduled": True},
                                  key=f"sync:{config_id}:{slot:%Y%m%dT%H%M}")
            if job is not None:
                created.append(job.id)
    return created


def build_scheduler(settings: Settings, *, background: bool = False):
    """An APScheduler scheduler with crm-graph's periodic work (not started)."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    from crm_graph.db import get_engine
    from workers.maintenance import apply_retention, cleanup_exports, reap_and_resend

    engine = get_engine(settings.database_url)
    scheduler = (BackgroundScheduler if background else BlockingScheduler)(timezone="UTC")

    def plan() -> None:
        precomputes = plan_precomputes(engine, settings)
        fits = plan_clv_fits(engine, settings)
        syncs = plan_syncs(engine, settings)
        if precomputes or fits or syncs:
            log.info("scheduled %d precompute, %d CLV fit and %d sync jobs", len(precomputes), len(fits), len(syncs))

    options = dict(max_instances=1, coalesce=True, misfire_grace_time=120)
    scheduler.add_job(plan, "cron", second=5, id="plan", **options)
    scheduler.add_job(reap_and_resend, "cron", second=35, id="reap", **options)
    scheduler.add_job(cleanup_exports, "cron", minute=17, id="cleanup_exports", **options)
    scheduler.add_job(apply_retention, "cron", minute=47, id="apply_retention", **options)
    return scheduler
