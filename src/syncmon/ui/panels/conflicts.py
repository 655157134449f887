"""How many conflicts are open; `c` opens the list."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.reactive import var

from syncmon.ui.panels.stale import StaleBadge
from syncmon.ui.panels.text_line import TextLine, ViewPanel
from syncmon.ui.views import ConflictsView


def count_text(view: ConflictsView) -> Text:
    if view.open is None:
        text = Text.assemble(("open: ?", "italic"))
    else:
        text = Text.assemble((f"{view.open} open", "bold" if view.open else ""))
    if view.current_only:  # beside numbers from the past, say these are not
        text.append("  now, not at --at (the API has no history)", style="bold")
    text.append("  c: open the list", style="dim")
    return text


class ConflictsPanel(ViewPanel):
    BORDER_TITLE = "conflicts"
    conflicts: var[ConflictsView] = var(ConflictsView, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._count = TextLine(count_text(ConflictsView()), id="conflicts-count")
        self._stale = StaleBadge(id="conflicts-stale")

    def compose(self) -> ComposeResult:
        yield self._count
        yield self._stale

    def watch_conflicts(self) -> None:
        self.redraw()

    def draw(self) -> None:
        view = self.conflicts
        self._count.text = count_text(view)
        self._stale.mark = view.stale
