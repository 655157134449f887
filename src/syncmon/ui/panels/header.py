"""The top bar: where the data comes from, how fresh it is, and in which mode we are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.text import Text
from textual.widgets import Static

from syncmon.ui.text import age, clean, clock, window_label


@dataclass
class HeaderState:
    api: str
    database: str
    window: timedelta
    paused: bool = False
    at: datetime | None = None
    user: str | None = None
    last_refresh: datetime | None = None
    polling_since: datetime | None = None
    health_since: datetime | None = None  # a health poll still waiting (they run apart)
    poll_error: str | None = None
    firing: int = 0
    acked: int = 0
    stale: int = 0
    flash: bool = False


class DashboardHeader(Static):
    """Two lines: sources on the first, freshness and mode on the second."""

    def show(self, state: HeaderState, now: datetime) -> None:
        line1 = Text.assemble(
            ("syncmon ", "bold"),
            ("API ", "dim"),
            (clean(state.api, limit=60), ""),
            ("  DB ", "dim"),
            (clean(state.database, limit=50), ""),
        )
        line2 = Text()
        if state.firing:
            style = "bold reverse red" if state.flash else "bold red"
            line2.append(f" {state.firing} FIRING ", style=style)
            line2.append(" ")
        elif state.acked:
            line2.append(f" {state.acked} ACKED ", style="yellow")
            line2.append(" ")
        if state.at is not None:
            line2.append(" AT-TIME ", style="bold reverse magenta")
            line2.append(f" as of {clock(state.at)} ", style="bold magenta")
        if state.paused:
            line2.append(" PAUSED ", style="bold reverse yellow")
            line2.append(" ")
        line2.append("window ", style="dim")
        line2.append(window_label(state.window), style="bold")
        if state.user:
            line2.append("  user ", style="dim")
            line2.append(clean(state.user, limit=36), style="bold cyan")
        line2.append("  refreshed ", style="dim")
        if state.last_refresh is None:
            line2.append("not yet", style="yellow")
        else:
            line2.append(f"{age(now - state.last_refresh)} ago")
        if state.polling_since is not None:
            waited = now - state.polling_since
            if waited >= timedelta(seconds=1):
                line2.append(f"  polling… {age(waited)}", style="yellow")
            else:
                line2.append("  polling…", style="dim")
        if state.health_since is not None and now - state.health_since >= timedelta(seconds=1):
            line2.append(f"  health polling… {age(now - state.health_since)}", style="yellow")
        if state.stale:
            line2.append(f"  STALE: {state.stale} source(s)", style="bold yellow")
        if state.poll_error:
            line2.append("  poll failed: ", style="bold red")
            line2.append(clean(state.poll_error, limit=80))
        text = Text("\n").join([line1, line2])
        text.no_wrap, text.overflow = True, "ellipsis"  # two lines, whatever the width
        self.update(text)
