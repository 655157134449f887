"""The top two lines, fitted to the width so that nothing in force is ever cut.

Line one: where the numbers come from (API, database host) and the mode — window, `--at`,
paused, user filter, `/` filters. Line two: alerts firing and acknowledged, counted apart,
and whether the numbers are current (refresh time, STALE sources, overdue).

When space runs short the header gives way in a fixed order: the host first, then the
window (`window 5m`, `w 5m`, gone); `--at` and the user id take their short forms. The
counts, the data age, STALE and every filter in force are never cut: a filter the operator
cannot see is a trap. If even they do not fit, the line wraps (the header grows) rather
than hide one. Nothing here ticks: the refresh time changes when a poll ends, and the app
arms one timer for the moment the numbers become overdue.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from syncmon.core.timefmt import minute_with_offset
from syncmon.ui.panels.badges import Tone, badge
from syncmon.ui.panels.stale import stale_text
from syncmon.ui.text import clean, clock
from syncmon.ui.views import CountsView, FreshnessView, ModeView

GAP = "  "
SOURCES_MIN = 12  # "syncmon API …": below this the host goes altogether


def sources_text(api: str, database: str) -> Text:
    return Text.assemble(
        ("syncmon ", "bold"),
        ("API ", "dim"),
        (clean(api, limit=60), ""),
        ("  DB ", "dim"),
        (clean(database, limit=50), ""),
    )


def join(parts: list[Text]) -> Text:
    return Text(GAP).join(part for part in parts if part)


# Each level shortens one more thing: the window's label, `--at`, the user id, then the
# window goes. A filter in force is shortened at most, never dropped.
LEVELS = 5


def mode_parts(mode: ModeView, level: int) -> list[Text]:
    """The mode at `level` 0 (all of it) to LEVELS - 1 (the shortest)."""
    parts = []
    if mode.at is not None:
        long_at = level < 2
        text = badge("AT-TIME" if long_at else "AT", Tone.MODE, pad=True)
        when = clock(mode.at) if long_at else minute_with_offset(mode.at)
        text.append(f" {'as of ' if long_at else ''}{when}", style="bold")
        parts.append(text)
    if mode.paused:
        parts.append(badge("PAUSED", Tone.WARN, pad=True))
    if level < 4:
        window = Text.assemble(("window " if level == 0 else "w ", "dim"))
        parts.append(window.append(mode.window, style="bold"))
    if mode.user:
        long_user = level < 3
        user = Text.assemble(("user " if long_user else "u ", "dim"))
        parts.append(user.append(mode.user if long_user else mode.user[:8] + "…", style="bold"))
    for shown in mode.filters:
        parts.append(Text.assemble(("/ ", "bold"), (shown, "bold")))
    return parts


def mode_texts(mode: ModeView) -> list[Text]:
    """The mode line from the most to the least detailed."""
    return [join(mode_parts(mode, level)) for level in range(LEVELS)]


def fit_mode(sources: Text, mode: ModeView, width: int) -> Text:
    """Sources on the left, shortened first; the mode on the right, never cut (it wraps)."""
    forms = mode_texts(mode)
    right = next((t for t in forms if t.cell_len + SOURCES_MIN + 2 <= width), forms[-1])
    room = width - right.cell_len - 2
    if room < SOURCES_MIN:
        return right.copy()
    left = sources.copy()
    left.truncate(room, overflow="ellipsis")
    return Text.assemble(left, " " * (width - left.cell_len - right.cell_len), right)


class ModeLine(Widget):
    """Line one: sources and mode."""

    DEFAULT_CSS = "ModeLine { height: auto; }"

    mode: reactive[ModeView] = reactive(ModeView, layout=True)
    sources: reactive[Text] = reactive(Text, layout=True)  # `--from`: the watcher followed

    def __init__(self, sources: Text, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(ModeLine.sources, sources)

    def render(self) -> Text:
        return fit_mode(self.sources, self.mode, self.size.width)


def counts_text(counts: CountsView) -> Text:
    """Firing (not acknowledged) and acknowledged, counted apart (SPEC §8.1)."""
    parts = []
    if counts.firing:
        parts.append(badge(f"{counts.firing} FIRING", Tone.ALARM, pad=True))
    if counts.acked:
        parts.append(badge(f"{counts.acked} ACKED", Tone.ACKED, pad=True))
    if not parts:
        parts.append(Text("0 firing"))
    return Text(" ").join(parts)


def freshness_parts(state: FreshnessView) -> tuple[list[Text], Text | None]:
    """(what is never cut, the poll error that may be)."""
    parts = []
    if state.refreshed is None:
        parts.append(Text("not refreshed yet", style="bold"))
    else:
        parts.append(Text.assemble(("refreshed ", "dim"), state.refreshed))
    if state.overdue is not None:
        parts.append(stale_text(state.overdue, compact=True))
    if state.stale_sources:
        plural = "source" if state.stale_sources == 1 else "sources"
        parts.append(badge(f"STALE: {state.stale_sources} {plural}", Tone.WARN))
    if state.polling_for is not None:
        parts.append(Text(f"polling… {state.polling_for}s"))
    if state.health_polling_for is not None:
        parts.append(Text(f"health polling… {state.health_polling_for}s"))
    error = Text.assemble(("poll failed: ", "bold"), state.poll_error) if state.poll_error else None
    return parts, error


class Freshness(Widget):
    """Line two: the counts, then whether the numbers are current."""

    DEFAULT_CSS = "Freshness { height: auto; }"

    counts: reactive[CountsView] = reactive(CountsView, layout=True)
    freshness: reactive[FreshnessView] = reactive(FreshnessView, layout=True)

    def render(self) -> Text:
        parts, error = freshness_parts(self.freshness)
        text = join([counts_text(self.counts), *parts])
        room = self.size.width - text.cell_len - len(GAP)
        if error is not None and room >= 16:
            error.truncate(room, overflow="ellipsis")
            text = join([text, error])
        return text
