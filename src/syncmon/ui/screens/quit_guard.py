"""`ctrl+c` quits from anywhere — but not silently over a merge draft nobody sent.

A merged document typed at 3 a.m. is work: when a merge editor (open, or kept behind its
conflict's screen) holds a draft that differs from where it started and was not sent,
`ctrl+c` asks first. `enter`/`y` (or `ctrl+c` again) quits, `escape`/`n` keeps working.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Static, TextArea

from syncmon.core.conflicts import Conflict
from syncmon.core.conflicts import OutcomeKind as Kind
from syncmon.ui.screens.conflict_detail import ConflictDetailScreen
from syncmon.ui.screens.merge import MergeEditorScreen
from syncmon.ui.text import clean

_CLOSED = (Kind.RESOLVED, Kind.ALREADY_RESOLVED, Kind.NOT_FOUND)


def _start(conflict: Conflict) -> str:
    """The text a merge starts from (the conflict screen's first draft: local)."""
    return json.dumps(conflict.local, indent=2, ensure_ascii=False, sort_keys=True)


def unsent_drafts(stack: Iterable[Screen[Any]]) -> list[str]:
    """The conflicts whose merge draft was edited and not sent, named for the dialog."""
    found: dict[str, str] = {}
    for screen in stack:
        text: str | None = None
        if isinstance(screen, MergeEditorScreen):
            text = screen.query_one(TextArea).text
        elif isinstance(screen, ConflictDetailScreen):
            if screen.outcome is not None and screen.outcome.kind in _CLOSED:
                continue
            text = screen.merged_text
        else:
            continue
        conflict = screen.conflict
        if text != _start(conflict):
            name = clean(f"{conflict.entity_type} {conflict.entity_id}", limit=60)
            found[conflict.id] = name
    return list(found.values())


class QuitDialog(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        ("escape", "answer(False)", "keep working"),
        ("n", "answer(False)", "keep working"),
        ("enter", "answer(True)", "quit"),
        ("y", "answer(True)", "quit"),
    ]

    def __init__(self, drafts: list[str]) -> None:
        super().__init__()
        self._drafts = drafts

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-dialog", classes="dialog"):
            yield Static(
                Text.assemble(
                    ("Quit and lose your unsent merge draft?", "bold"),
                    "\n" + "\n".join(f"  {name}" for name in self._drafts),
                )
            )
            yield Static(
                Text("enter/y quits (so does ctrl+c again) · escape/n keeps working", style="dim")
            )

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
