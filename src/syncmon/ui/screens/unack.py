"""`a` on an acknowledged alert: offer to take the acknowledgement back.

A shared ack is an Alertmanager silence: expiring it un-acks the alert for every dashboard
(and lets Alertmanager notify again), so the dialog says whose silence it is before
anything is sent. Dismisses with True to un-acknowledge.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from syncmon.ui.views import AckView


def ack_summary(rule: str, ack: AckView) -> Text:
    text = Text.assemble(("Un-acknowledge ", "bold"), (rule, "bold cyan"), ("?", "bold"))
    text.append(f"\nacked by {ack.by}")
    if ack.shared:
        text.append(f" until {ack.until} — an Alertmanager silence: expiring it un-acks the ")
        text.append("alert for every dashboard, and Alertmanager notifies again.")
    else:
        reason = f" ({ack.local_reason})" if ack.local_reason else ""
        text.append(f" — only in this dashboard{reason}.")
    return text


class UnackScreen(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        ("escape", "answer(False)", "keep the ack"),
        ("q", "answer(False)", "keep the ack"),
        ("n", "answer(False)", "keep the ack"),
        ("enter", "answer(True)", "un-acknowledge"),
        ("y", "answer(True)", "un-acknowledge"),
    ]

    def __init__(self, rule: str, ack: AckView) -> None:
        super().__init__()
        self._rule, self._ack = rule, ack
        self._answered = False

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Static(ack_summary(self._rule, self._ack))
            yield Static(Text("enter/y un-acknowledges · escape/n keeps it", style="dim"))

    def action_answer(self, yes: bool) -> None:
        if not self._answered:
            self._answered = True
            self.dismiss(yes)
