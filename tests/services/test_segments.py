"""Segment counts: freshness fields on success and on failure."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from crm_graph.errors import UserError
from crm_graph.services.filters import CustomerFilter
from crm_graph.services.segments import create_segment, get_segment, refresh_segment_count
from tests.factories import StoreBuilder


def test_refresh_sets_count_and_time(engine, store):
    with Session(engine, expire_on_commit=False) as session:
        b = StoreBuilder(session, store)
        for country in ("PL", "PL", "DE"):
            b.customer(country=country)
        segment = create_segment(session, store, "PL", CustomerFilter(countries=["PL"]))
        session.commit()
        refreshed = refresh_segment_count(session, store, segment.id)
        assert (refreshed.member_count, refreshed.computing, refreshed.last_error) == (2, False, None)
        assert refreshed.last_computed_at is not None


def test_a_failed_refresh_keeps_the_old_count_and_says_why(engine, store):
    with Session(engine, expire_on_commit=False) as session:
        inner = create_segment(session, store, "inner", CustomerFilter(countries=["PL"]))
        outer = create_segment(session, store, "outer", CustomerFilter(segment_id=inner.id))
        session.commit()
        refresh_segment_count(session, store, outer.id)
        # the segment it refers to disappears behind its back (e.g. deleted by hand in the database)
        session.delete(get_segment(session, store, inner.id))
        session.commit()
        with pytest.raises(UserError):
            refresh_segment_count(session, store, outer.id)
        failed = get_segment(session, store, outer.id)
        assert failed.member_count == 0 and failed.computing is False and "no segment" in failed.last_error
