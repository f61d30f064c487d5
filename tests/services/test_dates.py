"""Date ranges, presets, buckets and comparisons (docs/metrics.md, “Dates”), with DST days in Europe/Warsaw."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest

from crm_graph.errors import UserError
from crm_graph.services.dates import (
    MAX_POINTS,
    DatePreset,
    DateRange,
    Granularity,
    buckets,
    day_end,
    day_start,
    kpi_comparison_day,
    previous_period,
    resolve_range,
    store_today,
)


@dataclass
class FakeStore:
    timezone: str = "UTC"


WARSAW = FakeStore("Europe/Warsaw")
UTC = timezone.utc
# A Wednesday.
TODAY = date(2026, 3, 18)


def hours(r) -> float:
    return (r.end - r.start).total_seconds() / 3600


class TestDayBoundaries:
    def test_spring_forward_day_has_23_hours(self):
        r = resolve_range(WARSAW, DateRange(date(2026, 3, 29), date(2026, 3, 29)), today=TODAY)
        # CET (+01:00) midnight to CEST (+02:00) midnight.
        assert r.start == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
        assert r.end == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
        assert hours(r) == 23

    def test_fall_back_day_has_25_hours(self):
        r = resolve_range(WARSAW, DateRange(date(2026, 10, 25), date(2026, 10, 25)), today=TODAY)
        assert r.start == datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
        assert r.end == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)
        assert hours(r) == 25

    def test_ordinary_day_and_utc_store(self):
        r = resolve_range(FakeStore(), DateRange(date(2026, 3, 1), date(2026, 3, 31)), today=TODAY)
        assert r.start == datetime(2026, 3, 1, tzinfo=UTC)
        assert r.end == datetime(2026, 4, 1, tzinfo=UTC)
        assert r.days == 31

    def test_day_start_and_end_helpers(self):
        from zoneinfo import ZoneInfo

        tz = ZoneInfo("Europe/Warsaw")
        assert day_start(date(2026, 7, 1), tz) == datetime(2026, 6, 30, 22, tzinfo=UTC)
        assert day_end(date(2026, 7, 1), tz) == datetime(2026, 7, 1, 22, tzinfo=UTC)

    def test_store_today_is_local(self):
        # 23:30 UTC on 31 Dec is already 1 January in Warsaw (+01:00).
        now = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
        assert store_today(WARSAW, now) == date(2026, 1, 1)
        assert store_today(FakeStore(), now) == date(2025, 12, 31)


class TestPresets:
    @pytest.mark.parametrize(
        ("preset", "first", "last"),
        [
            (DatePreset.TODAY, date(2026, 3, 18), date(2026, 3, 18)),
            (DatePreset.YESTERDAY, date(2026, 3, 17), date(2026, 3, 17)),
            (DatePreset.LAST_7_DAYS, date(2026, 3, 12), date(2026, 3, 18)),
            # Wednesday 18 March: the last full week is Monday 9 – Sunday 15 March.
            (DatePreset.PREVIOUS_WEEK, date(2026, 3, 9), date(2026, 3, 15)),
            # 30 days ending today: 17 Feb .. 18 Mar (February 2026 has 28 days: 12 + 18 = 30).
            (DatePreset.LAST_30_DAYS, date(2026, 2, 17), date(2026, 3, 18)),
            (DatePreset.LAST_MONTH, date(2026, 2, 1), date(2026, 2, 28)),
            # 90 days: 18 Dec .. 18 Mar = 14 (Dec) + 31 + 28 + 18 = 91 -> from 19 Dec.
            (DatePreset.LAST_90_DAYS, date(2025, 12, 19), date(2026, 3, 18)),
            (DatePreset.LAST_365_DAYS, date(2025, 3, 19), date(2026, 3, 18)),
            (DatePreset.YEAR_TO_DATE, date(2026, 1, 1), date(2026, 3, 18)),
        ],
    )
    def test_preset_days(self, preset, first, last):
        r = resolve_range(WARSAW, None, preset, today=TODAY)
        assert (r.first_day, r.last_day) == (first, last)
        assert r.preset is preset

    def test_last_n_days_have_n_days(self):
        for preset, n in [("LAST_7_DAYS", 7), ("LAST_30_DAYS", 30), ("LAST_90_DAYS", 90), ("LAST_365_DAYS", 365)]:
            assert resolve_range(WARSAW, None, preset, today=TODAY).days == n

    def test_default_is_last_30_days(self):
        r = resolve_range(WARSAW, today=TODAY)
        assert r.preset is DatePreset.LAST_30_DAYS
        assert (r.first_day, r.last_day) == (date(2026, 2, 17), date(2026, 3, 18))

    def test_previous_week_on_a_sunday_and_a_monday(self):
        sunday, monday = date(2026, 3, 22), date(2026, 3, 23)
        # On Sunday the current week is not over yet: the previous full week is 9–15 March.
        assert resolve_range(WARSAW, None, "PREVIOUS_WEEK", today=sunday).first_day == date(2026, 3, 9)
        r = resolve_range(WARSAW, None, "PREVIOUS_WEEK", today=monday)
        assert (r.first_day, r.last_day) == (date(2026, 3, 16), date(2026, 3, 22))

    def test_last_month_in_january(self):
        r = resolve_range(WARSAW, None, "LAST_MONTH", today=date(2026, 1, 5))
        assert (r.first_day, r.last_day) == (date(2025, 12, 1), date(2025, 12, 31))

    def test_preset_uses_the_store_today_by_default(self):
        r = resolve_range(WARSAW, None, "TODAY")
        assert r.first_day == store_today(WARSAW)


class TestErrors:
    def test_range_and_preset_together(self):
        with pytest.raises(UserError, match="`range` or `preset`"):
            resolve_range(WARSAW, DateRange(date(2026, 1, 1), date(2026, 1, 2)), "TODAY", today=TODAY)

    def test_from_after_to(self):
        with pytest.raises(UserError, match=r"`range.from` 2026-03-10 is after `range.to` 2026-03-01"):
            resolve_range(WARSAW, DateRange(date(2026, 3, 10), date(2026, 3, 1)), today=TODAY)

    def test_unknown_preset(self):
        with pytest.raises(UserError, match="`preset` 'LAST_3_WEEKS' is not a known preset"):
            resolve_range(WARSAW, None, "LAST_3_WEEKS", today=TODAY)

    def test_span_over_ten_years(self):
        # Exactly ten years (2016-01-01 .. 2025-12-31) is allowed; one day more is not.
        assert resolve_range(WARSAW, DateRange(date(2016, 1, 1), date(2025, 12, 31)), today=TODAY).days == 3653
        with pytest.raises(UserError, match="spans more than 10 years"):
            resolve_range(WARSAW, DateRange(date(2016, 1, 1), date(2026, 1, 1)), today=TODAY)
        with pytest.raises(UserError, match="`range`"):
            resolve_range(WARSAW, DateRange(date(1976, 1, 1), date(2026, 1, 1)), today=TODAY)

    def test_dates_outside_the_supported_years(self):
        with pytest.raises(UserError, match=r"`range.to` 9999-12-31 is outside"):
            resolve_range(WARSAW, DateRange(date(2026, 1, 1), date(9999, 12, 31)), today=TODAY)
        with pytest.raises(UserError, match=r"`range.from` 0001-01-01 is outside"):
            resolve_range(WARSAW, DateRange(date(1, 1, 1), date(2026, 1, 1)), today=TODAY)

    def test_too_many_points_names_the_limit(self):
        r = resolve_range(WARSAW, DateRange(date(2016, 1, 1), date(2025, 12, 31)), today=TODAY)
        with pytest.raises(UserError, match=rf"`granularity` DAY over 3653 days gives 3653 points, more than the limit of {MAX_POINTS}"):
            buckets(r, Granularity.DAY)
        # Fri 2016-01-01 is in ISO week 2015-W53 (Monday 2015-12-28); Wed 2025-12-31 in 2026-W01 (Monday
        # 2025-12-29): 3654 days between the Mondays = 522 weeks, plus the first one.
        assert len(buckets(r, Granularity.WEEK)) == 523
        assert len(buckets(r, Granularity.MONTH)) == 120
        assert len(buckets(r, Granularity.YEAR)) == 10

    def test_unknown_granularity(self):
        r = resolve_range(WARSAW, today=TODAY)
        with pytest.raises(UserError, match="`granularity` 'HOUR'"):
            buckets(r, "HOUR")


class TestBuckets:
    def test_day_buckets_across_spring_forward(self):
        r = resolve_range(WARSAW, DateRange(date(2026, 3, 28), date(2026, 3, 30)), today=TODAY)
        got = buckets(r, Granularity.DAY)
        assert [b.label for b in got] == ["2026-03-28", "2026-03-29", "2026-03-30"]
        assert [(b.end - b.start) / timedelta(hours=1) for b in got] == [24, 23, 24]
        assert got[0].start == r.start and got[-1].end == r.end
        assert got[1].end == datetime(2026, 3, 29, 22, tzinfo=UTC)

    def test_week_buckets_are_iso_weeks_clipped_to_the_range(self):
        # Wednesday 4 March .. Tuesday 17 March 2026.
        r = resolve_range(WARSAW, DateRange(date(2026, 3, 4), date(2026, 3, 17)), today=TODAY)
        got = buckets(r, "WEEK")
        assert [(b.label, b.first_day, b.last_day) for b in got] == [
            ("2026-W10", date(2026, 3, 4), date(2026, 3, 8)),
            ("2026-W11", date(2026, 3, 9), date(2026, 3, 15)),
            ("2026-W12", date(2026, 3, 16), date(2026, 3, 17)),
        ]
        assert got[0].end == datetime(2026, 3, 8, 23, tzinfo=UTC)

    def test_iso_week_label_at_year_turn(self):
        # 1 January 2027 is a Friday in ISO week 2026-W53.
        r = resolve_range(FakeStore(), DateRange(date(2026, 12, 30), date(2027, 1, 4)), today=TODAY)
        assert [b.label for b in buckets(r, "WEEK")] == ["2026-W53", "2027-W01"]

    def test_month_buckets_across_fall_back(self):
        r = resolve_range(WARSAW, DateRange(date(2026, 9, 15), date(2026, 11, 2)), today=TODAY)
        got = buckets(r, Granularity.MONTH)
        assert [(b.label, b.first_day, b.last_day) for b in got] == [
            ("2026-09", date(2026, 9, 15), date(2026, 9, 30)),
            ("2026-10", date(2026, 10, 1), date(2026, 10, 31)),
            ("2026-11", date(2026, 11, 1), date(2026, 11, 2)),
        ]
        # October 2026 in Warsaw: 31 days, one of them 25 hours long.
        assert (got[1].end - got[1].start) == timedelta(days=31, hours=1)
        assert got[1].end == datetime(2026, 10, 31, 23, tzinfo=UTC)

    def test_year_buckets(self):
        r = resolve_range(FakeStore(), DateRange(date(2024, 6, 1), date(2026, 2, 1)), today=TODAY)
        assert [(b.label, b.first_day, b.last_day) for b in buckets(r, "YEAR")] == [
            ("2024", date(2024, 6, 1), date(2024, 12, 31)),
            ("2025", date(2025, 1, 1), date(2025, 12, 31)),
            ("2026", date(2026, 1, 1), date(2026, 2, 1)),
        ]

    def test_exactly_the_limit_is_allowed(self):
        r = resolve_range(FakeStore(), DateRange(date(2026, 1, 1), date(2026, 1, 1) + timedelta(days=MAX_POINTS - 1)), today=TODAY)
        assert len(buckets(r, "DAY")) == MAX_POINTS


class TestComparisons:
    def test_previous_period_has_the_same_length_immediately_before(self):
        r = resolve_range(WARSAW, DateRange(date(2026, 3, 1), date(2026, 3, 31)), today=TODAY)
        p = previous_period(r)
        assert (p.first_day, p.last_day) == (date(2026, 1, 29), date(2026, 2, 28))
        assert p.days == 31
        assert p.end == r.start

    def test_kpi_comparison_is_30_days_before_the_end(self):
        r = resolve_range(WARSAW, DateRange(date(2026, 3, 1), date(2026, 3, 31)), today=TODAY)
        assert kpi_comparison_day(r) == date(2026, 3, 1)
        assert r.day_end(kpi_comparison_day(r)) == datetime(2026, 3, 1, 23, tzinfo=UTC)
