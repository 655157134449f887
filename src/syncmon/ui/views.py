"""What each panel shows, as frozen values: a panel is redrawn only when its value changes.

`present.build_view` computes one `DashboardView` from the app's state after every event
(a poll, a key, a timer); each panel holds its part as a Textual reactive, and a reactive
set to an equal value does nothing. So at rest — polls bringing the same numbers — nothing
is redrawn, and what did change redraws only its own widget. Every string here is already
display-safe (control characters replaced, secrets redacted); widgets still draw them as
`Text`, never as markup. Plain data: no Textual, no Rich.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from syncmon.core.alerts import AlertState
from syncmon.core.metrics import EndpointStatus
from syncmon.ui.chart_data import ChartData


class ListKind(StrEnum):
    """The lists `/` can filter: the focused one."""

    ALERTS = "alerts"
    ENDPOINTS = "endpoints"
    FAILURES = "failures"
    CONFLICTS = "conflicts"


@dataclass(frozen=True)
class ListFilter:
    """A `/` filter in force on one list, and what it leaves of it."""

    text: str
    shown: int
    total: int

    @property
    def label(self) -> str:
        return f"filter: {self.text} ({self.shown} of {self.total})"


@dataclass(frozen=True)
class StaleView:
    """The STALE mark, computed once per source: what is old, for how long, and why."""

    what: str
    age: str | None  # coarse ("3m"); None when the source never had data
    reason: str


@dataclass(frozen=True)
class AckView:
    """Who acknowledged an alert and until when (`until` None: until it resolves)."""

    by: str
    until: str | None = None
    shared: bool = False  # an Alertmanager silence every dashboard sees
    pending: bool = False  # asked Alertmanager; not read back yet
    local_reason: str | None = None  # why the ack lives in this dashboard only


@dataclass(frozen=True)
class AlertRowView:
    rule: str
    state: AlertState
    severity: str
    value: str
    threshold: str
    op: str = ""  # of the first comparison: "8.00% > 5.00%" reads as the condition
    samples: int | None = None  # shown for nodata
    since_age: str | None = None  # "12m", "≥24h"
    since_clock: str | None = None  # "03:02"
    since_bounded: bool = False
    since_seen: bool = False
    ack: AckView | None = None
    blind: bool = False  # firing, but its source cannot be read now
    evaluated: bool = True

    @property
    def firing(self) -> bool:
        return self.state is AlertState.FIRING

    @property
    def needs_attention(self) -> bool:
        """Shown in the status block: firing, acked, pending or unreadable."""
        return self.ack is not None or self.state in (
            AlertState.FIRING,
            AlertState.PENDING,
            AlertState.ERROR,
        )


@dataclass(frozen=True)
class AlertsView:
    rows: tuple[AlertRowView, ...] = ()
    firing_unacked: int = 0  # computed once; the header, status block and table share it
    firing_acked: int = 0
    not_reevaluated: bool = False  # the last poll crashed: states are from before
    filter: ListFilter | None = None  # `rows` are what it leaves; the counts are of all


@dataclass(frozen=True)
class CountsView:
    firing: int = 0
    acked: int = 0


@dataclass(frozen=True)
class ModeView:
    window: str = "5m"
    at: datetime | None = None
    paused: bool = False
    user: str | None = None
    filters: tuple[str, ...] = ()  # `/` filters in force ("alerts: disk"), always shown


@dataclass(frozen=True)
class FreshnessView:
    refreshed: str | None = None  # clock time of the last finished poll
    polling_for: int | None = None  # seconds a poll has been running (shown from 1 s)
    health_polling_for: int | None = None
    overdue: StaleView | None = None
    stale_sources: int = 0
    poll_error: str | None = None


@dataclass(frozen=True)
class TileView:
    name: str
    status: EndpointStatus
    latency: str
    code: str
    error: str | None = None
    missing_headers: str | None = None
    stale: bool = False
    down_for: str | None = None  # "4m12s" since this dashboard first saw it down


@dataclass(frozen=True)
class HealthView:
    tiles: tuple[TileView, ...] = ()
    stale: StaleView | None = None
    unavailable: str | None = None  # not configured, or --at
    waiting: bool = True
    filter: ListFilter | None = None


@dataclass(frozen=True)
class EndpointsSummary:
    """The status block's endpoint line: states and reasons, no latency (it moves each poll)."""

    states: tuple[tuple[str, EndpointStatus], ...] = ()
    reasons: tuple[tuple[str, EndpointStatus, str], ...] = ()  # (name, status, why) when not up
    unavailable: str | None = None
    stale: bool = False


@dataclass(frozen=True)
class MetricRowView:
    name: str
    value: str
    target: str
    samples: str
    verdict: str  # a key of `panels.metrics.VERDICTS`
    stale: bool = False


@dataclass(frozen=True)
class MetricsView:
    window: str = ""
    rows: tuple[MetricRowView, ...] = ()
    stale: StaleView | None = None
    message: str | None = None  # instead of rows: waiting, or why there is no data


@dataclass(frozen=True)
class FailuresView:
    window: str = ""
    errors: tuple[tuple[str, int], ...] = ()
    stale: StaleView | None = None
    unavailable: str | None = None
    filter: ListFilter | None = None


@dataclass(frozen=True)
class ConflictsView:
    open: int | None = None
    stale: StaleView | None = None
    current_only: bool = False  # under --at: the API has no history, these are today's


@dataclass(frozen=True)
class ChartsView:
    charts: tuple[ChartData, ...] | None = None
    stale: StaleView | None = None


@dataclass(frozen=True)
class DashboardView:
    counts: CountsView = field(default_factory=CountsView)
    mode: ModeView = field(default_factory=ModeView)
    freshness: FreshnessView = field(default_factory=FreshnessView)
    health: HealthView = field(default_factory=HealthView)
    endpoints: EndpointsSummary = field(default_factory=EndpointsSummary)
    alerts: AlertsView = field(default_factory=AlertsView)
    stale: tuple[StaleView, ...] = ()  # every stale source, for the status block
    metrics: MetricsView = field(default_factory=MetricsView)
    failures: FailuresView = field(default_factory=FailuresView)
    conflicts: ConflictsView = field(default_factory=ConflictsView)
    charts: ChartsView = field(default_factory=ChartsView)
    attention: tuple[AlertRowView, ...] = ()  # of every alert, whatever `/` leaves listed
