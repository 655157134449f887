"""Health tiles: one per endpoint, status as a word (NO_COLOR) and as a colour."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from syncmon.sources.health import EndpointResult
from syncmon.ui.model import StaleMark
from syncmon.ui.text import age, safe

STATUS_STYLE = {"up": "bold green", "degraded": "bold yellow", "down": "bold red"}
HEADER_ABBREVIATIONS = {
    "Content-Security-Policy": "CSP",
    "X-Content-Type-Options": "XCTO",
    "X-Frame-Options": "XFO",
    "X-XSS-Protection": "XXP",
}


def tile_text(result: EndpointResult) -> Text:
    latency = f"{result.latency_ms:.0f}ms" if result.latency_ms is not None else "—"
    code = f"HTTP {result.http_status}" if result.http_status else "no reply"
    text = Text.assemble(
        (result.status.upper(), STATUS_STYLE.get(result.status, "bold")), f" {latency}\n{code}"
    )
    if result.error:
        text.append("\n")
        text.append_text(
            safe(result.error, "red" if result.status == "down" else "yellow", limit=120)
        )
    if result.missing_security_headers:
        names = ",".join(HEADER_ABBREVIATIONS.get(h, h) for h in result.missing_security_headers)
        text.append(f"\nno {names}", style="dim")
    return text


class EndpointTile(Static):
    def show(self, result: EndpointResult, stale: StaleMark | None) -> None:
        self.border_title = safe(result.name, limit=20)
        self.set_class(True, "tile")
        for status in ("up", "degraded", "down"):
            self.set_class(result.status == status and stale is None, f"-{status}")
        self.set_class(stale is not None, "-stale")
        self.border_subtitle = "STALE" if stale else ""
        self.update(tile_text(result))


class HealthPanel(Horizontal):
    """Tiles are created on the first result and reused (no remounting every poll)."""

    def compose(self) -> ComposeResult:
        yield Static("health: waiting for the first poll…", id="health-note")

    def show(
        self,
        endpoints: list[EndpointResult] | None,
        stale: StaleMark | None,
        unavailable: str | None,
        now: datetime,
    ) -> None:
        note = self.query_one("#health-note", Static)
        if unavailable is not None or endpoints is None:
            for tile in self.query(EndpointTile):
                tile.remove()
            message = (
                f"health: {unavailable}"
                if unavailable
                else f"health endpoints: {stale.reason}"
                if stale
                else "health: waiting…"
            )
            note.update(Text(message, style="bold magenta" if unavailable else "yellow"))
            note.display = True
            return
        note.display = stale is not None
        if stale is not None:
            note.update(
                Text.assemble(
                    ("STALE ", "bold reverse yellow"),
                    f"{age(now - stale.last_good) if stale.last_good else ''} ",
                    safe(stale.reason, limit=60),
                )
            )
        tiles = list(self.query(EndpointTile))
        if len(tiles) != len(endpoints):
            for tile in tiles:
                tile.remove()
            tiles = [EndpointTile(classes="tile") for _ in endpoints]
            self.mount_all(tiles)
        for tile, result in zip(tiles, endpoints, strict=True):
            tile.show(result, stale)
