"""The status block: the first screen's answers in a few lines, for terminals under 110 columns.

What is broken (each endpoint's state, each alert firing, acknowledged, pending or blind,
with its value and since when), why (the reason an endpoint is down, every STALE source),
and how many conflicts are open. Charts and full tables follow below the fold (SPEC §8.1).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.reactive import reactive, var
from textual.widget import Widget

from syncmon.core.metrics import EndpointStatus
from syncmon.ui.panels.badges import STATE_WIDTH, alert_word, endpoint_word
from syncmon.ui.panels.conflicts import count_text
from syncmon.ui.panels.stale import StaleBadge
from syncmon.ui.panels.text_line import TextLine, ViewPanel
from syncmon.ui.views import AlertRowView, ConflictsView, EndpointsSummary, StaleView

NAME_MIN = 12


def endpoints_text(summary: EndpointsSummary) -> Text:
    text = Text.assemble(("endpoints ", "dim"))
    if summary.unavailable:
        text.append(summary.unavailable, style="magenta")
        return text
    if not summary.states:
        text.append("waiting for the first poll…", style="dim")
        return text
    for index, (name, status) in enumerate(summary.states):
        if index:
            text.append(" · ", style="dim")
        text.append(f"{name} ")
        text.append_text(endpoint_word(status, stale=summary.stale))
    return text


def reasons_text(summary: EndpointsSummary) -> Text:
    lines = []
    for name, status, why in summary.reasons:
        style = "bold" if status is EndpointStatus.DOWN else ""
        lines.append(Text.assemble((f"{name}: ", "bold"), (why, style)))
    return Text("\n").join(lines)


def attention_line(row: AlertRowView, width: int) -> Text:
    """One alert on one line; what gives way first when narrow: the threshold, who acked
    (then their name), the clock time of since, the value. The since age never does."""
    word = alert_word(row.state, acked=row.ack is not None, blind=row.blind)
    since_short = (row.since_age or "") + ("*" if row.since_seen else "")
    since_long = since_short + (f" ({row.since_clock})" if row.since_clock else "")
    ack_long = ack_short = ""
    if row.ack is not None:
        ack = row.ack
        ack_short = f"by {ack.by[:12]}"
        until = f"until {ack.until}" if ack.until else "(sending…)" if ack.pending else "(local)"
        ack_long = f"by {ack.by} {until}"
    value_long = f"{row.value} {row.op} {row.threshold}" if row.threshold else row.value
    plans = (
        (value_long, ack_long, since_long),
        (row.value, ack_long, since_long),
        (row.value, ack_short, since_long),
        (row.value, "", since_long),
        (row.value, "", since_short),
        ("", "", since_short),
    )
    head = STATE_WIDTH + 1  # the state word, padded
    for value, ack_text, since in plans:
        used = head + sum(len(p) + 2 for p in (value, ack_text, since) if p)
        if width - used >= NAME_MIN:
            break
    name_room = max(NAME_MIN, width - used)
    name = row.rule if len(row.rule) <= name_room else row.rule[: name_room - 1] + "…"
    text = word
    text.append(" " * (head - word.cell_len))
    text.append(name.ljust(name_room), style="bold" if row.firing and not row.ack else "")
    for part in (value, ack_text, since):
        if part:
            text.append("  ")
            text.append(part)
    return text


class AttentionList(Widget):
    """The alerts that need someone, one line each, laid out for the width available."""

    DEFAULT_CSS = "AttentionList { height: auto; }"

    rows: reactive[tuple[AlertRowView, ...]] = reactive(tuple, layout=True)

    def render(self) -> Text:
        if not self.rows:
            return Text("alerts    none firing or pending")
        width = self.size.width
        return Text("\n").join(attention_line(row, width) for row in self.rows)


class StaleList(ViewPanel):
    marks: var[tuple[StaleView, ...]] = var(tuple, init=False)

    def watch_marks(self) -> None:
        self.redraw()

    def draw(self) -> None:
        marks = self.marks
        badges = list(self.query_children(StaleBadge))
        if len(badges) != len(marks):
            self.remove_children()
            badges = [StaleBadge() for _ in marks]
            self.mount_all(badges)
        for badge, mark in zip(badges, marks, strict=True):
            badge.mark = mark


class StatusBlock(ViewPanel):
    BORDER_TITLE = "status"
    endpoints: var[EndpointsSummary] = var(EndpointsSummary, init=False)
    attention: var[tuple[AlertRowView, ...]] = var(tuple, init=False)
    stale: var[tuple[StaleView, ...]] = var(tuple, init=False)
    conflicts: var[ConflictsView] = var(ConflictsView, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._endpoints = TextLine(endpoints_text(EndpointsSummary()), id="status-endpoints")
        self._reasons = TextLine(id="status-reasons")
        self._stale = StaleList(id="status-stale")
        self._alerts = AttentionList(id="status-alerts")
        self._conflicts = TextLine(id="status-conflicts")

    def compose(self) -> ComposeResult:
        yield self._endpoints
        yield self._reasons
        yield self._stale
        yield self._alerts
        yield self._conflicts

    def watch_endpoints(self) -> None:
        self.redraw()

    def watch_attention(self) -> None:
        self.redraw()

    def watch_stale(self) -> None:
        self.redraw()

    def watch_conflicts(self) -> None:
        self.redraw()

    def draw(self) -> None:
        """Each child is reactive too: only the ones whose text changed are redrawn."""
        self._endpoints.text = endpoints_text(self.endpoints)
        self._reasons.text = reasons_text(self.endpoints)
        self._reasons.display = bool(self.endpoints.reasons)
        self._alerts.rows = self.attention
        self._stale.marks = self.stale
        self._conflicts.text = Text("conflicts ", style="dim") + count_text(self.conflicts)
