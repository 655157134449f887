"""Health tiles: one per endpoint, status as a word (NO_COLOR) and as a colour.

A tile is two lines of its own — status and latency, then the HTTP code and the reason —
so a latency that moves from 42 ms to 43 ms redraws one short line, not the panel.
Tiles are created on the first result and reused.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import var

from syncmon.core.metrics import EndpointStatus
from syncmon.ui.panels.badges import endpoint_word
from syncmon.ui.panels.stale import StaleBadge
from syncmon.ui.panels.text_line import TextLine, ViewPanel, filter_line, retitle
from syncmon.ui.views import HealthView, TileView


def status_text(tile: TileView) -> Text:
    text = endpoint_word(tile.status)
    if tile.down_for is not None:  # how long, not only that it is down
        text.append(f" for {tile.down_for}", style="bold")
    text.append(f" {tile.latency}")
    return text


def detail_text(tile: TileView) -> Text:
    text = Text(tile.code)
    if tile.error:
        text.append("\n")
        text.append(tile.error)
    if tile.missing_headers:
        text.append(f"\nno {tile.missing_headers}", style="italic")
    return text


class EndpointTile(ViewPanel):
    tile: var[TileView | None] = var(None, init=False)

    def __init__(self) -> None:
        super().__init__(classes="tile")
        self._status = TextLine(classes="tile-status")
        self._detail = TextLine(classes="tile-detail")

    def compose(self) -> ComposeResult:
        yield self._status
        yield self._detail

    def watch_tile(self) -> None:
        self.redraw()

    def draw(self) -> None:
        tile = self.tile
        if tile is None:
            return
        retitle(self, Text(tile.name))
        for status in EndpointStatus:
            self.set_class(tile.status is status and not tile.stale, f"-{status.value}")
        self.set_class(tile.stale, "-stale")
        self._status.text = status_text(tile)
        self._detail.text = detail_text(tile)


class HealthPanel(ViewPanel, can_focus=True):
    """The endpoint tiles; focused with `tab`, `/` filters them."""

    health: var[HealthView] = var(HealthView, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._stale = StaleBadge(id="health-stale")
        self._note = TextLine(Text("health: waiting for the first poll…", style="dim"))
        self._tiles = Horizontal(id="tiles")
        self._filter = TextLine(id="health-filter", classes="filter-line")

    def compose(self) -> ComposeResult:
        yield self._stale
        yield self._note
        yield self._tiles
        yield self._filter

    def watch_health(self) -> None:
        self.redraw()

    def draw(self) -> None:
        health = self.health
        self._stale.mark = health.stale
        note = self._note
        if health.unavailable:
            note.text = Text(f"health: {health.unavailable}", style="bold magenta")
        elif health.waiting:
            note.text = Text("health: waiting for the first poll…", style="dim")
        elif health.filter is not None:
            note.text = Text("health: no endpoint matches the filter", style="italic")
        note.display = not health.tiles
        filter_line(self._filter, health.filter)
        tiles = list(self._tiles.query_children(EndpointTile))
        if len(tiles) != len(health.tiles):
            self._tiles.remove_children()
            tiles = [EndpointTile() for _ in health.tiles]
            self._tiles.mount_all(tiles)
        for tile, view in zip(tiles, health.tiles, strict=True):
            tile.tile = view
