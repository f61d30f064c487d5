"""Time in the generated store: the two-year window, its seasonality, and drawing instants from it.

Every instant is an int64 of seconds since the Unix epoch (UTC). The window is the `DAYS` local days
of the store's timezone before the anchor day. Day weights combine growth (the shop's traffic
grows by 60% over two years), a weekly rhythm, a winter peak and the Black Friday week; hours follow an
online-shopping profile in local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

DAYS = 730
MINUTE, HOUR, DAY = 60, 3600, 86400

#: Relative traffic per local hour (0..23): quiet nights, a lunch bump and an evening peak.
_HOURLY = np.array([1.2, 0.7, 0.4, 0.3, 0.3, 0.5, 1.0, 2.0, 3.2, 4.0, 4.4, 4.6, 5.0, 4.8, 4.5, 4.5, 4.7,
                    5.1, 5.7, 6.4, 6.9, 6.5, 4.9, 2.7])
_HOUR_CDF = np.cumsum(_HOURLY) / _HOURLY.sum()
#: Monday .. Sunday.
_WEEKDAY = np.array([1.06, 1.02, 1.0, 0.98, 0.93, 0.84, 1.08])


@dataclass(frozen=True)
class Window:
    """The local days of the generated data and how busy each one is."""

    first_day: date
    #: UTC instant of each local midnight, `DAYS + 1` of them (the last is the anchor's midnight).
    midnights: np.ndarray
    #: Cumulative share of activity at each midnight: 0 at the first, 1 at the end.
    cumulative: np.ndarray
    #: Relative weight of each day (mean 1).
    weights: np.ndarray

    @property
    def start(self) -> int:
        """The first instant of the window."""
        return int(self.midnights[0])

    @property
    def end(self) -> int:
        """The instant the window ends (exclusive): the anchor day's local midnight."""
        return int(self.midnights[-1])

    def day_of(self, instants: np.ndarray) -> np.ndarray:
        """The window's day index (0-based) of each instant."""
        return np.clip(np.searchsorted(self.midnights, instants, side="right") - 1, 0, DAYS - 1)

    def share_before(self, instants: np.ndarray) -> np.ndarray:
        """The share of the window's activity that happens before each instant (0..1)."""
        return np.interp(instants, self.midnights, self.cumulative)

    def draw(self, rng: np.random.Generator, shares: np.ndarray) -> np.ndarray:
        """Instants at the given cumulative activity shares, on the day they fall in, at a drawn hour."""
        day = np.clip(np.interp(shares, self.cumulative, np.arange(DAYS + 1)).astype(np.int64), 0, DAYS - 1)
        hour = np.searchsorted(_HOUR_CDF, rng.random(len(shares)), side="right")
        seconds = np.minimum(hour, 23) * HOUR + rng.integers(0, HOUR, len(shares))
        return self.midnights[day] + seconds

    def draw_after(self, rng: np.random.Generator, after: np.ndarray, before: np.ndarray | None = None) -> np.ndarray:
        """One instant per entry of `after`, later than it and before `before` (default: the end of the
        window), following the day weights."""
        low = self.share_before(after)
        high = 1.0 if before is None else self.share_before(before)
        instants = self.draw(rng, low + rng.random(len(after)) * (high - low))
        # The drawn hour may fall before `after` on its own day: move such instants just after it.
        late = instants <= after
        instants[late] = after[late] + rng.integers(MINUTE, 6 * HOUR, int(late.sum()))
        return np.minimum(instants, self.end - 1 if before is None else np.maximum(before, after + MINUTE))


def make_window(timezone: str, anchor: date) -> Window:
    """The window of `DAYS` local days ending the day before `anchor`, in `timezone`."""
    zone = ZoneInfo(timezone)
    first = anchor - timedelta(days=DAYS)
    days = [first + timedelta(days=i) for i in range(DAYS + 1)]
    midnights = np.array(
        [int(datetime.combine(day, time(0), tzinfo=zone).timestamp()) for day in days], dtype=np.int64
    )
    index = np.arange(DAYS)
    growth = np.exp(np.log(1.6) * index / DAYS)
    day_of_year = np.array([d.timetuple().tm_yday for d in days[:DAYS]])
    season = 1.0 + 0.22 * np.cos(2 * np.pi * (day_of_year - 350) / 365.25)
    weekday = _WEEKDAY[np.array([d.weekday() for d in days[:DAYS]])]
    weights = growth * season * weekday
    for i, day in enumerate(days[:DAYS]):
        if _is_black_week(day):
            weights[i] *= 2.6 if day.weekday() == 4 else 1.6
        elif day.month == 12 and 1 <= day.day <= 20:
            weights[i] *= 1.35
    weights = weights / weights.mean()
    cumulative = np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()
    return Window(first_day=first, midnights=midnights, cumulative=cumulative, weights=weights)


def _is_black_week(day: date) -> bool:
    """Black Friday (the fourth Friday of November) and the days up to Cyber Monday."""
    if day.month not in (11, 12):
        return False
    november_first = date(day.year, 11, 1)
    black_friday = november_first + timedelta(days=(4 - november_first.weekday()) % 7 + 21)
    return black_friday <= day <= black_friday + timedelta(days=3)
