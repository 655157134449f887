"""The STALE mark: drawn by this one widget class wherever data is old (SPEC §8).

Every panel that shows data from a source holds a `StaleBadge` bound to that source's
`StaleView`; the badge is hidden while the data is fresh. The word is always there, not
only a colour, so it reads the same with NO_COLOR.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from syncmon.ui.panels.badges import Tone, badge
from syncmon.ui.views import StaleView


def stale_text(mark: StaleView, *, compact: bool = False) -> Text:
    text = badge("STALE", Tone.WARN, pad=True)
    if mark.age:
        text.append(f" {mark.age}", style="bold")
    text.append(" ")
    if not compact and not mark.reason.startswith(mark.what):  # errors often name it
        text.append(f"{mark.what}: ")
    text.append(mark.reason)
    return text


class StaleBadge(Widget):
    """`compact` leaves out which source (the header knows it means the numbers)."""

    DEFAULT_CSS = """
    StaleBadge { height: auto; width: 1fr; }
    StaleBadge.-compact { width: auto; }
    """

    mark: reactive[StaleView | None] = reactive(None, layout=True)

    def __init__(
        self, *, compact: bool = False, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.compact = compact
        self.set_class(compact, "-compact")
        self.display = False

    def watch_mark(self, mark: StaleView | None) -> None:
        self.display = mark is not None

    def render(self) -> Text:
        return Text("") if self.mark is None else stale_text(self.mark, compact=self.compact)
