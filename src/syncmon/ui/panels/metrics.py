"""Key metrics against the seed's targets: value, target, samples, and a verdict word.

The verdict is a word and a symbol as well as a colour, so it reads with NO_COLOR too:
`✓ ok` target met, `~ near` met but within 10 % of the threshold's headroom, `✗ miss`
target missed, `· no data` nothing to compute it from, `stale` its source failed (the
panel's STALE badge says why). Each metric is a line of its own, so a poll that moves
one number redraws one line.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import var

from syncmon.ui.panels.stale import StaleBadge
from syncmon.ui.panels.text_line import TextLine, ViewPanel, retitle
from syncmon.ui.views import MetricRowView, MetricsView

VERDICTS = {
    "ok": ("✓ ok", "green"),
    "near": ("~ near", "yellow"),
    "miss": ("✗ miss", "bold red"),
    "nodata": ("· no data", "dim"),
    "stale": ("stale", "bold yellow"),
    "none": ("", ""),
}
VALUE, TARGET, SAMPLES = 10, 10, 7


def row_text(row: MetricRowView, name_width: int) -> Text:
    word, style = VERDICTS[row.verdict]
    value_style = "dim" if row.stale else ("bold" if row.target else "")
    name = row.name if len(row.name) <= name_width else row.name[: name_width - 1] + "…"
    return Text.assemble(
        (name.ljust(name_width), ""),
        " ",
        (row.value.rjust(VALUE), value_style),
        " ",
        (row.target.rjust(TARGET), "dim"),
        " ",
        (row.samples.rjust(SAMPLES), "dim"),
        "  ",
        (word, style),
    )


def heading(name_width: int) -> Text:
    return Text(
        f"{'metric'.ljust(name_width)} {'value'.rjust(VALUE)} {'target'.rjust(TARGET)} "
        f"{'samples'.rjust(SAMPLES)}  status",
        style="dim",
    )


class MetricsPanel(ViewPanel):
    BORDER_TITLE = "key metrics"
    metrics: var[MetricsView] = var(MetricsView, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._stale = StaleBadge(id="metrics-stale")
        self._message = TextLine(Text("waiting for data…", style="yellow"))
        self._rows = Vertical(id="metric-rows")

    def compose(self) -> ComposeResult:
        yield self._stale
        yield self._message
        yield self._rows

    def watch_metrics(self) -> None:
        self.redraw()

    def draw(self) -> None:
        view = self.metrics
        retitle(self, f"key metrics ({view.window})" if view.window else "key metrics")
        self._stale.mark = view.stale
        message = self._message
        message.display = view.message is not None
        if view.message is not None:
            message.text = Text(view.message, style="yellow")
        box = self._rows
        lines = list(box.query_children(TextLine))
        wanted = len(view.rows) + 1 if view.rows else 0
        if len(lines) != wanted:
            box.remove_children()
            lines = [TextLine(classes="metric-row") for _ in range(wanted)]
            box.mount_all(lines)
        if not view.rows:
            return
        name_width = min(26, max(len(row.name) for row in view.rows))
        lines[0].text = heading(name_width)
        for line, row in zip(lines[1:], view.rows, strict=True):
            line.text = row_text(row, name_width)
