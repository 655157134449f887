"""The last step before the only write syncmon makes: name the choice, take a note.

`enter` confirms exactly once (a second `enter` arriving before the dialog is gone is
ignored), `escape` cancels. Dismisses with the note (possibly empty) or None.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from syncmon.ui.text import safe


class ConfirmResolutionScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        ("escape", "cancel", "cancel"),
        ("enter", "confirm", "confirm"),
    ]

    def __init__(
        self, choice: str, conflict_label: str, note: str = "", detail: str | None = None
    ) -> None:
        super().__init__()
        self._choice, self._label, self._note, self._detail = choice, conflict_label, note, detail
        self._answered = False

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog confirm"):
            yield Static(Text.assemble(("Resolve: ", "bold"), (self._choice.upper(), "bold cyan")))
            yield Static(safe(self._label, limit=200))
            if self._detail:
                yield Static(safe(self._detail, "dim", limit=300))
            yield Input(value=self._note, placeholder="optional note (why)", id="note")
            yield Static(Text("enter confirms and sends · escape cancels", style="dim"))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    def action_confirm(self) -> None:
        if self._answered:
            return
        self._answered = True
        self.dismiss(self.query_one("#note", Input).value.strip())

    def action_cancel(self) -> None:
        if self._answered:
            return
        self._answered = True
        self.dismiss(None)
