"""The most frequent error messages of failed operations in the window (untrusted text)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.reactive import var

from syncmon.ui.panels.stale import StaleBadge
from syncmon.ui.panels.text_line import TextLine, ViewPanel, filter_line, retitle
from syncmon.ui.text import clean
from syncmon.ui.views import FailuresView


def failures_text(view: FailuresView) -> Text:
    if view.unavailable:
        return Text(clean(view.unavailable, limit=200), style="yellow")
    if not view.errors:
        if view.stale:
            return Text("no data (see STALE above)", style="dim")
        if view.filter:
            return Text("no failure matches the filter", style="italic")
        return Text("no failed operations in the window", style="dim")
    width = max(len(f"{count}×") for _, count in view.errors)
    lines = []
    for message, count in view.errors:
        line = Text(f"{count}×".rjust(width), style="bold")
        line.append(" ")
        line.append(clean(message, limit=300))
        lines.append(line)
    return Text("\n").join(lines)


class FailuresPanel(ViewPanel, can_focus=True):
    """The most frequent errors; focused with `tab`, `/` filters them."""

    BORDER_TITLE = "recent failures"
    failures: var[FailuresView] = var(FailuresView, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._stale = StaleBadge(id="failures-stale")
        self._text = TextLine(Text("waiting for data…", style="dim"))
        self._filter = TextLine(id="failures-filter", classes="filter-line")

    def compose(self) -> ComposeResult:
        yield self._stale
        yield self._text
        yield self._filter

    def watch_failures(self) -> None:
        self.redraw()

    def draw(self) -> None:
        view = self.failures
        retitle(self, f"recent failures ({view.window})" if view.window else "recent failures")
        self._stale.mark = view.stale
        self._text.text = failures_text(view)
        filter_line(self._filter, view.filter)
