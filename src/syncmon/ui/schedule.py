"""When the dashboard polls, as a plain object: the app asks it, then arms Textual timers.

- Polls never overlap: a poll asked for while one runs is run right after it ends, so a hung
  source makes the header count "polling… 4s" instead of queueing requests.
- The health endpoints are polled on their own, so one that hangs until its timeout never
  holds back the database numbers.
- The chart (an hour of one-minute buckets, most of a poll's database time) is fetched at
  most every half bucket, or on `r`, or when the window changes.
- Paused: nothing is armed. Under `--at`: one poll, nothing periodic.
- Overdue: the numbers are stale when no poll has finished for two intervals plus a grace,
  and a single timer at that moment (not a clock ticking every second) says so.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from syncmon.engine.poll import PollRequest

CHART_SPAN = timedelta(hours=1)
CHART_REFRESH = timedelta(seconds=30)
OVERDUE_GRACE = timedelta(seconds=2)
WINDOWS = tuple(timedelta(minutes=m) for m in (5, 15, 60, 360, 1440))


@dataclass(frozen=True)
class PollPlan:
    """One poll to run: `display` for the panels, `alerts` (fleet-wide) when a user filter is on."""

    display: PollRequest
    alerts: PollRequest | None
    generation: int


class PollSchedule:
    def __init__(self, interval: timedelta, *, at: datetime | None, health_apart: bool) -> None:
        self.interval = interval
        self.at = at
        self.health_apart = health_apart and at is None
        self.window = WINDOWS[0]
        self.user: uuid.UUID | None = None
        self.paused = False
        self.generation = 0  # bumped when the window or user changes: older answers are dropped
        self.polls = 0
        self.polling_since: datetime | None = None
        self.health_since: datetime | None = None
        self.last_refresh: datetime | None = None  # wall clock when the last poll finished
        self.poll_error: str | None = None
        self._again = False
        self._chart_at: datetime | None = None
        self._chart_forced = True

    # --- the database poll ---------------------------------------------------------------
    def begin_poll(self, now: datetime) -> PollPlan | None:
        """The poll to start now, or None when one is running (it will run again after)."""
        if self.polling_since is not None:
            self._again = True
            return None
        self.polling_since = now
        chart_span = max(CHART_SPAN, self.window)
        chart_due = (
            self._chart_forced
            or self._chart_at is None
            or now - self._chart_at >= min(chart_span / 120, CHART_REFRESH)
        )
        if chart_due:
            self._chart_at, self._chart_forced = now, False
        display = PollRequest(
            at=self.at,
            display_window=self.window,
            chart_span=chart_span if chart_due else None,
            chart_buckets=60,
            top_errors=5,
            user_id=self.user,
            health=not self.health_apart,
        )
        alerts = None
        if self.user is not None:  # alerts are fleet-wide, whatever the display filter
            alerts = PollRequest(at=self.at, health=not self.health_apart)
        return PollPlan(display, alerts, self.generation)

    def end_poll(self, now: datetime, *, error: str | None) -> float | None:
        """A poll ended; seconds until the next one (0: at once), None: nothing periodic."""
        self.polling_since = None
        self.polls += 1
        self.poll_error = error
        self.last_refresh = now
        if self._again:
            self._again = False
            return 0.0
        if self.paused or self.at is not None:
            return None
        return self.interval.total_seconds()

    def current(self, generation: int) -> bool:
        """Whether a poll's answer still belongs to the window and user shown."""
        return generation == self.generation

    # --- the health endpoints ------------------------------------------------------------
    def begin_health(self, now: datetime) -> bool:
        if not self.health_apart or self.health_since is not None:
            return False
        self.health_since = now
        return True

    def end_health(self) -> float | None:
        self.health_since = None
        return None if self.paused else self.interval.total_seconds()

    # --- what the keys change ------------------------------------------------------------
    def toggle_pause(self) -> bool:
        """Flip pause; True when polling should start again now."""
        self.paused = not self.paused
        return not self.paused

    def refresh_now(self) -> None:
        self._chart_forced = True

    def change_view(self, *, window: timedelta | None = None, user: uuid.UUID | None) -> None:
        """Window or user changed: answers for the old view are dropped, the chart refetched."""
        if window is not None:
            self.window = window
        self.user = user
        self.generation += 1
        self._chart_forced = True

    def next_window(self) -> timedelta:
        return WINDOWS[(WINDOWS.index(self.window) + 1) % len(WINDOWS)]

    # --- freshness -----------------------------------------------------------------------
    def overdue_at(self) -> datetime | None:
        """When the numbers become stale if no poll finishes (None: never, e.g. paused)."""
        if self.last_refresh is None or self.paused or self.at is not None:
            return None
        return self.last_refresh + 2 * self.interval + OVERDUE_GRACE

    def overdue(self, now: datetime) -> bool:
        due = self.overdue_at()
        return due is not None and now >= due
