"""The top two lines: sources, then alert counts, mode and freshness — each its own widget.

Nothing here ticks: the freshness shows the clock time of the last refresh (it changes
when a poll ends, redrawing only those few cells), and the app arms one timer at the
moment the numbers become overdue, when a `StaleBadge` beside it appears.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from syncmon.ui.text import clean, clock
from syncmon.ui.views import CountsView, FreshnessView, ModeView


def sources_text(api: str, database: str) -> Text:
    return Text.assemble(
        ("syncmon ", "bold"),
        ("API ", "dim"),
        (clean(api, limit=60), ""),
        ("  DB ", "dim"),
        (clean(database, limit=50), ""),
    )


class AlertCounts(Widget):
    """Firing (not acknowledged) and acknowledged, counted apart (SPEC §8.1)."""

    counts: reactive[CountsView] = reactive(CountsView, layout=True)

    def render(self) -> Text:
        counts = self.counts
        text = Text()
        if counts.firing:
            text.append(f" {counts.firing} FIRING ", style="bold reverse red")
            text.append(" ")
        if counts.acked:
            text.append(f" {counts.acked} ACKED ", style="bold reverse yellow")
            text.append(" ")
        if not text:
            text.append("0 firing ", style="green")
        return text


def mode_texts(mode: ModeView) -> list[Text]:
    """The mode line from the most to the least detailed; the widget shows the first that fits."""
    forms = []
    for detail in range(3):
        text = Text()
        if mode.at is not None:
            text.append(" AT-TIME " if detail < 2 else " AT ", style="bold reverse magenta")
            when = (
                clock(mode.at) if detail == 0 else mode.at.astimezone().strftime("%m-%d %H:%M %z")
            )
            text.append(f" {'as of ' if detail == 0 else ''}{when} ", style="bold magenta")
        if mode.paused:
            text.append(" PAUSED ", style="bold reverse yellow")
            text.append(" ")
        text.append("window " if detail < 2 else "w ", style="dim")
        text.append(mode.window, style="bold")
        if mode.user:
            text.append("  user " if detail < 2 else " u ", style="dim")
            text.append(mode.user if detail == 0 else mode.user[:8] + "…", style="bold cyan")
        forms.append(text)
    return forms


class ModeLine(Widget):
    """Window, user filter, pause and `--at`; shortened to fit, never overflowing."""

    mode: reactive[ModeView] = reactive(ModeView)

    def render(self) -> Text:
        width = self.size.width
        forms = mode_texts(self.mode)
        text = next((t for t in forms if t.cell_len <= width), forms[-1]).copy()
        text.no_wrap, text.overflow = True, "ellipsis"
        return text


class Freshness(Widget):
    """`refreshed 03:12:05`, and while a poll takes long, how long it has been waiting."""

    freshness: reactive[FreshnessView] = reactive(FreshnessView, layout=True)

    def render(self) -> Text:
        state = self.freshness
        text = Text()
        if state.refreshed is None:
            text.append("not refreshed yet", style="yellow")
        else:
            text.append("refreshed ", style="dim")
            text.append(state.refreshed)
        if state.polling_for is not None:
            text.append(f"  polling… {state.polling_for}s", style="yellow")
        if state.health_polling_for is not None:
            text.append(f"  health polling… {state.health_polling_for}s", style="yellow")
        if state.stale_sources:
            text.append(f"  STALE: {state.stale_sources} source(s)", style="bold yellow")
        if state.poll_error:
            text.append("  poll failed: ", style="bold red")
            text.append(state.poll_error)
        return text
