"""Every rule with its state, firing first; the selected row is what `a` acknowledges.

Columns give way by importance when the table is narrow: a column with nothing in it
first (no one acknowledged anything: no "acknowledged" column), then severity, threshold,
who acknowledged and the clock time of "since", so that the alert name keeps its length;
only then is the name cut, and after it the value. The "since" age and the state never
give way, and the state column is as wide as its longest word ("FIRING blind").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import var
from textual.widgets import ListItem, ListView

from syncmon.ui.panels.badges import STATE_WIDTH, alert_word
from syncmon.ui.panels.text_line import TextLine, ViewPanel, filter_line, retitle
from syncmon.ui.views import AckView, AlertRowView, AlertsView

PADDING = 2  # two spaces between columns
NAME_MIN, NAME_MAX = 12, 40


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int


_STATE, _SEV, _VALUE, _THRESHOLD, _ACK = (
    Column("state", "state", STATE_WIDTH),
    Column("sev", "sev", 4),
    Column("value", "value", 11),
    Column("threshold", "threshold", 9),
    Column("ack", "acknowledged", 28),
)
_SINCE_LONG, _SINCE_SHORT = Column("since", "since", 13), Column("since", "since", 6)
_FULL = (_STATE, _SEV, None, _VALUE, _THRESHOLD, _SINCE_LONG, _ACK)  # None: the name
# What gives way, in order, while the name does not fit at its length: (column, replacement).
_YIELDS: tuple[tuple[Column, Column | None], ...] = (
    (_SEV, None),
    (_THRESHOLD, None),
    (_ACK, None),
    (_SINCE_LONG, _SINCE_SHORT),
)


def _empty(column: Column, rows: Sequence[AlertRowView]) -> bool:
    if not rows:  # nothing to show yet: lay out every column
        return False
    if column is _ACK:
        return not any(row.ack for row in rows)
    if column is _THRESHOLD:
        return not any(row.threshold for row in rows)
    return False


def _used(plan: Sequence[Column | None]) -> int:
    return sum(c.width + PADDING for c in plan if c is not None) + PADDING + 1


def plan_columns(width: int, rows: Sequence[AlertRowView] = ()) -> tuple[Column, ...]:
    """The columns that fit `width` cells for `rows`, the alert name taking what is left."""
    natural = min(NAME_MAX, max([len("alert"), *(len(row.rule) for row in rows)]))
    plan: list[Column | None] = [c for c in _FULL if c is None or not _empty(c, rows)]
    for column, replacement in _YIELDS:
        if width - _used(plan) >= natural:
            break
        if column in plan:
            index = plan.index(column)
            if replacement is None:
                del plan[index]
            else:
                plan[index] = replacement
    if width - _used(plan) < NAME_MIN and _VALUE in plan:  # the name before the value
        plan.remove(_VALUE)
    room = width - _used(plan)
    name = Column("alert", "alert", max(NAME_MIN, min(natural, room)))
    return tuple(c if c is not None else name for c in plan)


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
        text.append(f" ({row.since_clock})")
    return text


def ack_text(ack: AckView) -> Text:
    text = Text(f"by {ack.by}")
    if ack.until:
        text.append(f" until {ack.until}")
    elif ack.pending:
        text.append(" (sending…)", style="italic")
    else:
        text.append(" (local)", style="italic")
    return text


def state_cell(row: AlertRowView) -> Text:
    return alert_word(
        row.state, acked=row.ack is not None, blind=row.blind, evaluated=row.evaluated
    )


def cells(row: AlertRowView, columns: tuple[Column, ...]) -> list[Text]:
    out = []
    for column in columns:
        if column.key == "state":
            out.append(state_cell(row))
        elif column.key == "sev":
            out.append(Text(row.severity[:4], style="bold" if row.severity == "critical" else ""))
        elif column.key == "alert":
            out.append(
                Text(
                    fit_name(row.rule, column.width),
                    style="bold" if row.firing and not row.ack else "",
                )
            )
        elif column.key == "value":
            value = Text(row.value)
            if row.samples is not None:
                value.append(f" n={row.samples}")
            out.append(value)
        elif column.key == "threshold":
            out.append(Text(row.threshold))
        elif column.key == "since":
            out.append(since_text(row, column is _SINCE_LONG))
        else:
            out.append(ack_text(row.ack) if row.ack else Text(""))
    return out


def row_text(cells_: list[Text], columns: tuple[Column, ...]) -> Text:
    """Cells padded (or cut with an ellipsis) to their column's width, two spaces apart.
    The state badge is padded with plain spaces, so its background ends with the word."""
    out = Text(" ")
    for index, (cell, column) in enumerate(zip(cells_, columns, strict=True)):
        cell = cell.copy()
        cell.truncate(column.width, overflow="ellipsis")
        last = index == len(columns) - 1
        out.append_text(cell)
        if not last:
            out.append(" " * (column.width - cell.cell_len + PADDING))
    out.rstrip()
    return out


def heading_text(columns: tuple[Column, ...]) -> Text:
    labels = [Text(c.label, style="bold") for c in columns]
    return row_text(labels, columns)


class AlertItem(ListItem):
    """One row; the list keeps one item per rule and redraws only the rows that changed."""

    def __init__(self) -> None:
        self.line = TextLine(classes="alert-row")
        super().__init__(self.line)
        self.rule: str | None = None


class AlertsList(ListView):
    """The rows, moved through with the arrows, home/end, or j/k and g/G."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "down", show=False),
        Binding("k", "cursor_up", "up", show=False),
        Binding("g", "first", "first", show=False),
        Binding("G", "last", "last", show=False),
        Binding("home", "first", "first", show=False),
        Binding("end", "last", "last", show=False),
    ]

    def action_first(self) -> None:
        if self.children:
            self.index = 0

    def action_last(self) -> None:
        if self.children:
            self.index = len(self.children) - 1


