"""Readable, with and without colour: every state word stands at 4.5:1 or more (WCAG AA)
against its own background, measured from the colours Textual actually renders.

A gallery app draws the real widgets (header line, alerts table, endpoint tiles, status
block, STALE badge) with every state word in them, selected row included. The test reads
the composited screen — after Textual resolved the theme and applied its filters (under
NO_COLOR it turns colours to greys) — finds each word's segments, and computes the WCAG
contrast of their foreground against their background (reverse video swapped). The same
colours are then downgraded to the 16 ANSI colours, as a 16-colour terminal receives them,
and resolved with xterm's default palette.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.color import Color, ColorSystem
from rich.segment import Segment
from rich.terminal_theme import TerminalTheme
from textual.app import App, ComposeResult

import syncmon.ui.app
from syncmon.core.alerts import AlertState
from syncmon.core.metrics import EndpointStatus
from syncmon.ui.panels.alerts import AlertsTable
from syncmon.ui.panels.header import Freshness
from syncmon.ui.panels.health import HealthPanel
from syncmon.ui.panels.stale import StaleBadge
from syncmon.ui.panels.status import StatusBlock
from syncmon.ui.views import (
    AckView,
    AlertRowView,
    AlertsView,
    ConflictsView,
    CountsView,
    EndpointsSummary,
    FreshnessView,
    HealthView,
    StaleView,
    TileView,
)

XTERM = TerminalTheme(
    (0, 0, 0),
    (229, 229, 229),
    [
        *((0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0)),
        *((0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229)),
    ],
    [
        *((127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0)),
        *((92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255)),
    ],
)
AA = 4.5


def row(rule: str, state: AlertState, **extra: Any) -> AlertRowView:
    return AlertRowView(
        rule=rule, state=state, severity="critical", value="1", threshold="0", **extra
    )


ROWS = (
    row("Firing rule", AlertState.FIRING, since_age="3m"),
    row("Blind rule", AlertState.FIRING, blind=True, since_age="9m"),
    row("Acked rule", AlertState.FIRING, ack=AckView("alice")),
    row("Pending rule", AlertState.PENDING, since_age="1m"),
    row("Error rule", AlertState.ERROR),
    row("Nodata rule", AlertState.NODATA, samples=3),
    row("Quiet rule", AlertState.INACTIVE),
    row("Unknown rule", AlertState.INACTIVE, evaluated=False),
)
TILES = tuple(
    TileView(name, status, "12ms", "HTTP 200")
    for name, status in (
        ("up-one", EndpointStatus.UP),
        ("slow-one", EndpointStatus.DEGRADED),
        ("down-one", EndpointStatus.DOWN),
    )
)
STALE = StaleView("performance", "3m", "timed out")
# word → how many places it must be found in (at least)
WORDS = {
    "FIRING blind": 2,
    "FIRING": 3,
    "ACKED": 3,
    "PENDING": 2,
    "ERROR": 2,
    "NODATA": 1,
    "unknown": 1,
    "ok": 1,
    "UP": 2,
    "DEGRADED": 2,
    "DOWN": 2,
    "STALE": 2,
}


class Gallery(App[None]):
    """The real panels, holding every state word at once."""

    CSS_PATH = str(Path(syncmon.ui.app.__file__).parent / "app.tcss")

    def compose(self) -> ComposeResult:
        yield Freshness(id="freshness")
        yield StaleBadge(id="badge")
        yield HealthPanel(id="health")
        yield AlertsTable(id="alerts")
        yield StatusBlock(id="status")

    def on_mount(self) -> None:
        freshness = self.query_one(Freshness)
        freshness.counts = CountsView(firing=2, acked=1)
        freshness.freshness = FreshnessView(refreshed="03:12:00", stale_sources=1)
        self.query_one(StaleBadge).mark = STALE
        self.query_one(HealthPanel).health = HealthView(TILES, waiting=False)
        self.query_one(AlertsTable).alerts = AlertsView(ROWS, firing_unacked=2, firing_acked=1)
        status = self.query_one(StatusBlock)
        status.endpoints = EndpointsSummary(tuple((t.name, t.status) for t in TILES))
        status.attention = tuple(r for r in ROWS if r.needs_attention)
        status.conflicts = ConflictsView(2)
        self.query_one("#alerts-list").focus()


def luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        v = value / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def rgb(
    color: Color | None, theme: TerminalTheme, *, foreground: bool, colours16: bool
) -> tuple[int, int, int]:
    if color is None:
        color = Color.default()
    if colours16:
        color = color.downgrade(ColorSystem.STANDARD)
    red, green, blue = color.get_truecolor(theme, foreground=foreground)
    return (red, green, blue)


def word_segments(app: App[None], word: str) -> Iterator[Segment]:
    """Segments that hold `word` as a whole word (not "ok" inside "broken")."""
    pattern = re.compile(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])")
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            if pattern.search(segment.text):
                yield segment


def measure(app: App[None], word: str, *, colours16: bool) -> list[float]:
    theme = XTERM if colours16 else app.ansi_theme
    ratios = []
    for segment in word_segments(app, word):
        style = segment.style
        assert style is not None
        assert not style.dim, f"{word!r} is drawn dim"
        fg = rgb(style.color, theme, foreground=True, colours16=colours16)
        bg = rgb(style.bgcolor, theme, foreground=False, colours16=colours16)
        ratios.append(contrast(fg, bg))
    return ratios


def exact_segments(app: App[None], word: str) -> list[Segment]:
    return [s for strip in app.screen._compositor.render_strips() for s in strip if s.text == word]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
@pytest.mark.parametrize("mode", ["textual-dark", "textual-light", "NO_COLOR", "16 colours"])
async def test_every_state_word_stands_at_4_5_to_1(
    monkeypatch: pytest.MonkeyPatch, mode: str, size: tuple[int, int]
) -> None:
    if mode == "NO_COLOR":
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    app = Gallery()
    if mode == "textual-light":
        app.theme = "textual-light"
    async with app.run_test(size=(size[0], 80)) as pilot:
        await pilot.pause()
        assert app.no_color is (mode == "NO_COLOR")
        worst: dict[str, float] = {}
        for word, places in WORDS.items():
            ratios = measure(app, word, colours16=mode == "16 colours")
            assert len(ratios) >= places, f"{word!r} found {len(ratios)} times, not {places}"
            worst[word] = min(ratios)
        failing = {w: round(r, 2) for w, r in worst.items() if r < AA}
        assert not failing, f"{mode}: below {AA}:1: {failing}"


async def test_firing_is_bold_and_the_selected_row_is_reverse_video() -> None:
    app = Gallery()
    async with app.run_test(size=(120, 60)) as pilot:
        await pilot.pause()
        for segment in word_segments(app, "FIRING"):
            assert segment.style is not None and segment.style.bold
        # the first row (Firing rule) is selected: every cell of it is drawn in reverse
        selected = [
            strip
            for strip in app.screen._compositor.render_strips()
            if "Firing rule" in strip.text and "alert" not in strip.text
        ]
        assert selected
        cells = [s for s in selected[0] if s.text.strip() and "┃" not in s.text]
        assert cells and all(s.style is not None and s.style.reverse for s in cells), cells
        unselected = next(
            strip
            for strip in app.screen._compositor.render_strips()
            if "Pending rule" in strip.text
        )
        assert not any(s.style and s.style.reverse for s in unselected if "Pending" in s.text)
