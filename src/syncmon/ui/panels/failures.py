"""The most frequent recent `error_message`s: untrusted database text, shown literally."""

from __future__ import annotations

from datetime import datetime

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from syncmon.ui.model import StaleMark
from syncmon.ui.text import age, safe


class FailuresPanel(Static):
    def show(
        self,
        errors: list[tuple[str, int]],
        stale: StaleMark | None,
        now: datetime,
        unavailable: str | None = None,
    ) -> None:
        self.border_subtitle = (
            Text(
                f"STALE {age(now - stale.last_good) if stale.last_good else ''}",
                style="bold yellow",
            )
            if stale
            else None
        )
        if unavailable:
            self.update(safe(unavailable, "yellow", limit=200))
            return
        if not errors:
            message = f"no data: {stale.reason}" if stale else "no failed operations in the window"
            self.update(safe(message, "dim", limit=200))
            return
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column("count", justify="right", no_wrap=True)
        table.add_column("message", ratio=1, overflow="fold")
        for message, count in errors:
            table.add_row(
                Text(f"{count}×", style="bold red" if not stale else "dim"),
                safe(message, "dim" if stale else "", limit=300),
            )
        self.update(table)