class AlertsTable(ViewPanel):
    """Every rule's row, the selected one (↑/↓) being what `a` acts on."""

    BORDER_TITLE = "alerts"
    alerts: var[AlertsView] = var(AlertsView, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._columns: tuple[Column, ...] = ()
        self._heading = TextLine(id="alerts-heading")
        self._list = AlertsList(id="alerts-list")
        self._filter = TextLine(id="alerts-filter", classes="filter-line")

    def compose(self) -> ComposeResult:
        yield self._heading
        yield self._list
        yield self._filter

    def on_resize(self, event: events.Resize) -> None:
        self.redraw()  # rows are padded to the width: the selected one reverses all of it

    def watch_alerts(self) -> None:
        self.redraw()

    def selected_rule(self) -> str | None:
        item = self._list.highlighted_child
        return item.rule if isinstance(item, AlertItem) else None

    def draw(self) -> None:
        view = self.alerts
        self._columns = columns = plan_columns(self.size.width, view.rows)
        self._heading.text = heading_text(columns)
        listing = self._list
        items = list(listing.query_children(AlertItem))
        wanted = max(1, len(view.rows))
        selected = self.selected_rule()
        if len(items) != wanted:
            for item in items[wanted:]:
                item.remove()
            items = items[:wanted]
            fresh = [AlertItem() for _ in range(wanted - len(items))]
            if fresh:
                listing.extend(fresh)
            items += fresh
        if not view.rows:
            items[0].rule = None
            empty = "no alert matches the filter" if view.filter else "no rules in the config"
            items[0].line.text = Text(f" {empty}", style="italic")
        room = max(0, listing.size.width - 1)  # a reversed bar across the row, not its text
        for item, row in zip(items, view.rows, strict=False):
            item.rule = row.rule
            line = row_text(cells(row, columns), columns)
            line.pad_right(room - line.cell_len)
            item.line.text = line
        keys = [row.rule for row in view.rows]
        if selected in keys:
            listing.index = keys.index(selected)
        elif keys and (listing.index is None or listing.index >= len(keys)):
            listing.index = 0
        filter_line(self._filter, view.filter)
        retitle(self, subtitle(view), subtitle=True)


def subtitle(view: AlertsView) -> Text:
    text = Text()
    if view.firing_unacked:
        text.append(f"{view.firing_unacked} firing", style="bold")
    if view.firing_acked:
        text.append(f" {view.firing_acked} acked")
    if view.not_reevaluated:
        text.append(" not re-evaluated: the last poll failed ", style="bold")
    if any(row.since_seen for row in view.rows):
        text.append(" *since first seen here")
    return text
