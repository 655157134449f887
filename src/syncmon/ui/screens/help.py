"""`?`: every key, in one place, for someone who has not used syncmon since the last incident."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("Dashboard", ""),
    ("q", "quit"),
    ("r", "refresh now"),
    ("p", "pause / resume polling"),
    ("w", "cycle the window: 5m, 15m, 1h, 6h, 24h"),
    ("u", "filter by user id (empty clears)"),
    ("c", "open conflicts"),
    ("a", "acknowledge the selected firing alert"),
    ("↑ ↓ / tab", "select an alert / move between panels"),
    ("ctrl+p", "command palette"),
    ("Conflicts", ""),
    ("enter", "show local / remote / base side by side"),
    ("l / r / m", "keep local / keep remote / merge (edit JSON)"),
    ("enter / escape", "confirm / cancel a dialog"),
    ("escape", "go back"),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        ("escape", "dismiss", "close"),
        ("question_mark", "dismiss", "close"),
        ("q", "dismiss", "close"),
    ]

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True)
        table.add_column()
        for key, what in KEYS:
            if not what:
                table.add_row(Text(key, style="bold underline"), "")
            else:
                table.add_row(Text(key, style="bold"), what)
        with Vertical(id="dialog", classes="dialog"):
            yield Static(Text("syncmon keys", style="bold"))
            yield Static(table)
            yield Static(
                Text(
                    "Stale data is marked STALE with its age; states are always "
                    "words, so NO_COLOR reads the same. escape closes.",
                    style="dim",
                )
            )

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)
