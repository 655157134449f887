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

from syncmon.ui.panels.stale import StaleBadge
from syncmon.ui.panels.text_line import TextLine, ViewPanel, retitle
from syncmon.ui.views import HealthView, TileView

STATUS_STYLE = {"up": "bold green", "degraded": "bold yellow", "down": "bold red"}


def status_text(tile: TileView) -> Text:
    return Text.assemble(
        (tile.status.upper(), STATUS_STYLE.get(tile.status, "bold")), f" {tile.latency}"
    )


def detail_text(tile: TileView) -> Text:
    text = Text(tile.code)
    if tile.error:
        text.append("\n")
        text.append(tile.error, style="red" if tile.status == "down" else "yellow")
    if tile.missing_headers:
        text.append(f"\nno {tile.missing_headers}", style="dim")
    return text


class EndpointTile(ViewPanel):
    tile: var[TileView | None] = var(None, init=False)

    def compose(self) -> ComposeResult:
        yield TextLine(classes="tile-status")
        yield TextLine(classes="tile-detail")

    def watch_tile(self) -> None:
        self.redraw()

    def draw(self) -> None:
        tile = self.tile
        if tile is None:
            return
        retitle(self, Text(tile.name))
        for status in ("up", "degraded", "down"):
            self.set_class(tile.status == status and not tile.stale, f"-{status}")
        self.set_class(tile.stale, "-stale")
        self.query_one(".tile-status", TextLine).text = status_text(tile)
        self.query_one(".tile-detail", TextLine).text = detail_text(tile)


class HealthPanel(ViewPanel):
    health: var[HealthView] = var(HealthView, init=False)

    def compose(self) -> ComposeResult:
        yield StaleBadge(id="health-stale")
        yield TextLine(Text("health: waiting for the first poll…", style="dim"), id="health-note")
        yield Horizontal(id="tiles")

    def watch_health(self) -> None:
        self.redraw()

    def draw(self) -> None:
        health = self.health
        self.query_one("#health-stale", StaleBadge).mark = health.stale
        note = self.query_one("#health-note", TextLine)
        if health.unavailable:
            note.text = Text(f"health: {health.unavailable}", style="bold magenta")
        elif health.waiting:
            note.text = Text("health: waiting for the first poll…", style="dim")
        note.display = not health.tiles
        row = self.query_one("#tiles", Horizontal)
        tiles = list(row.query(EndpointTile))
        if len(tiles) != len(health.tiles):
            row.remove_children()
            tiles = [EndpointTile(classes="tile") for _ in health.tiles]
            row.mount_all(tiles)
        for tile, view in zip(tiles, health.tiles, strict=True):
            tile.tile = view
