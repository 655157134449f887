"""Every rule with its state, firing first; the selected row is what `a` acknowledges.

Columns give way by importance when the table is narrow — severity, then threshold, then
who acknowledged, then the clock time of "since", then the value — but the "since" age
itself and the state never do (SPEC §8.1).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.reactive import var
from textual.widgets import ListItem, ListView

from syncmon.core.alerts import AlertState
from syncmon.ui.panels.text_line import TextLine, ViewPanel, retitle
from syncmon.ui.views import AckView, AlertRowView, AlertsView

STATE_STYLE = {
    AlertState.FIRING: "bold white on red",
    AlertState.ERROR: "bold red",
    AlertState.PENDING: "bold yellow",
    AlertState.NODATA: "dim",
    AlertState.RESOLVED: "green",
    AlertState.INACTIVE: "green",
}
PADDING = 2  # two spaces between columns
NAME_MIN, NAME_MAX = 12, 32


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int


_STATE, _SEV, _VALUE, _THRESHOLD, _ACK = (
    Column("state", "state", 8),
    Column("sev", "sev", 4),
    Column("value", "value", 11),
    Column("threshold", "threshold", 9),
    Column("ack", "acknowledged", 28),
)
_SINCE_LONG, _SINCE_SHORT = Column("since", "since", 13), Column("since", "since", 6)
# From the most to the least complete; each drops the least important column left.
_PLANS = (
    (_STATE, _SEV, None, _VALUE, _THRESHOLD, _SINCE_LONG, _ACK),
    (_STATE, None, _VALUE, _THRESHOLD, _SINCE_LONG, _ACK),
    (_STATE, None, _VALUE, _SINCE_LONG, _ACK),
    (_STATE, None, _VALUE, _SINCE_LONG),
    (_STATE, None, _VALUE, _SINCE_SHORT),
    (_STATE, None, _SINCE_SHORT),
)


def plan_columns(width: int) -> tuple[Column, ...]:
    """The columns that fit `width` cells, the alert name (None above) taking what is left."""
    for plan in _PLANS:
        used = sum(c.width + PADDING for c in plan if c is not None) + PADDING + 1
        room = width - used
        if room >= NAME_MIN or plan is _PLANS[-1]:
            name = Column("alert", "alert", max(NAME_MIN, min(NAME_MAX, room)))
            return tuple(c if c is not None else name for c in plan)
    raise AssertionError("unreachable")


def fit_name(name: str, width: int) -> str:
    """Cut a long alert name in the rule's part: `Health Endpoi… (sync)` keeps which
    endpoint it is, the one thing that tells a rule's alerts apart."""
    head, sep, tail = name.rpartition(" (")
    if len(name) <= width or not sep or not tail.endswith(")") or len(tail) + 4 > width:
        return name
    return head[: width - len(tail) - 3] + "…" + sep + tail


def since_text(row: AlertRowView, long: bool) -> Text:
    if row.since_age is None:
        return Text("")
    text = Text(row.since_age + ("*" if row.since_seen else ""))
    if long and row.since_clock:
        text.append(f" ({row.since_clock})", style="dim")
    return text


def ack_text(ack: AckView) -> Text:
    text = Text(f"by {ack.by}", style="yellow")
    if ack.until:
        text.append(f" until {ack.until}", style="yellow")
    elif ack.pending:
        text.append(" (sending…)", style="dim")
    else:
        text.append(" (local)", style="dim")
    return text


def state_cell(row: AlertRowView) -> Text:
    if not row.evaluated:  # never evaluated: not "ok", we simply do not know
        return Text("unknown", style="dim")
    if row.ack is not None and row.firing:
        return Text("ACKED", style="bold yellow")
    word = "ok" if row.state is AlertState.INACTIVE else row.state.value.upper()
    if row.state is AlertState.FIRING:
        word = " FIRING "
    text = Text(word, style=STATE_STYLE.get(row.state, ""))
    if row.blind:
        text.append(" blind", style="bold red")
    return text


