"""State words as badges: each word carries its own background, so it reads the same on
every panel, in every theme, in 16 colours and under NO_COLOR.

A word drawn in a colour on the panel's background depends on the theme (yellow text is
unreadable on a light theme) and on NO_COLOR (Textual turns colours to greys, where red on
dark grey stands at 1.9:1). A badge names both colours, picked so that the pair stands at
4.5:1 or more (WCAG AA) in truecolour, as Textual's greys under NO_COLOR, and downgraded
to the 16 ANSI colours of an xterm palette. The word itself says the state; the colour
only helps. `tests/ui/test_contrast.py` measures it from the rendered screen.
"""

from __future__ import annotations

from enum import Enum

from rich.text import Text

from syncmon.core.alerts import AlertState
from syncmon.core.metrics import EndpointStatus


class Tone(Enum):
    """How loud a word is; each tone is one foreground/background pair."""

    ALARM = "bold #ffffff on #a00000"  # firing, down: bold, never dim
    ERROR = "bold #000000 on #ff9e80"  # a source could not be read
    WARN = "bold #000000 on #ffd75f"  # pending, degraded, stale, paused
    ACKED = "#000000 on #d7af00"  # someone is on it: quieter than firing
    CALM = "#000000 on #87d787"  # ok, up
    MUTED = "#000000 on #b2b2b2"  # nodata, unknown: grey, yet readable
    MODE = "bold #000000 on #ff87ff"  # --at: the numbers are from the past


def badge(word: str, tone: Tone, *, pad: bool = False) -> Text:
    """`word` on its tone's background (with a space each side when `pad`). The style is a
    span, not the text's base style, so what is appended after it stays plain."""
    return Text.assemble((f" {word} " if pad else word, tone.value))


ALERT_TONES = {
    AlertState.FIRING: Tone.ALARM,
    AlertState.ERROR: Tone.ERROR,
    AlertState.PENDING: Tone.WARN,
    AlertState.NODATA: Tone.MUTED,
    AlertState.RESOLVED: Tone.CALM,
    AlertState.INACTIVE: Tone.CALM,
}
ENDPOINT_TONES = {
    EndpointStatus.UP: Tone.CALM,
    EndpointStatus.DEGRADED: Tone.WARN,
    EndpointStatus.DOWN: Tone.ALARM,
}
# Every word an alert's state column can hold; the column is as wide as the longest.
BLIND = " blind"
ALERT_WORDS = ("FIRING" + BLIND, "PENDING", "RESOLVED", "NODATA", "ERROR", "ACKED", "unknown", "ok")
STATE_WIDTH = max(len(word) for word in ALERT_WORDS)


def alert_word(
    state: AlertState, *, acked: bool = False, blind: bool = False, evaluated: bool = True
) -> Text:
    """The state of one alert, as a badge: `FIRING blind`, `ACKED`, `NODATA`, `ok`…"""
    if not evaluated:  # never evaluated: not "ok", we simply do not know
        return badge("unknown", Tone.MUTED)
    if acked and state is AlertState.FIRING:
        return badge("ACKED", Tone.ACKED)
    word = "ok" if state is AlertState.INACTIVE else state.value.upper()
    if blind:
        word += BLIND
    return badge(word, ALERT_TONES.get(state, Tone.MUTED))


def endpoint_word(status: EndpointStatus, *, stale: bool = False) -> Text:
    return badge(status.upper(), Tone.MUTED if stale else ENDPOINT_TONES[status])
