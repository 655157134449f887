"""`TextLine`: a widget that holds one `Text` and redraws only when that text changes.

Panels compute their lines as `rich.text.Text` (never markup) and assign them; Rich's
`Text` compares by content and style, so an equal line is not redrawn at all.
"""

from __future__ import annotations

from rich.text import Text
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widget import Widget

from syncmon.ui.views import ListFilter


class TextLine(Widget):
    DEFAULT_CSS = """
    TextLine { height: auto; width: 1fr; }
    """

    text: reactive[Text] = reactive(Text, layout=True)

    def __init__(
        self, text: Text | None = None, *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        if text is not None:
            self.set_reactive(TextLine.text, text)

    def render(self) -> Text:
        return self.text


def retitle(widget: Widget, title: str | Text | None, *, subtitle: bool = False) -> None:
    """Set a border title or subtitle only when it changed: setting one redraws the whole
    widget, even to the same text. Untrusted titles must come as `Text` (a str is markup)."""
    key = "_syncmon_subtitle" if subtitle else "_syncmon_title"
    drawn = title.markup if isinstance(title, Text) else title
    if widget.__dict__.get(key, ...) == drawn:
        return
    widget.__dict__[key] = drawn
    if subtitle:
        widget.border_subtitle = title
    else:
        widget.border_title = title


def filter_line(line: TextLine, view: ListFilter | None) -> None:
    """ "filter: TEXT (n of m)", shown while a `/` filter is in force on this list."""
    line.display = view is not None
    line.text = Text(f" {view.label} · escape clears", style="bold") if view else Text("")


class ViewPanel(Vertical):
    """A panel that draws its reactive view into child widgets: on mount, then on change.

    A reactive may be set before the children exist (data binding, a parent's watcher);
    watchers call `redraw`, which waits for the mount.
    """

    _ready = False

    def on_mount(self) -> None:
        self._ready = True
        self.draw()

    def draw(self) -> None:
        raise NotImplementedError

    def redraw(self) -> None:
        if self._ready:
            self.draw()
