"""Every rule with its state, firing first; the selected row is what `a` acknowledges."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from rich.text import Text
from textual.widgets import DataTable

from syncmon.core.alerts import AlertState, AlertTracker
from syncmon.core.episodes import since_age
from syncmon.core.metrics import format_value
from syncmon.ui.acks import Acknowledgements
from syncmon.ui.text import age, safe

STATE_STYLE = {
    AlertState.FIRING: "bold white on red",
    AlertState.ERROR: "bold red",
    AlertState.PENDING: "bold yellow",
    AlertState.NODATA: "dim",
    AlertState.RESOLVED: "green",
    AlertState.INACTIVE: "green",
}
_ORDER = {
    AlertState.FIRING: 0,
    AlertState.ERROR: 2,
    AlertState.PENDING: 3,
    AlertState.NODATA: 4,
    AlertState.RESOLVED: 5,
    AlertState.INACTIVE: 6,
}


def sort_key(tracker: AlertTracker, acks: Acknowledgements) -> tuple[int, str]:
    rank = _ORDER.get(tracker.state, 9)
    if tracker.state is AlertState.FIRING and tracker.rule.name in acks:
        rank = 1
    return rank, tracker.rule.name


def state_cell(tracker: AlertTracker, acks: Acknowledgements) -> Text:
    ack = acks.get(tracker.rule.name)
    if tracker.observation is None:  # never evaluated: not "ok", we simply do not know
        return Text("unknown", style="dim")
    word = tracker.state.value.upper()
    if tracker.state is AlertState.INACTIVE:
        word = "ok"
    if ack is not None:
        # only firing alerts carry an ack, so the word alone says both (and stays narrow)
        return Text.assemble(("acked by ", "yellow"), safe(ack.by, "yellow", limit=12))
    text = Text(
        f" {word} " if tracker.state is AlertState.FIRING else word,
        style=STATE_STYLE.get(tracker.state, ""),
    )
    if tracker.state is AlertState.FIRING and tracker.error:
        text.append(" (blind)", style="bold red")
    return text


class AlertsTable(DataTable[Text]):
    """Rows keyed by rule name so the cursor stays on the same alert across refreshes."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = False
        for label, key in (
            ("state", "state"),
            ("sev", "sev"),
            ("alert", "alert"),
            ("value", "value"),
            ("threshold", "threshold"),
            ("since", "since"),
        ):
            self.add_column(label, key=key)

    def selected_rule(self) -> str | None:
        if not self.row_count:
            return None
        key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return key.value

    def show(self, trackers: Iterable[AlertTracker], acks: Acknowledgements, now: datetime) -> None:
        selected = self.selected_rule()
        self.clear()
        rows = sorted(trackers, key=lambda t: sort_key(t, acks))
        for tracker in rows:
            obs = tracker.observation
            rule = tracker.rule
            if obs is None:
                value, threshold = Text("—", style="dim"), Text("")
            else:
                value = Text("—" if obs.value is None else format_value(obs.value, obs.unit))
                if tracker.state is AlertState.NODATA:
                    value.append(f" n={obs.samples}", style="dim")
                threshold = Text(format_value(obs.threshold, obs.unit), style="dim")
            if tracker.since_info is not None:  # pending/firing: since its condition held
                since = Text(since_age(tracker.since_info, now))
                if tracker.since_seen:
                    since.append("*", style="dim")
            else:
                since = Text(
                    age(now - tracker.state_since) if tracker.state_since else "—", style="dim"
                )
            self.add_row(
                state_cell(tracker, acks),
                Text(
                    rule.severity.value[:4],
                    style="bold" if rule.severity.value == "critical" else "",
                ),
                safe(rule.name, limit=26),
                value,
                threshold,
                since,
                key=rule.name,
            )
        if selected is not None:
            for index, tracker in enumerate(rows):
                if tracker.rule.name == selected:
                    self.move_cursor(row=index, animate=False)
                    break
        if not rows:
            self.add_row(
                Text("no rules", style="dim"),
                Text(""),
                Text("(alerts.yaml has no alerts)", style="dim"),
                Text(""),
                Text(""),
                Text(""),
                key="-none",
            )