def cells(row: AlertRowView, columns: tuple[Column, ...]) -> list[Text]:
    out = []
    for column in columns:
        if column.key == "state":
            out.append(state_cell(row))
        elif column.key == "sev":
            out.append(Text(row.severity[:4], style="bold" if row.severity == "critical" else ""))
        elif column.key == "alert":
            out.append(Text(fit_name(row.rule, column.width)))
        elif column.key == "value":
            value = Text(row.value)
            if row.samples is not None:
                value.append(f" n={row.samples}", style="dim")
            out.append(value)
        elif column.key == "threshold":
            out.append(Text(row.threshold, style="dim"))
        elif column.key == "since":
            out.append(since_text(row, column is _SINCE_LONG))
        else:
            out.append(ack_text(row.ack) if row.ack else Text(""))
    return out


def row_text(cells_: list[Text], columns: tuple[Column, ...]) -> Text:
    """Cells padded (or cut with an ellipsis) to their column's width, two spaces apart."""
    out = Text(" ")
    for index, (cell, column) in enumerate(zip(cells_, columns, strict=True)):
        cell = cell.copy()
        cell.truncate(column.width, overflow="ellipsis", pad=index < len(columns) - 1)
        out.append_text(cell)
        out.append("  ")
    out.rstrip()
    return out


def heading_text(columns: tuple[Column, ...]) -> Text:
    labels = [Text(c.label, style="dim") for c in columns]
    return row_text(labels, columns)


class AlertItem(ListItem):
    """One row; the list keeps one item per rule and redraws only the rows that changed."""

    def __init__(self) -> None:
        self.line = TextLine(classes="alert-row")
        super().__init__(self.line)
        self.rule: str | None = None


class AlertsTable(ViewPanel):
    """Every rule's row, the selected one (↑/↓) being what `a` acts on."""

    BORDER_TITLE = "alerts"
    alerts: var[AlertsView] = var(AlertsView, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._columns: tuple[Column, ...] = ()
        self._heading = TextLine(id="alerts-heading")
        self._list = ListView(id="alerts-list")

    def compose(self) -> ComposeResult:
        yield self._heading
        yield self._list

    def on_resize(self, event: events.Resize) -> None:
        if plan_columns(self.size.width) != self._columns:
            self.redraw()

    def watch_alerts(self) -> None:
        self.redraw()

    def selected_rule(self) -> str | None:
        item = self._list.highlighted_child
        return item.rule if isinstance(item, AlertItem) else None

    def draw(self) -> None:
        view = self.alerts
        self._columns = columns = plan_columns(self.size.width)
        self._heading.text = heading_text(columns)
        listing = self._list
        items = list(listing.query_children(AlertItem))
        wanted = max(1, len(view.rows))
        if len(items) != wanted:
            selected = self.selected_rule()
            for item in items[wanted:]:
                item.remove()
            items = items[:wanted]
            fresh = [AlertItem() for _ in range(wanted - len(items))]
            if fresh:
                listing.extend(fresh)
            items += fresh
        else:
            selected = self.selected_rule()
        if not view.rows:
            items[0].rule = None
            items[0].line.text = Text(" no rules (alerts.yaml has no alerts)", style="dim")
        for item, row in zip(items, view.rows, strict=False):
            item.rule = row.rule
            item.line.text = row_text(cells(row, columns), columns)
        keys = [row.rule for row in view.rows]
        if selected in keys:
            listing.index = keys.index(selected)
        elif listing.index is None and keys:
            listing.index = 0
        retitle(self, subtitle(view), subtitle=True)


def subtitle(view: AlertsView) -> Text:
    text = Text()
    if view.firing_unacked:
        text.append(f"{view.firing_unacked} firing", style="bold red")
    if view.firing_acked:
        text.append(f" {view.firing_acked} acked", style="yellow")
    if view.not_reevaluated:
        text.append(" not re-evaluated: the last poll failed ", style="bold yellow")
    if any(row.since_seen for row in view.rows):
        text.append(" *since first seen here", style="dim")
    return text
