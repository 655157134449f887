"""What this dashboard delivered for each alert: the detail screen's "last delivery".

The dashboard delivers nothing but acknowledgements (Alertmanager silences made or
expired); alerts themselves are delivered by `syncmon watch`. So the log says, per rule,
the last silence request this dashboard sent — when, to where, ok or the error — and the
detail screen says plainly when there was none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from syncmon.core.silences import SilenceMade, SilenceRef
from syncmon.ui.text import clean


@dataclass(frozen=True)
class Delivery:
    at: datetime
    what: str  # "silence created", "silence expired"
    where: str
    error: str | None = None  # display-safe


class DeliveryLog:
    def __init__(self) -> None:
        self.last: dict[str, Delivery] = {}
        self._rules: dict[SilenceRef, str] = {}  # which rule a silence was made for

    def made(self, rule: str, made: list[SilenceMade], at: datetime) -> None:
        for answer in made:
            error = clean(answer.error, limit=160) if answer.error else None
            self.last[rule] = Delivery(at, "silence created", clean(answer.url), error)
            if answer.silence_id is not None:
                self._rules[(answer.url, answer.silence_id)] = rule

    def expiring(self, rule: str, refs: list[SilenceRef]) -> None:
        """Silences asked to expire for `rule` (un-ack, or the alert resolved)."""
        for ref in refs:
            self._rules[ref] = rule

    def expired(self, results: list[tuple[SilenceRef, str | None]], at: datetime) -> None:
        for ref, error in results:
            rule = self._rules.get(ref)
            if rule is not None:
                text = clean(error, limit=160) if error else None
                self.last[rule] = Delivery(at, "silence expired", clean(ref[0]), text)
