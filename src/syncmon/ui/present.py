"""From the app's state to a `DashboardView`: every derived fact computed once, here.

The STALE marks, the alerts that fire unacknowledged, the "since" of each alert and the
metric verdicts are decided in this module and nowhere else; widgets only draw them.
Ages are coarse (minutes) so that a view built on the next poll compares equal when the
data did not change, and nothing is redrawn.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from syncmon.core.alerts import AlertState, AlertTracker
from syncmon.core.conditions import Comparison, Condition, comparisons
from syncmon.core.metrics import CATALOGUE, EndpointStatus, MetricValue, Source, Unit, format_value
from syncmon.core.rules import AlertRule
from syncmon.core.timefmt import minute_clock
from syncmon.ui.acks import Ack, AckBook
from syncmon.ui.chart_data import ChartData, build_charts, rule_thresholds
from syncmon.ui.model import DashboardModel, StaleMark, metric_source
from syncmon.ui.schedule import PollSchedule
from syncmon.ui.text import age, clean, coarse_age, matches, short_time, window_label
from syncmon.ui.views import (
    AckView,
    AlertRowView,
    AlertsView,
    ChartsView,
    ConflictsView,
    CountsView,
    DashboardView,
    EndpointsSummary,
    FailuresView,
    FreshnessView,
    HealthView,
    ListFilter,
    ListKind,
    MetricRowView,
    MetricsView,
    ModeView,
    StaleView,
    TileView,
)

HEADER_ABBREVIATIONS = {
    "Content-Security-Policy": "CSP",
    "X-Content-Type-Options": "XCTO",
    "X-Frame-Options": "XFO",
    "X-XSS-Protection": "XXP",
}
_ORDER = {
    AlertState.FIRING: 0,
    AlertState.ERROR: 2,
    AlertState.PENDING: 3,
    AlertState.NODATA: 4,
    AlertState.RESOLVED: 5,
    AlertState.INACTIVE: 6,
}
_OP_WORD = {">": ">", ">=": "≥", "<": "<", "<=": "≤", "==": "=", "!=": "≠"}


@dataclass(frozen=True)
class Inputs:
    """Everything a view is built from (the app's state, read only)."""

    model: DashboardModel
    schedule: PollSchedule
    trackers: Mapping[str, AlertTracker]
    acks: AckBook
    targets: Mapping[str, Condition]
    rules: tuple[AlertRule, ...]
    now: datetime
    filters: Mapping[ListKind, str] = field(default_factory=dict)  # `/`, per list


Item = TypeVar("Item")


def narrow(
    items: Sequence[Item], text: str | None, fields: Callable[[Item], tuple[str, ...]]
) -> tuple[tuple[Item, ...], ListFilter | None]:
    """What a `/` filter leaves of `items`, and the "(n of m)" to show beside it."""
    if not text:
        return tuple(items), None
    kept = tuple(item for item in items if matches(text, *fields(item)))
    return kept, ListFilter(clean(text, limit=40), len(kept), len(items))


def stale_view(what: str, mark: StaleMark, now: datetime) -> StaleView:
    age = coarse_age(now - mark.last_good) if mark.last_good else None
    return StaleView(what, age, clean(mark.reason, limit=200))


def build_view(inputs: Inputs, charts: ChartsMemo | None = None) -> DashboardView:
    """The whole dashboard, computed from scratch (cheap) apart from the charts."""
    model, now = inputs.model, inputs.now
    stale = {source: stale_view(source.value, mark, now) for source, mark in model.stale.items()}
    conflicts_stale = (
        stale_view("conflicts API", model.conflicts_stale, now) if model.conflicts_stale else None
    )
    filters = inputs.filters
    alerts = alerts_view(inputs)
    rows, alerts_filter = narrow(
        alerts.rows, filters.get(ListKind.ALERTS), lambda r: (r.rule, r.severity, r.state)
    )
    health = health_view(model, stale.get(Source.ENDPOINTS), now)
    tiles, tiles_filter = narrow(
        health.tiles, filters.get(ListKind.ENDPOINTS), lambda t: (t.name, t.status, t.error or "")
    )
    errors, errors_filter = narrow(
        model.top_errors, filters.get(ListKind.FAILURES), lambda e: (e[0],)
    )
    return DashboardView(
        counts=CountsView(alerts.firing_unacked, alerts.firing_acked),
        mode=mode_view(inputs.schedule, filters),
        freshness=freshness_view(inputs.schedule, len(stale), now),
        health=replace(health, tiles=tiles, filter=tiles_filter),
        endpoints=endpoints_summary(health),
        alerts=replace(alerts, rows=rows, filter=alerts_filter),
        stale=tuple(stale.values()) + ((conflicts_stale,) if conflicts_stale else ()),
        metrics=metrics_view(model, inputs.targets, stale),
        failures=FailuresView(
            _window(model),
            errors,
            stale.get(Source.PERFORMANCE),
            model.unavailable.get(Source.PERFORMANCE),
            errors_filter,
        ),
        conflicts=ConflictsView(
            model.conflicts_open, conflicts_stale, current_only=inputs.schedule.at is not None
        ),
        charts=(charts or ChartsMemo())(model, inputs.rules, stale.get(Source.PERFORMANCE)),
        attention=tuple(row for row in alerts.rows if row.needs_attention),
    )


def _window(model: DashboardModel) -> str:
    return window_label(model.metrics_window) if model.metrics_window else ""


# --- header ---------------------------------------------------------------------------------
def mode_view(schedule: PollSchedule, filters: Mapping[ListKind, str]) -> ModeView:
    user = clean(str(schedule.user), limit=36) if schedule.user else None
    shown = tuple(
        f"{kind.value}: {clean(text, limit=20)}" for kind, text in filters.items() if text
    )
    return ModeView(window_label(schedule.window), schedule.at, schedule.paused, user, shown)


def freshness_view(schedule: PollSchedule, stale_sources: int, now: datetime) -> FreshnessView:
    def waited(since: datetime | None) -> int | None:
        seconds = int((now - since).total_seconds()) if since else 0
        return seconds if since and seconds >= 1 else None

    overdue = None
    if schedule.overdue(now):  # beside "refreshed HH:MM:SS", which says since when
        overdue = StaleView("numbers", None, "overdue")
    return FreshnessView(
        refreshed=short_time(schedule.last_refresh) if schedule.last_refresh else None,
        polling_for=waited(schedule.polling_since),
        health_polling_for=waited(schedule.health_since),
        overdue=overdue,
        stale_sources=stale_sources,
        poll_error=clean(schedule.poll_error, limit=80) if schedule.poll_error else None,
    )


# --- health ---------------------------------------------------------------------------------
def health_view(model: DashboardModel, stale: StaleView | None, now: datetime) -> HealthView:
    unavailable = model.unavailable.get(Source.ENDPOINTS)
    if unavailable is not None or model.endpoints is None:
        return HealthView((), stale, unavailable, waiting=unavailable is None and stale is None)
    tiles = []
    for result in model.endpoints:
        missing = ",".join(HEADER_ABBREVIATIONS.get(h, h) for h in result.missing_security_headers)
        tiles.append(
            TileView(
                clean(result.name, limit=20),
                result.status,
                f"{result.latency_ms:.0f}ms" if result.latency_ms is not None else "—",
                f"HTTP {result.http_status}" if result.http_status else "no reply",
                clean(result.error, limit=120) if result.error else None,
                missing or None,
                stale is not None,
                _down_for(model, result.name, result.status, now),
            )
        )
    return HealthView(tuple(tiles), stale, None, waiting=False)


def _down_for(
    model: DashboardModel, name: str, status: EndpointStatus, now: datetime
) -> str | None:
    since = model.down_since.get(name)
    if status is not EndpointStatus.DOWN or since is None:
        return None
    return age(now - since)


def _why(tile: TileView) -> str:
    why = tile.error or tile.code
    return f"down for {tile.down_for} · {why}" if tile.down_for else why


def endpoints_summary(health: HealthView) -> EndpointsSummary:
    return EndpointsSummary(
        tuple((tile.name, tile.status) for tile in health.tiles),
        tuple(
            (tile.name, tile.status, _why(tile))
            for tile in health.tiles
            if tile.status is not EndpointStatus.UP
        ),
        health.unavailable,
        health.stale is not None,
    )


# --- alerts ---------------------------------------------------------------------------------
def ack_view(ack: Ack, now: datetime) -> AckView:
    return AckView(
        clean(ack.by, limit=24) or "?",
        minute_clock(ack.until, now) if ack.until else None,
        ack.shared,
        ack.pending,
        clean(ack.reason, limit=80) if ack.reason else None,
    )


def alert_row(tracker: AlertTracker, ack: Ack | None, now: datetime) -> AlertRowView:
    rule, obs, state = tracker.rule, tracker.observation, tracker.state
    value, threshold, samples = "—", "", None
    if obs is not None:
        value = "—" if obs.value is None else format_value(obs.value, obs.unit)
        threshold = format_value(obs.threshold, obs.unit)
        samples = obs.samples if state is AlertState.NODATA else None
    since_age = since_clock = None
    if tracker.since is not None and state in (AlertState.FIRING, AlertState.PENDING):
        since_age = ("≥" if tracker.since_bounded else "") + coarse_age(now - tracker.since)
        since_clock = minute_clock(tracker.since, now)
    return AlertRowView(
        rule=rule.key,  # one row per alert: `Health Endpoint Down (sync)`
        state=state,
        severity=rule.severity.value,
        value=value,
        threshold=threshold,
        op=_OP_WORD.get(comparisons(rule.condition)[0].op, ""),
        samples=samples,
        since_age=since_age,
        since_clock=since_clock,
        since_bounded=tracker.since_bounded,
        since_seen=tracker.since_seen,
        ack=ack_view(ack, now) if ack is not None else None,
        blind=state is AlertState.FIRING and tracker.error is not None,
        evaluated=obs is not None,
    )


def alerts_view(inputs: Inputs) -> AlertsView:
    model = inputs.model
    now = (
        model.evaluated_at if inputs.schedule.at is not None and model.evaluated_at else inputs.now
    )
    rows = []
    for tracker in inputs.trackers.values():
        ack = inputs.acks.ack_for(tracker.rule)
        rows.append(alert_row(tracker, ack, now))

    def rank(row: AlertRowView) -> tuple[int, str]:
        order = _ORDER.get(row.state, 9)
        return (1 if row.firing and row.ack else order), row.rule

    rows.sort(key=rank)
    firing = [row for row in rows if row.firing]
    return AlertsView(
        tuple(rows),
        firing_unacked=sum(1 for row in firing if row.ack is None),
        firing_acked=sum(1 for row in firing if row.ack is not None),
        not_reevaluated=model.alerts_stale,
    )


# --- metrics --------------------------------------------------------------------------------
def verdict(value: float | None, target: Comparison | None) -> str:
    """`ok`, `near` (met, within 10 % of the headroom), `miss`, `nodata`, or `none`."""
    if value is None:
        return "nodata"
    if target is None:
        return "none"
    if not target.holds(value):
        return "miss"
    threshold = target.threshold
    if target.metric.unit is Unit.RATIO:
        headroom = (1 - threshold) if target.op in (">", ">=") else threshold
    else:
        headroom = abs(threshold)
    return "near" if abs(value - threshold) < 0.1 * headroom else "ok"


def target_text(target: Comparison) -> str:
    op = _OP_WORD.get(target.op, target.op)
    return f"{op} {format_value(target.threshold, target.metric.unit)}"


def ordered(metrics: Mapping[str, MetricValue], targets: Mapping[str, Condition]) -> list[str]:
    """Metrics with a target first (the seed's key metrics), then the catalogue, then health.*."""
    names = [n for n in CATALOGUE if n in metrics]
    keyed = [n for n in names if n in targets]
    rest = [n for n in names if n not in targets]
    extra = sorted(n for n in metrics if n not in CATALOGUE)
    return keyed + rest + extra


def metrics_view(
    model: DashboardModel, targets: Mapping[str, Condition], stale: Mapping[Source, StaleView]
) -> MetricsView:
    window = _window(model)
    marks = [
        stale[s] for s in (Source.PERFORMANCE, Source.CONFLICTS, Source.HEALTH_TABLE) if s in stale
    ]
    if not model.metrics:
        reasons = sorted({m.reason for m in stale.values()})
        message = "no data: " + "; ".join(reasons) if reasons else "waiting for data…"
        return MetricsView(window, (), marks[0] if marks else None, message)
    rows = []
    for name in ordered(model.metrics, targets):
        mv = model.metrics[name]
        condition = targets.get(name)
        target = comparisons(condition)[0] if condition is not None else None
        source = metric_source(name)
        is_stale = source is not None and source in stale
        rows.append(
            MetricRowView(
                clean(name, limit=60),
                format_value(mv.value, mv.unit),
                target_text(target) if target else "",
                str(mv.samples),
                "stale" if is_stale else verdict(mv.value, target),
                is_stale,
            )
        )
    return MetricsView(window, tuple(rows), marks[0] if marks else None, None)


# --- charts ---------------------------------------------------------------------------------
def charts_view(
    model: DashboardModel, rules: tuple[AlertRule, ...], stale: StaleView | None
) -> ChartsView:
    if model.chart is None:
        return ChartsView(None, stale)
    data: tuple[ChartData, ...] = build_charts(model.chart, rule_thresholds(rules))
    return ChartsView(data, stale)


class ChartsMemo:
    """Builds the chart data only when the series or its stale mark changed (every 30 s at
    most), not on each view built in between."""

    def __init__(self) -> None:
        self._series: object = None
        self._view = ChartsView()

    def __call__(
        self, model: DashboardModel, rules: tuple[AlertRule, ...], stale: StaleView | None
    ) -> ChartsView:
        if model.chart is not self._series or stale != self._view.stale:
            self._series, self._view = model.chart, charts_view(model, rules, stale)
        return self._view
