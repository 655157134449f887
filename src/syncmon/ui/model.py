"""What the dashboard shows, merged across polls so that failed sources stay visible but stale.

Pure data, no Textual: a source listed in `Snapshot.failed` keeps its previous numbers,
marked with the reason and the age of its last good data (SPEC §8: nothing stale ever
looks fresh).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from syncmon.core.endpoints import EndpointResult
from syncmon.core.metrics import (
    EndpointStatus,
    MetricValue,
    Source,
    UnknownMetricError,
    lookup_metric,
)
from syncmon.engine.poll import ChartSeries, Snapshot
from syncmon.ui.text import clean


@dataclass(frozen=True)
class StaleMark:
    """Why a source's data is old, and since when (None: it never had data)."""

    reason: str
    last_good: datetime | None


def metric_source(name: str) -> Source | None:
    try:
        return lookup_metric(name).source
    except UnknownMetricError:
        return None


@dataclass
class DashboardModel:
    metrics: dict[str, MetricValue] = field(default_factory=dict)
    endpoints: list[EndpointResult] | None = None
    chart: ChartSeries | None = None
    top_errors: list[tuple[str, int]] = field(default_factory=list)
    stale: dict[Source, StaleMark] = field(default_factory=dict)
    unavailable: dict[Source, str] = field(default_factory=dict)
    good_at: dict[Source, datetime] = field(default_factory=dict)
    evaluated_at: datetime | None = None
    metrics_window: timedelta | None = None
    received_at: datetime | None = None  # wall clock when the last poll finished
    conflicts_open: int | None = None
    conflicts_stale: StaleMark | None = None
    conflicts_good_at: datetime | None = None
    alerts_stale: bool = False  # the last poll crashed: alert states are from before
    down_since: dict[str, datetime] = field(default_factory=dict)  # endpoint → first seen down

    def reset(self) -> None:
        """Forget data that belongs to another window or user filter."""
        self.metrics, self.chart, self.top_errors = {}, None, []
        self.stale, self.good_at = {}, {}

    def apply(self, snapshot: Snapshot, received_at: datetime) -> None:
        # A source nobody configured is not stale (there never was data): show why instead.
        self.unavailable = {s: clean(r) for s, r in snapshot.unavailable.items()}
        self.unavailable.update(
            {s: clean(snapshot.failed[s]) for s in snapshot.unconfigured if s in snapshot.failed}
        )
        failed = {s: r for s, r in snapshot.failed.items() if s not in snapshot.unconfigured}
        for source in Source:
            if source in failed:
                self.stale[source] = StaleMark(
                    clean(failed[source], limit=300), self.good_at.get(source)
                )
            elif source not in self.unavailable:
                self.stale.pop(source, None)
                self.good_at[source] = received_at

        metrics = dict(snapshot.display_metrics)
        for name, value in self.metrics.items():
            if metric_source(name) in failed and name not in metrics:
                metrics[name] = value
        self.metrics = metrics

        if Source.PERFORMANCE not in failed:
            self.top_errors = list(snapshot.top_errors)
            if snapshot.chart is not None:
                self.chart = snapshot.chart
        if snapshot.endpoints is not None or Source.ENDPOINTS not in failed:
            self._set_endpoints(snapshot.endpoints)
        self.alerts_stale = False
        self.evaluated_at = snapshot.evaluated_at
        self.metrics_window = snapshot.display_window
        self.received_at = received_at

    def apply_endpoints(self, endpoints: list[EndpointResult] | None) -> None:
        """The endpoints the rules were evaluated on (when they differ from the display
        snapshot's, under a user filter): tiles and the endpoint rules come from one poll."""
        if endpoints is not None:
            self._set_endpoints(endpoints)

    def _set_endpoints(self, endpoints: list[EndpointResult] | None) -> None:
        self.endpoints = endpoints
        for result in endpoints or ():
            if result.status is EndpointStatus.DOWN:
                self.down_since.setdefault(result.name, result.polled_at)
            else:
                self.down_since.pop(result.name, None)

    def apply_health_error(self, reason: str) -> None:
        """The health poll itself failed (a bug guard): the tiles stay, marked stale."""
        self.stale[Source.ENDPOINTS] = StaleMark(
            clean(reason, limit=300), self.good_at.get(Source.ENDPOINTS)
        )

    def apply_crash(self, reason: str, at: datetime) -> None:
        """The poll itself failed: everything shown becomes stale, nothing is dropped."""
        self.alerts_stale = True
        for source in Source:
            if source not in self.unavailable:
                self.stale[source] = StaleMark(clean(reason, limit=300), self.good_at.get(source))

    def apply_conflicts(self, count: int | None, error: str | None, at: datetime) -> None:
        if error is None and count is not None:
            self.conflicts_open, self.conflicts_stale, self.conflicts_good_at = count, None, at
        else:
            self.conflicts_stale = StaleMark(
                clean(error or "unknown error", limit=200), self.conflicts_good_at
            )

    def stale_for(self, *sources: Source) -> StaleMark | None:
        """The stalest mark among `sources` (oldest last good data)."""
        marks = [self.stale[s] for s in sources if s in self.stale]
        if not marks:
            return None
        return min(marks, key=lambda m: (m.last_good is not None, m.last_good or 0))
