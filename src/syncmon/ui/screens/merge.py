"""`m`: edit the merged document. Only a JSON object leaves this dialog; errors show inline."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea


def parse_merged(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """(document, None) when `text` is a JSON object, else (None, the problem)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
    if not isinstance(value, dict):
        return None, f"the merged document must be a JSON object, not {type(value).__name__}"
    return value, None


class MergeEditorScreen(ModalScreen[tuple[str, dict[str, Any] | None]]):
    """Dismisses with (the text as edited, the parsed object); the object is None on escape,
    and the text is kept either way so nothing typed is lost."""

    BINDINGS: ClassVar[list[BindingType]] = [
        ("escape", "cancel", "cancel"),
        ("ctrl+s", "accept", "use this document"),
    ]

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="merge-dialog", classes="dialog"):
            yield Static(
                Text.assemble(
                    ("Merged document", "bold"),
                    ("  ctrl+s: continue to confirm · escape: back (your edits are kept)", "dim"),
                )
            )
            yield TextArea(
                self._text,
                language=None,
                id="merge-text",
                show_line_numbers=True,
                tab_behavior="indent",
            )
            yield Static("", id="merge-error", classes="error")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_accept(self) -> None:
        text = self.query_one(TextArea).text
        document, problem = parse_merged(text)
        if problem is not None:
            self.query_one("#merge-error", Static).update(Text(problem, style="bold red"))
            return
        assert document is not None
        self.dismiss((text, document))

    def action_cancel(self) -> None:
        self.dismiss((self.query_one(TextArea).text, None))
