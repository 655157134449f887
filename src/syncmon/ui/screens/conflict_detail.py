"""One conflict: local / remote / base side by side, and the three ways to resolve it.

Nothing the engineer chose is lost to a failed request: the choice, the note and the
merged document stay here, and pressing the same key retries. A POST is sent once per
confirmation, never while another one is in flight. The app sends it (this screen posts
`ResolveRequested`), so leaving the screen never cancels a resolution on its way.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from syncmon.core.conflicts import (
    Conflict,
    OutcomeKind,
    Resolution,
    ResolveOutcome,
    ResolveRequest,
    diff_documents,
    discarded_fields,
)
from syncmon.ui.messages import ResolveRequested
from syncmon.ui.screens.confirm import ConfirmResolutionScreen, discarded_text
from syncmon.ui.screens.merge import MergeEditorScreen, pristine
from syncmon.ui.text import clean, json_text, safe

CHOICE_WORDS = {
    Resolution.KEEP_LOCAL: "keep local",
    Resolution.KEEP_REMOTE: "keep remote",
    Resolution.MERGE: "merge",
}
_CLOSED = (OutcomeKind.RESOLVED, OutcomeKind.ALREADY_RESOLVED, OutcomeKind.NOT_FOUND)


class ConflictDetailScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        ("l", "keep_local", "keep local"),
        ("r", "keep_remote", "keep remote"),
        ("m", "merge", "merge…"),
        ("escape", "back", "back"),
        ("q", "back", "back"),
    ]

    def __init__(self, conflict: Conflict, resolved_by: str) -> None:
        super().__init__()
        self.conflict = conflict
        self.resolved_by = resolved_by
        self.note = ""
        self.choice: Resolution | None = None
        self.merged_text = pristine(conflict)
        self.draft_from = "local"  # what the merge editor says it started from
        self.merged: dict[str, Any] | None = None
        self.sending = False
        self.outcome: ResolveOutcome | None = None
        self.posts = 0  # requests sent from this screen (tests assert on it)
        self.request: ResolveRequest | None = None  # the one in flight, or the last sent

    @property
    def label(self) -> str:
        c = self.conflict
        return f"{c.entity_type} {c.entity_id} · user {c.user_id} · version {c.version}"

    def compose(self) -> ComposeResult:
        yield Static(
            Text.assemble(("Conflict ", "bold"), safe(self.label, limit=160)), id="detail-title"
        )
        yield DataTable(id="diff-table", cursor_type="row")
        yield Static("", id="diff-full")
        yield Static(
            Text("l keep local · r keep remote · m merge · escape back", style="dim"), id="outcome"
        )
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label in ("", "field", "local", "remote", "base"):
            table.add_column(label, key=label or "mark")
        for row in diff_documents(self.conflict.local, self.conflict.remote, self.conflict.base):
            hot = "bold yellow" if row.differs else ""
            table.add_row(
                Text("≠" if row.differs else " ", style="bold red"),
                safe(row.key, "bold" if row.differs else "", limit=30),
                Text(json_text(row.local, limit=60), style=hot),
                Text(json_text(row.remote, limit=60), style=hot),
                Text(json_text(row.base, limit=60), style="dim"),
                key=row.key,
            )
        table.focus()
        self._show_full(0)

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_full(event.cursor_row)

    def _show_full(self, index: int) -> None:
        rows = diff_documents(self.conflict.local, self.conflict.remote, self.conflict.base)
        if not 0 <= index < len(rows):
            return
        row = rows[index]
        text = Text()
        for side, value in (("local ", row.local), ("remote", row.remote), ("base  ", row.base)):
            text.append(f"{side} ", style="dim")
            text.append(json_text(value, limit=400))
            text.append("\n")
        self.query_one("#diff-full", Static).update(text)

    # --- resolving ---------------------------------------------------------------------
    def action_keep_local(self) -> None:
        self._confirm(Resolution.KEEP_LOCAL)

    def action_keep_remote(self) -> None:
        self._confirm(Resolution.KEEP_REMOTE)

    def action_merge(self) -> None:
        if self._refuse():
            return

        def edited(result: tuple[str, dict[str, Any] | None] | None) -> None:
            if result is None:
                return
            text, document = result
            if text != self.merged_text:
                self.merged_text, self.draft_from = text, "your draft (from local)"
            if document is not None:
                self.merged = document
                self._confirm(Resolution.MERGE)

        self.app.push_screen(
            MergeEditorScreen(self.conflict, self.merged_text, self.draft_from), edited
        )

    def _refuse(self) -> bool:
        if self.sending:
            self.notify("a resolution is being sent; wait for its answer", severity="warning")
            return True
        if self.outcome is not None and self.outcome.kind in _CLOSED:
            self.notify("this conflict is closed; escape goes back to the list", severity="warning")
            return True
        return False

    def _confirm(self, choice: Resolution) -> None:
        if self._refuse():
            return
        detail = None
        discarded = None
        if choice is Resolution.MERGE:
            detail = "merged: " + json_text(self.merged, limit=200)
        else:
            side = "remote" if choice is Resolution.KEEP_LOCAL else "local"
            discarded = discarded_text(side, discarded_fields(self.conflict, choice))

        def answered(note: str | None) -> None:
            if note is None or self.sending:
                return
            self.note, self.choice = note, choice
            self.sending = True
            self._status(Text(f"sending {CHOICE_WORDS[choice]}…", style="bold yellow"))
            self.send(choice, note, self.merged if choice is Resolution.MERGE else None)

        self.app.push_screen(
            ConfirmResolutionScreen(CHOICE_WORDS[choice], self.label, self.note, detail, discarded),
            answered,
        )

    def send(self, choice: Resolution, note: str, merged: dict[str, Any] | None) -> None:
        """Ask the app to send it (its worker outlives this screen); `answered` shows the end."""
        self.posts += 1
        self.request = ResolveRequest(self.conflict, choice, note, merged)
        self.post_message(ResolveRequested(self.request))

    def answered(self, request: ResolveRequest, outcome: ResolveOutcome) -> None:
        """The API answered the request this screen sent."""
        if request is not self.request:
            return
        self.sending = False
        self.outcome = outcome
        self._show_outcome(request.resolution, outcome)

    def _show_outcome(self, choice: Resolution, outcome: ResolveOutcome) -> None:
        word = CHOICE_WORDS[choice]
        message = clean(outcome.message, limit=300)
        if outcome.kind is OutcomeKind.RESOLVED:
            self._status(
                Text.assemble(
                    (" RESOLVED ", "bold reverse green"),
                    f" {word} by {clean(self.resolved_by)} · escape: back to the list",
                )
            )
            self.notify(f"conflict resolved: {word}", markup=False)
        elif outcome.kind is OutcomeKind.ALREADY_RESOLVED:
            self._status(
                Text.assemble(
                    (" NOT APPLIED ", "bold reverse yellow"),
                    " ",
                    (message, "yellow"),
                    " · escape: back",
                )
            )
        elif outcome.kind is OutcomeKind.NOT_FOUND:
            self._status(Text.assemble((" GONE ", "bold reverse yellow"), " ", message))
        else:
            key = {Resolution.KEEP_LOCAL: "l", Resolution.KEEP_REMOTE: "r", Resolution.MERGE: "m"}[
                choice
            ]
            self._status(
                Text.assemble(
                    (" NOT RESOLVED ", "bold reverse red"),
                    " ",
                    (message, "red"),
                    f"\nyour choice ({word}"
                    + (", merged document" if choice is Resolution.MERGE else "")
                    + (f", note {clean(self.note, limit=40)!r}" if self.note else "")
                    + f") is kept: press {key} to try again",
                )
            )

    def _status(self, text: Text) -> None:
        self.query_one("#outcome", Static).update(text)

    def action_back(self) -> None:
        self.dismiss(None)
