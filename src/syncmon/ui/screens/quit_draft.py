"""`ctrl+c` in the merge editor with a draft not sent: ask before throwing it away.

`ctrl+c` quits from anywhere, at once — except here, where quitting would silently lose a
merged document someone spent minutes on. Dismisses with True to quit anyway.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class QuitDraftScreen(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "answer(False)", "keep editing"),
        Binding("n", "answer(False)", "keep editing"),
        Binding("enter", "answer(True)", "quit"),
        Binding("y", "answer(True)", "quit"),
        # a second ctrl+c means it: quit (the app's own binding would ask again)
        Binding("ctrl+c", "answer(True)", "quit", show=False, priority=True),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-dialog", classes="dialog"):
            yield Static(Text("Quit syncmon? The merge draft has not been sent.", style="bold"))
            yield Static(Text("It is lost when syncmon quits; escape keeps editing it."))
            yield Static(Text("enter/y/ctrl+c quits · escape/n goes back to the draft"))

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
