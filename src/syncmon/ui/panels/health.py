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
from syncmon.ui.panels.stale import StaleBadge
from syncmon.ui.panels.text_line import TextLine, ViewPanel, retitle
from syncmon.ui.views import HealthView, TileView

STATUS_STYLE = {
    EndpointStatus.UP: "bold green",
    EndpointStatus.DEGRADED: "bold yellow",
    EndpointStatus.DOWN: "bold red",
}


def status_text(tile: TileView) -> Text:
    return Text.assemble(
        (tile.status.upper(), STATUS_STYLE.get(tile.status, "bold")), f" {tile.latency}"
    )


def detail_text(tile: TileView) -> Text:
    text = Text(tile.code)
    if tile.error:
        text.append("\n")
        text.append(tile.error, style="red" if tile.status is EndpointStatus.DOWN else "yellow")
    if tile.missing_headers:
        text.append(f"\nno {tile.missing_headers}", style="dim")
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


class HealthPanel(ViewPanel):
    health: var[HealthView] = var(HealthView, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._stale = StaleBadge(id="health-stale")
        self._note = TextLine(Text("health: waiting for the first poll…", style="dim"))
        self._tiles = Horizontal(id="tiles")

    def compose(self) -> ComposeResult:
        yield self._stale
        yield self._note
        yield self._tiles

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
        note.display = not health.tiles
        tiles = list(self._tiles.query_children(EndpointTile))
        if len(tiles) != len(health.tiles):
            self._tiles.remove_children()
            tiles = [EndpointTile() for _ in health.tiles]
            self._tiles.mount_all(tiles)
        for tile, view in zip(tiles, health.tiles, strict=True):
            tile.tile = view
