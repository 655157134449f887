"""`c`: the open conflicts, oldest first; `enter` opens one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from syncmon.core.conflicts import Conflict
from syncmon.sources.conflicts import ConflictList
from syncmon.ui.screens.conflict_detail import ConflictDetailScreen
from syncmon.ui.text import age, safe, short_time

if TYPE_CHECKING:
    from syncmon.ui.ports import ConflictsPort


class ConflictsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        ("escape", "back", "back"),
        ("q", "back", "back"),
        ("r", "reload", "reload"),
        ("enter", "open", "open"),
    ]

    def __init__(self, service: ConflictsPort, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__()
        self.service = service
        self._clock = clock or (lambda: datetime.now(UTC))
        self._conflicts: dict[str, Conflict] = {}
        self._loaded_at: datetime | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("Open conflicts (oldest first)", style="bold"), id="conflicts-title")
        yield Static(Text("loading…", style="dim"), id="conflicts-status")
        yield DataTable(id="conflicts-table", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in (("age", 7), ("user", 36), ("entity", 32), ("ver", 4), ("detected", 8)):
            table.add_column(label, key=label, width=width)
        table.focus()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.query_one("#conflicts-status", Static).update(Text("loading…", style="dim"))
        self.load()

    @work(exclusive=True, group="conflicts-list")
    async def load(self) -> None:
        result = await self.service.list_open()
        self.show(result)

    def show(self, result: ConflictList) -> None:
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
        self._loaded_at = now
        table = self.query_one(DataTable)
        selected = None
        if table.row_count:
            selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        table.clear()
        self._conflicts = {c.id: c for c in result.conflicts}
        for conflict in result.conflicts:
            table.add_row(
                Text(age(now - conflict.detected_at) if conflict.detected_at else "?"),
                safe(conflict.user_id, limit=36),
                safe(f"{conflict.entity_type} {conflict.entity_id}", limit=40),
                Text(str(conflict.version), style="dim"),
                Text(short_time(conflict.detected_at), style="dim"),
                key=conflict.id,
            )
        ids = [c.id for c in result.conflicts]
        if selected in ids:
            table.move_cursor(row=ids.index(selected), animate=False)
        skipped = f", {result.skipped} malformed left out" if result.skipped else ""
        status.update(
            Text(
                f"{len(result.conflicts)} open{skipped} · enter: open · r: reload · escape: back",
                style="dim",
            )
        )

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        conflict = self._conflicts.get(key or "")
        if conflict is not None:
            self.app.push_screen(ConflictDetailScreen(conflict, self.service))

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_back(self) -> None:
        self.dismiss(None)
