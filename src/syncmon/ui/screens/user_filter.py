"""`u`: ask for a user id to filter by; empty clears. Returns None when cancelled."""

from __future__ import annotations

import uuid
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class UserFilterScreen(ModalScreen[str | None]):
    """Dismisses with a canonical UUID string, "" to clear the filter, or None to cancel."""

    BINDINGS: ClassVar[list[BindingType]] = [
        ("escape", "cancel", "cancel"),
    ]

    def __init__(self, current: str | None) -> None:
        super().__init__()
        self._current = current or ""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Static(Text("Filter by user id", style="bold"))
            yield Static(
                Text("A UUID. Leave empty to show every user. Alerts stay fleet-wide.", style="dim")
            )
            yield Input(value=self._current, placeholder="e.g. 3f0c…-…", id="user-input")
            yield Static("", id="user-error", classes="error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if not value:
            self.dismiss("")
            return
        try:
            self.dismiss(str(uuid.UUID(value)))
        except ValueError:
            self.query_one("#user-error", Static).update(
                Text("not a UUID (expected 8-4-4-4-12 hex digits)", style="bold red")
            )

    def action_cancel(self) -> None:
        self.dismiss(None)
