"""`m`: edit the merged document, seeing what is merged. Only a JSON object leaves this screen.

Local, remote and base stand beside the editor from 120 columns; below, `ctrl+t` shows or
hides them. The title says which version the draft started from. `escape` goes back at
once — a priority binding, since the editor would otherwise take the key — and the draft
is kept for the next `m`.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static, TextArea

from syncmon.core.conflicts import Conflict
from syncmon.ui.text import clean

WIDE = 120


def parse_merged(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """(document, None) when `text` is a JSON object, else (None, the problem)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
    if not isinstance(value, dict):
        return None, f"the merged document must be a JSON object, not {type(value).__name__}"
    return value, None


def pristine(conflict: Conflict) -> str:
    """The editor's first text: the local version, as the conflict screen starts it."""
    return json.dumps(conflict.local, indent=2, ensure_ascii=False, sort_keys=True)


def pretty(document: dict[str, Any] | None) -> str:
    if document is None:
        return "(none)"
    return clean(
        json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True), single_line=False
    )


class MergeEditorScreen(Screen[tuple[str, dict[str, Any] | None]]):
    """Dismisses with (the text as edited, the parsed object); the object is None on escape."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "back (draft kept)", priority=True),
        Binding("ctrl+s", "accept", "use this document", priority=True),
        Binding("ctrl+t", "toggle_sides", "local/remote/base", priority=True),
    ]

    def __init__(self, conflict: Conflict, draft: str, started_from: str) -> None:
        super().__init__()
        self.conflict = conflict
        self._draft = draft
        self.started_from = started_from
        self._sides_wanted: bool | None = None  # None: by width

    def compose(self) -> ComposeResult:
        c = self.conflict
        yield Static(
            Text.assemble(
                ("Merge ", "bold"),
                (clean(f"{c.entity_type} {c.entity_id} · version {c.version}", limit=80), ""),
                ("  started from ", "dim"),
                (self.started_from, "bold cyan"),
            ),
            id="merge-title",
        )
        with Horizontal(id="merge-body"):
            yield TextArea(
                self._draft,
                language=None,
                id="merge-text",
                show_line_numbers=True,
                tab_behavior="indent",
            )
            with VerticalScroll(id="merge-sides"):
                for side, document in (("local", c.local), ("remote", c.remote), ("base", c.base)):
                    yield Static(Text(side, style="bold underline"), classes="side-title")
                    yield Static(Text(pretty(document)), classes="side-json")
        yield Static("", id="merge-error", classes="error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @property
    def has_unsent_draft(self) -> bool:
        """Edited away from the version it started from, and not sent (`ctrl+c` asks)."""
        return self.query_one(TextArea).text != pristine(self.conflict)

    def on_resize(self, event: events.Resize) -> None:
        self._show_sides()

    @property
    def sides_shown(self) -> bool:
        if self._sides_wanted is not None:
            return self._sides_wanted
        return self.size.width >= WIDE

    def _show_sides(self) -> None:
        self.query_one("#merge-sides").display = self.sides_shown
        self.set_class(self.size.width < WIDE, "-narrow")

    def action_toggle_sides(self) -> None:
        self._sides_wanted = not self.sides_shown
        self._show_sides()

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
