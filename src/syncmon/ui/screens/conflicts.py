"""`c`: the open conflicts, oldest first; `enter` opens one.

The list is live: the app hands it every poll's answer, so new conflicts appear, and one
resolved elsewhere (another dashboard, the API) stays one poll longer marked "resolved
elsewhere", then leaves. `/` narrows it as you type. Under `--at` the title says these are
today's conflicts: the API has no history.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from syncmon.core.clock import Clock
from syncmon.core.conflicts import Conflict
from syncmon.sources.conflicts import ConflictList
from syncmon.ui.messages import ConflictsWanted
from syncmon.ui.screens.conflict_detail import ConflictDetailScreen
from syncmon.ui.text import age, matches, safe, short_time


class ConflictsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "back"),
        Binding("q", "back", "back"),
        Binding("r", "reload", "reload"),
        Binding("enter", "open", "open"),
        Binding("slash", "open_filter", "filter", key_display="/"),
        Binding("j", "move(1)", "down", show=False),
        Binding("k", "move(-1)", "up", show=False),
        Binding("g,home", "move_to(0)", "first", show=False),
        Binding("G,end", "move_to(-1)", "last", show=False),
    ]

    def __init__(
        self,
        resolved_by: str,
        clock: Clock,
        *,
        ours: set[str] | None = None,
        at_time: bool = False,
    ) -> None:
        super().__init__()
        self.resolved_by = resolved_by
        self._clock = clock
        self._conflicts: dict[str, Conflict] = {}
        self._leaving: dict[str, Conflict] = {}  # resolved elsewhere: shown one poll, marked
        self._ours = set() if ours is None else ours  # resolved by this app: not "elsewhere"
        self._loaded_at: datetime | None = None
        self._last: ConflictList | None = None
        self._at_time = at_time
        self.filter_text = ""

    def compose(self) -> ComposeResult:
        title = Text("Open conflicts (oldest first)", style="bold")
        if self._at_time:
            title.append("  now, not at --at: the API has no history", style="bold")
        yield Static(title, id="conflicts-title")
        yield Static(Text("loading…", style="dim"), id="conflicts-status")
        yield DataTable(id="conflicts-table", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in (("age", 7), ("user", 36), ("entity", 40), ("ver", 4), ("detected", 8)):
            table.add_column(label, key=label, width=width)
        table.focus()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.query_one("#conflicts-status", Static).update(Text("loading…", style="dim"))
        self.load()

    def load(self) -> None:
        """Ask the app for a fresh list: it reads the API and calls `show` with the answer."""
        self.post_message(ConflictsWanted())

    def show(self, result: ConflictList) -> None:
        """A fresh answer (from `r`, or from the app's poll): redraw the list from it."""
        if not self.is_mounted:
            return
        status = self.query_one("#conflicts-status", Static)
        now = self._clock()
        if result.error is not None:
            since = f" (list from {age(now - self._loaded_at)} ago)" if self._loaded_at else ""
            status.update(
                Text.assemble(
                    ("STALE ", "bold reverse yellow"),
                    safe(result.error, "yellow", limit=200),
                    since,
                )
            )
            return
        if result is not self._last:  # the same answer redrawn (a filter) is not news
            current = {c.id: c for c in result.conflicts}
            self._leaving = {
                i: c for i, c in self._conflicts.items() if i not in current and i not in self._ours
            }
            self._conflicts, self._last, self._loaded_at = current, result, now
        self._fill(now)
        shown = [c for c in result.conflicts if self._matches(c)]
        skipped = f", {result.skipped} malformed left out" if result.skipped else ""
        gone = f", {len(self._leaving)} resolved elsewhere" if self._leaving else ""
        text = Text(f"{len(result.conflicts)} open{skipped}{gone}", style="bold")
        if self.filter_text:
            text.append(f" · filter: {self.filter_text} ({len(shown)} of {len(result.conflicts)})")
        text.append(" · enter: open · /: filter · r: reload · escape: back")
        status.update(text)

    def _matches(self, conflict: Conflict) -> bool:
        fields = (conflict.user_id, conflict.entity_type, conflict.entity_id, conflict.id)
        return matches(self.filter_text, *map(str, fields))

    def _fill(self, now: datetime) -> None:
        table = self.query_one(DataTable)
        selected = None
        if table.row_count:
            selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        table.clear()
        rows = [(c, False) for c in self._conflicts.values()]
        rows += [(c, True) for c in self._leaving.values()]
        keys = []
        for conflict, gone in rows:
            if not self._matches(conflict):
                continue
            detected = conflict.detected_at
            entity = safe(f"{conflict.entity_type} {conflict.entity_id}", limit=40)
            if gone:  # marked for one poll, then it leaves
                entity = Text.assemble(("resolved elsewhere ", "bold"), entity)
            table.add_row(
                Text("—" if gone else "?" if detected is None else age(now - detected)),
                safe(conflict.user_id, "strike" if gone else "", limit=36),
                entity,
                Text(str(conflict.version)),
                Text(short_time(detected)),
                key=conflict.id,
            )
            keys.append(conflict.id)
        if selected in keys:
            table.move_cursor(row=keys.index(selected), animate=False)

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        conflict = self._conflicts.get(key or "")
        if conflict is not None:
            self.app.push_screen(ConflictDetailScreen(conflict, self.resolved_by))
        elif key in self._leaving:
            self.notify("resolved elsewhere: nothing left to resolve", markup=False)

    def action_move(self, step: int) -> None:
        table = self.query_one(DataTable)
        table.action_cursor_down() if step > 0 else table.action_cursor_up()

    def action_move_to(self, row: int) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            table.move_cursor(row=row if row >= 0 else table.row_count - 1, animate=False)

    # --- `/` -----------------------------------------------------------------------------
    def action_open_filter(self) -> None:
        if self.query("#filter"):
            return
        box = Input(
            self.filter_text,
            placeholder="filter conflicts: user, entity, id; enter keeps, escape clears",
            id="filter",
        )
        self.mount(box, before=self.query_one(Footer))
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            event.stop()
            self.filter_text = event.value.strip()
            if self._last is not None:
                self.show(self._last)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            event.stop()
            self._close_filter()

    def _close_filter(self) -> None:
        for box in self.query("#filter"):
            box.remove()
        self.query_one(DataTable).focus()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_back(self) -> None:
        """`escape`: close the filter box, else clear a filter in force, else go back."""
        if self.query("#filter") or self.filter_text:
            self.filter_text = ""
            self._close_filter()
            if self._last is not None:
                self.show(self._last)
            return
        self.dismiss(None)
