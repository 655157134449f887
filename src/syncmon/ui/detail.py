"""What the detail screen shows about one alert, as Rich renderables (SPEC §17).

The facts come from the same evaluation the alerts list shows (the rule's tracker and its
row of the app's view), never from a second query; only the chart and "what changed"
are read from the database, through the engine. Every string from outside — labels,
annotations, error messages, operation types — goes through `clean` and into `Text`, so
markup is never interpreted and control characters never reach the terminal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from syncmon.core.conditions import comparisons
from syncmon.core.durations import format_duration
from syncmon.core.episodes import Since, since_text
from syncmon.core.metrics import Unit, format_value
from syncmon.core.rules import AlertRule
from syncmon.core.timeline import Episode, Point
from syncmon.sources.past import Change, WhatChanged
from syncmon.ui.chart_data import ChartData, Line
from syncmon.ui.deliveries import Delivery
from syncmon.ui.endpoint_log import EndpointLog
from syncmon.ui.text import clean, clock
from syncmon.ui.views import AckView, AlertRowView

MAX_CHART_POINTS = 240


@dataclass(frozen=True)
class Moment:
    """Which episode the screen shows: the live one (`episode` None) or one from the past."""

    since: Since | None
    end: datetime  # the evaluation's time (now, or --at), or the past episode's end
    episode: Episode | None = None


def _label(name: str) -> Text:
    return Text(f"{name:<11}", style="bold")


def _duration(value: timedelta) -> str:
    return format_duration(value) if value else "0s"


def _pairs(items: dict[str, str]) -> Text:
    if not items:
        return Text("—", style="dim")
    return Text("  ".join(f"{clean(k, limit=40)}={clean(v, limit=120)}" for k, v in items.items()))


def facts(
    rule: AlertRule,
    row: AlertRowView | None,
    episode_id: str | None,
    moment: Moment,
    ack: AckView | None,
    delivery: Delivery | None,
    shared: bool,
    current: bool = True,
) -> Group:
    """Name, severity, condition, labels, annotations, state, value, since, episode, ack,
    delivery: one line each, labels in a fixed column; URLs whole on lines of their own
    (from the first column, so that a runbook link can be copied in one piece)."""
    table = _grid()
    add = table.add_row
    add(_label("alert"), Text.assemble((rule.name, "bold"), f"  ·  {rule.severity.value}"))
    add(_label("condition"), Text(rule.condition_text))
    timing = f"window {_duration(rule.window)} · for {_duration(rule.for_)}"
    if rule.keep_firing_for:
        timing += f" · keep firing {_duration(rule.keep_firing_for)}"
    add(_label(""), Text(timing, style="dim"))
    add(_label("labels"), _pairs(rule.all_labels))  # `endpoint` too: which alert of the rule
    for key, value in rule.annotations.items():
        if key.endswith("url"):  # below, on a line of its own: copyable in one piece
            continue
        add(_label(clean(key, limit=11)), Text(clean(value, single_line=False, limit=2000)))
    urls = [
        Text.assemble((clean(key, limit=40), "bold"), "\n", clean(value, limit=2000))
        for key, value in rule.annotations.items()
        if key.endswith("url")
    ]
    head, table = table, _grid()
    add = table.add_row
    past = moment.episode
    if past is not None:
        add(_label("state"), _past_state(past, moment.end))
        add(_label("peak"), Text(format_value(past.peak, past.unit)))
    elif row is not None:
        add(_label("state"), _live_state(row))
        threshold = f" {row.op} {row.threshold}" if row.threshold else ""
        samples = f"  (n={row.samples})" if row.samples is not None else ""
        add(_label("value"), Text(f"{row.value}{threshold}{samples}"))
    since = moment.since
    since_line = since_text(since, moment.end) if since else "— (not pending or firing)"
    add(_label("since"), Text(since_line))
    add(_label("episode"), Text(episode_id or "—"))
    if not current:
        add(_label("ack"), Text("— (a past episode)", style="dim"))
    else:
        add(_label("ack"), _ack(ack))
        add(_label("delivery"), _delivery(delivery, shared))
    return Group(head, *urls, table)


def _grid() -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    return table


def _live_state(row: AlertRowView) -> Text:
    word = "ok" if row.state.value == "inactive" else row.state.value.upper()
    text = Text(word, style="bold reverse" if row.firing else "bold")
    if row.blind:
        text.append(" blind: its source cannot be read now", style="bold")
    if not row.evaluated:
        text = Text("unknown (not evaluated yet)", style="bold")
    return text


def _past_state(episode: Episode, end: datetime) -> Text:
    if episode.end is None:
        return Text("FIRING", style="bold reverse") + Text(" (at the end of the timeline)")
    length = format_duration(timedelta(seconds=round(episode.length(end).total_seconds())))
    return Text(f"resolved at {clock(episode.end)} after {length}", style="bold")


def _ack(ack: AckView | None) -> Text:
    if ack is None:
        return Text("not acknowledged (a acknowledges)")
    text = Text(f"acked by {ack.by}")
    if ack.until:
        text.append(f" until {ack.until}")
    elif ack.pending:
        text.append(" (sending to Alertmanager…)")
    else:
        text.append(" until it resolves")
    if not ack.shared:
        text.append(f" — {ack.local_reason or 'local to this dashboard'}", style="dim")
    return text


def _delivery(delivery: Delivery | None, shared: bool) -> Text:
    if delivery is None:
        where = "acks go to Alertmanager" if shared else "no Alertmanager configured"
        return Text(
            f"nothing delivered from this dashboard ({where}; alerts are delivered by "
            "syncmon watch)",
            style="dim",
        )
    text = Text(f"{delivery.what} at {clock(delivery.at)} → {delivery.where}: ")
    if delivery.error is None:
        text.append("ok", style="bold")
    else:
        text.append(f"failed: {delivery.error}", style="bold")
    return text


# --- what changed at since -------------------------------------------------------------------
def _span(start: datetime, end: datetime) -> str:
    return f"{clock(start)[11:16]}–{clock(end)[11:16]}"


def _change_rows(title: str, changes: Iterable[Change], failed: bool) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(width=3, no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    if failed:
        table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
    heading = [Text(""), Text("before → during", style="bold")]
    if failed:
        heading.append(Text("failed", style="bold"))
    table.add_row(*heading, Text(title, style="bold"))
    rows = list(changes)
    for change in rows:
        cells = [
            Text("NEW", style="bold reverse") if change.new else Text(""),
            Text(f"{change.before} → {change.during}"),
        ]
        if failed:
            cells.append(Text(f"{change.failed_before} → {change.failed_during}"))
        table.add_row(*cells, Text(clean(change.key, limit=300) or "(empty)"))
    if not rows:
        table.add_row(Text(""), Text("none"), *([Text("")] if failed else []), Text(""))
    return table


def what_changed(changes: WhatChanged | None) -> RenderableType:
    """Error messages and operation types, count before → during, new ones marked."""
    if changes is None:
        return Text("reading…", style="dim")
    if changes.error is not None:
        return Text(f"could not read: {clean(changes.error, limit=300)}", style="bold")
    before, during = changes.before, changes.during
    intro = Text(
        f"before {_span(before.start, before.end)} → during {_span(during.start, during.end)}"
        " (from the first held window on)",
        style="dim",
    )
    return Group(
        intro,
        _change_rows("error message (failed operations)", changes.messages, failed=False),
        _change_rows("operation type", changes.operations, failed=True),
    )


def endpoint_changes(log: EndpointLog, since: datetime | None, at_time: bool) -> Text:
    """An endpoint rule: each endpoint's last OK, since when down, reasons since."""
    if at_time:
        return Text("health endpoints have no history: not available with --at", style="dim")
    if not log.stories:
        return Text("no health poll yet", style="dim")
    text = Text()
    for name, story in sorted(log.stories.items()):
        down = story.not_up_since
        if down is None and (since is None or story.last_ok is None or story.last_ok < since):
            if story.status is not None:
                text.append(f"{name}: up\n", style="dim")
            continue
        status = story.status.value if story.status else "?"
        text.append(f"{name}: {status}", style="bold")
        last_ok = clock(story.last_ok) if story.last_ok else "never, since this dashboard started"
        text.append(f" · last OK {last_ok}")
        if down is not None:
            text.append(f" · not up since {clock(down)}")
        text.append("\n")
        for reason, count in story.reasons.most_common(5):
            text.append(f"   {count:>4}× {reason}\n")
    if log.first_poll is not None:
        text.append(f"(seen by this dashboard since {clock(log.first_poll)})", style="dim")
    return text


# --- the chart -------------------------------------------------------------------------------
def chart(rule: AlertRule, points: tuple[Point, ...], since: datetime | None) -> ChartData | None:
    """The rule's first metric against its threshold, in minutes from since (or from the end)."""
    if not points:
        return None
    first = comparisons(rule.condition)[0]
    scale = 100.0 if first.metric.unit is Unit.RATIO else 1.0
    every = max(1, -(-len(points) // MAX_CHART_POINTS))
    sampled = points[::every]
    origin = since or sampled[-1].at
    span = (sampled[-1].at - sampled[0].at).total_seconds()
    unit, label = (3600.0, "hours") if span > 4 * 3600 else (60.0, "minutes")
    x = [(p.at - origin).total_seconds() / unit for p in sampled]
    values = [None if p.value is None else p.value * scale for p in sampled]
    suffix = " %" if scale != 1.0 else f" {first.metric.unit.value}"
    return ChartData(
        f"{first.metric.name}{suffix}",
        x,
        f"{label} from since" if since else f"{label} ago",
        [Line(first.metric.name, values)],
        [("threshold", first.threshold * scale)],
    )
