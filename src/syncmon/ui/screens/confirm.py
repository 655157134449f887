"""The last step before the only write syncmon makes: name the choice, show what it throws
away, take a note.

`enter` confirms exactly once (a second `enter` arriving before the dialog is gone is
ignored), `escape` cancels. Dismisses with the note (possibly empty) or None. The list of
discarded fields scrolls, so the dialog fits at 80×24 however many there are.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from syncmon.core.conflicts import Discarded
from syncmon.core.text import plural
from syncmon.ui.text import clean, json_text, safe


def discarded_text(side: str, fields: list[Discarded]) -> Text:
    if not fields:
        return Text(f"nothing is discarded: {side} has no field that differs", style="green")
    text = Text(f"discards {plural(len(fields), 'field')} of {side}:", style="bold")
    for field in fields:
        text.append("\n  ")
        text.append(clean(field.key, limit=40), style="bold")
        text.append(": ")
        text.append(json_text(field.lost, limit=60), style="red")
        kept = "absent" if field.kept_missing else json_text(field.kept, limit=40)
        text.append(f"  (kept: {kept})", style="dim")
    return text


class ConfirmResolutionScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        ("escape", "cancel", "cancel"),
        ("enter", "confirm", "confirm"),
    ]

    def __init__(
        self,
        choice: str,
        conflict_label: str,
        note: str = "",
        detail: str | None = None,
        discarded: Text | None = None,
    ) -> None:
        super().__init__()
        self._choice, self._label, self._note, self._detail = choice, conflict_label, note, detail
        self._discarded = discarded
        self._answered = False

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog confirm"):
            yield Static(Text.assemble(("Resolve: ", "bold"), (self._choice.upper(), "bold cyan")))
            yield Static(safe(self._label, limit=200))
            if self._detail or self._discarded:
                with VerticalScroll(id="confirm-detail"):
                    if self._discarded is not None:
                        yield Static(self._discarded, id="discarded")
                    if self._detail:
                        yield Static(safe(self._detail, "dim", limit=300))
            yield Input(value=self._note, placeholder="optional note (why)", id="note")
            yield Static(Text("enter confirms and sends · escape cancels", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#note", Input).focus()

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
