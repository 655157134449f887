"""`?`: every key, in one place, for someone who has not used syncmon since the last incident.

The list scrolls (↑ ↓, page up/down, end) to its last line at 80×24 whatever its length:
the title is the dialog's border title, so the scrolling part is the dialog's only child
and can take all its height.
"""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("Everywhere", ""),
    ("escape", "go back / cancel (every screen and dialog)"),
    ("q", "go back; on the dashboard: quit"),
    ("ctrl+c", "quit, from anywhere (asks first over an unsent merge draft)"),
    ("?", "this help"),
    ("ctrl+p", "command palette"),
    ("Dashboard", ""),
    ("r", "refresh now"),
    ("p", "pause / resume polling"),
    ("w", "cycle the window: 5m, 15m, 1h, 6h, 24h"),
    ("u", "filter by user id (empty clears)"),
    ("c", "open conflicts"),
    ("a", "acknowledge the selected firing alert; on an acked one: un-acknowledge"),
    ("Lists", ""),
    ("↑ ↓  j k", "select (the highlighted row is what a acts on)"),
    ("home end  g G", "first / last"),
    ("tab", "next panel: alerts, endpoints, failures"),
    ("/", "filter the focused list (alerts, endpoints, failures, conflicts) as you type;"),
    ("", "enter keeps the filter, escape clears it"),
    ("page up/down", "scroll the panels"),
    ("Alert detail, timeline, acknowledge", ""),
    ("enter", "on an alert: its detail (what changed at since); on an episode: its detail"),
    ("t", "timeline: every rule's episodes of the last 24 h (12 h either side of --at)"),
    ("a", "acknowledge (list or detail): until resolved, 1 h, 4 h or typed; a comment"),
    ("r", "on the detail or timeline: read the history again"),
    ("Conflicts", ""),
    ("r", "in the list: reload now (it also refreshes on every poll)"),
    ("enter", "show local / remote / base side by side"),
    ("l / r", "in a conflict: keep local / keep remote (the dialog lists what is lost)"),
    ("m", "merge: edit the JSON"),
    ("Merge editor", ""),
    ("ctrl+s", "use this document (validated, then confirm)"),
    ("ctrl+t", "show / hide local, remote and base (always shown from 120 columns)"),
    ("escape", "back to the conflict; your draft is kept"),
    ("Dialogs", ""),
    ("enter / escape", "confirm / cancel"),
)
LEGEND = (
    "Stale data is marked STALE with its age and the reason. Since: age (clock time); "
    "≥ means at least (the search went back as far as it looks); * means first seen by this "
    "dashboard (endpoint rules have no history). States are words, so NO_COLOR reads the same."
)


def keys_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column()
    for key, what in KEYS:
        if not key:  # the line goes on
            table.add_row("", Text(what))
        elif not what:
            table.add_row(Text(key, style="bold underline"), "")
        else:
            table.add_row(Text(key, style="bold"), Text(what))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        ("escape", "close", "close"),
        ("question_mark", "close", "close"),
        ("q", "close", "close"),
    ]

    def compose(self) -> ComposeResult:
        dialog = Vertical(id="help-dialog", classes="dialog")
        dialog.border_title = "syncmon keys  (↑ ↓ scroll · escape closes)"
        with dialog, VerticalScroll(id="help-keys"):
            yield Static(keys_table())
            yield Static(Text(LEGEND, style="dim"), id="help-legend")

    def on_mount(self) -> None:
        self.query_one("#help-keys", VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)
