"""`a`: acknowledge one alert, named, with a duration and a comment (SPEC §17).

A tired hand must see what it is about to ack: the dialog names the alert, its value and
since before anything is sent. The duration is "until resolved" unless chosen otherwise
(1 h, 4 h, or typed like `90m`); a timed ack ends at that time or when the alert resolves,
whichever comes first. With Alertmanager the comment and the end time go into the silence.
`enter` acknowledges, `escape` acks nothing. Dismisses with an `AckRequest` or None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, RadioButton, RadioSet, Static

from syncmon.core.durations import format_duration, parse_duration

MAX_ACK = timedelta(days=7)
CHOICES: tuple[tuple[str, timedelta | None], ...] = (
    ("until resolved", None),
    ("1 h", timedelta(hours=1)),
    ("4 h", timedelta(hours=4)),
    ("typed", None),
)
TYPED = len(CHOICES) - 1


@dataclass(frozen=True)
class AckRequest:
    """What the engineer asked for: `duration` None means until the alert resolves."""

    duration: timedelta | None
    comment: str


@dataclass(frozen=True)
class AckTarget:
    """The alert named in the dialog, as the list shows it (display-safe strings)."""

    rule: str
    value: str
    since: str | None
    shared: bool  # an Alertmanager silence, seen by every dashboard


class Choice(RadioButton):
    """A radio button whose mark is a glyph, on or blank, not only a colour: the choice
    reads the same under NO_COLOR and in a 16-colour terminal."""

    BUTTON_INNER = " "

    def watch_value(self) -> None:
        self.BUTTON_INNER = "●" if self.value else " "
        super().watch_value()


def parse_ack_duration(text: str) -> timedelta:
    """A typed duration (`90m`, `2h`); ValueError saying what is wrong."""
    value = parse_duration(text.strip())
    if value <= timedelta(0):
        raise ValueError("a duration must be longer than 0")
    if value > MAX_ACK:
        raise ValueError(f"at most {format_duration(MAX_ACK)}")
    return value


class AckDialog(ModalScreen[AckRequest | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "ack nothing"),
        Binding("ctrl+s", "confirm", "acknowledge"),
    ]

    def __init__(self, target: AckTarget) -> None:
        super().__init__()
        self._target = target

    def compose(self) -> ComposeResult:
        target = self._target
        with VerticalScroll(id="ack-dialog", classes="dialog"):
            yield Static(_heading(target), id="ack-heading")
            with Vertical(id="ack-form"):
                yield Static(Text("for how long", style="bold"))
                with RadioSet(id="ack-duration"):
                    for index, (label, _) in enumerate(CHOICES):
                        yield Choice(label, value=index == 0)
                yield Input(placeholder="typed duration, e.g. 90m or 2h", id="ack-typed")
                yield Input(placeholder="comment (optional): what you are doing", id="ack-comment")
                yield Static("", id="ack-error", classes="error")
            yield Static(_hint(target), id="ack-hint")

    def on_mount(self) -> None:
        self.query_one("#ack-comment", Input).focus()

    @on(Input.Changed, "#ack-typed")
    def _typed(self, event: Input.Changed) -> None:
        if event.value.strip():  # typing a duration chooses "typed"
            buttons = list(self.query(RadioButton))
            buttons[TYPED].value = True

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_confirm()

    def chosen(self) -> timedelta | None:
        """The duration chosen; ValueError when "typed" holds no valid duration."""
        index = self.query_one(RadioSet).pressed_index
        if index == TYPED:
            return parse_ack_duration(self.query_one("#ack-typed", Input).value)
        return CHOICES[max(0, index)][1]

    def action_confirm(self) -> None:
        try:
            duration = self.chosen()
        except ValueError as exc:
            error = Text(f"duration: {exc}", style="bold red")
            self.query_one("#ack-error", Static).update(error)
            self.query_one("#ack-typed", Input).focus()
            return
        comment = self.query_one("#ack-comment", Input).value.strip()
        self.dismiss(AckRequest(duration, comment))

    def action_cancel(self) -> None:
        self.dismiss(None)


def _heading(target: AckTarget) -> Text:
    text = Text.assemble(("Acknowledge ", "bold"), (target.rule, "bold reverse"), ("?", "bold"))
    text.append(f"\nvalue {target.value}")
    text.append(f" · since {target.since}" if target.since else " · since unknown")
    return text


def _hint(target: AckTarget) -> Text:
    where = (
        "an Alertmanager silence (comment and end time included): every dashboard sees it"
        if target.shared
        else "local to this dashboard (no Alertmanager configured)"
    )
    return Text(
        f"enter acknowledges · escape acks nothing · tab moves · ↑↓ choose\n"
        f"A timed ack ends then or when the alert resolves. The ack is {where}.",
        style="dim",
    )
