"""When the dashboard polls: workers that never overlap, health apart from the database.

Polls never overlap: the next one is armed only when the previous one has finished, so a
hung source makes the header count "polling… 4s" instead of queueing requests. The health
endpoints are polled by a worker of their own, so one that hangs until its timeout never
holds back the database numbers. Workers post messages; the handlers here update the model
and ask the app to redraw.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from textual import work

from syncmon.core.metrics import Source
from syncmon.engine import PollRequest
from syncmon.redaction import describe_error
from syncmon.ui.messages import ConflictsLoaded, HealthPolled, PollFinished
from syncmon.ui.model import StaleMark
from syncmon.ui.text import clean

if TYPE_CHECKING:
    pass

CHART_SPAN = timedelta(hours=1)
CHART_REFRESH = timedelta(seconds=30)


class PollingMixin:
    """Mixed into `SyncmonApp`; uses its model, engine, timers and `_redraw`."""

    @property
    def _health_apart(self) -> bool:
        """Live, with an engine that can: health endpoints are polled on their own."""
        return self.at is None and callable(getattr(self.engine, "poll_health", None))

    def _arm(self, delay: float) -> None:
        """Schedule the next poll (none while paused, none periodic under --at)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if delay <= 0:
            self.call_later(self._start_poll)
        elif not self.paused and self.at is None:
            self._timer = self.set_timer(delay, self._start_poll)

    def _arm_health(self, delay: float) -> None:
        if self._health_timer is not None:
            self._health_timer.stop()
            self._health_timer = None
        if not self._health_apart or self._health_since is not None:
            return
        if delay <= 0:
            self.call_later(self._start_health)
        elif not self.paused:
            self._health_timer = self.set_timer(delay, self._start_health)

    def _start_health(self) -> None:
        if self._health_since is None:
            self._health_since = self.clock()
            self.poll_health()

    @work(exclusive=True, group="health")
    async def poll_health(self) -> None:
        try:
            self.post_message(HealthPolled(await self.engine.poll_health()))
        except Exception as exc:  # the poller never raises; this guards against bugs
            self.post_message(HealthPolled(None, describe_error(exc)))

    def on_health_polled(self, message: HealthPolled) -> None:
        self._health_since = None
        if message.error is not None:
            self.model.stale[Source.ENDPOINTS] = StaleMark(
                clean(message.error, limit=300), self.model.good_at.get(Source.ENDPOINTS)
            )
        else:
            self.model.apply_endpoints(message.endpoints, self.clock())
        self._redraw()
        self._arm_health(self.interval.total_seconds())

    def _start_poll(self) -> None:
        if self._polling_since is not None:
            self._poll_again = True  # one poll at a time; run again when it ends
            return
        self._polling_since = now = self.clock()
        chart_span = max(CHART_SPAN, self.window)
        # The chart is most of a poll's database time (an hour of rows, a p95 per bucket)
        # and its buckets are a minute wide: redraw it at most every half bucket (or on
        # `r`, or when the window changes), not on every 5 s poll.
        chart_due = (
            self._chart_forced
            or self.model.chart is None
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
            health=not self._health_apart,
        )
        alerts = None
        if self.user is not None:  # alerts are fleet-wide, whatever the display filter
            alerts = PollRequest(at=self.at, health=not self._health_apart)
        self.poll(display, alerts, self._generation)
        if not self._counting:
            self._counting = True
            self.count_conflicts()
        self._update_header()

    @work(exclusive=True, group="poll")
    async def poll(self, display: PollRequest, alerts: PollRequest | None, generation: int) -> None:
        try:
            snapshot = await self.engine.poll(display)
            alerts_snapshot = snapshot if alerts is None else await self.engine.poll(alerts)
            await self.alerts.advance(alerts_snapshot)  # finds since for new episodes
            self.post_message(PollFinished(snapshot, alerts_snapshot, generation))
        except Exception as exc:  # sources never raise; this guards against bugs
            self.post_message(PollFinished(None, None, generation, describe_error(exc)))

    @work(exclusive=True, group="conflict-count")
    async def count_conflicts(self) -> None:
        assert self.conflicts is not None
        self.post_message(ConflictsLoaded(await self.conflicts.list_open()))

    def on_conflicts_loaded(self, message: ConflictsLoaded) -> None:
        self._counting = False
        result = message.result
        self.model.apply_conflicts(len(result.conflicts), result.error, self.clock())
        self._redraw()

    def on_poll_finished(self, message: PollFinished) -> None:
        now = self.clock()
        self._polling_since = None
        self.polls += 1
        self._poll_error = message.error
        if message.error is not None:
            self.model.apply_crash(message.error, now)
        elif message.snapshot is not None and message.generation == self._generation:
            self.model.apply(message.snapshot, now)
        if message.alerts_snapshot is not None:
            for ack in self.acks.expire_resolved(self.alerts.trackers):
                self.silences.expire(ack)
        self._redraw()
        if self._poll_again or message.generation != self._generation:
            self._poll_again = False
            self._arm(0)
        else:
            self._arm(self.interval.total_seconds())
