"""Each health endpoint's recent story, for an endpoint rule's "what changed at since":
when it last answered up, since when it has been down, and the reasons it gave since.

Endpoints have no history in the database, so this is what this dashboard saw, poll by
poll, since it started (the detail screen says so). Plain data, no Textual.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from syncmon.core.endpoints import EndpointResult
from syncmon.core.metrics import EndpointStatus
from syncmon.ui.text import clean

MAX_REASONS = 20  # distinct reasons kept per endpoint (a flood of unique texts stays small)


@dataclass
class EndpointStory:
    status: EndpointStatus | None = None
    last_ok: datetime | None = None
    not_up_since: datetime | None = None  # the first poll of the current run not up
    reasons: Counter[str] = field(default_factory=Counter)  # since `not_up_since`


class EndpointLog:
    def __init__(self) -> None:
        self.stories: dict[str, EndpointStory] = {}
        self.first_poll: datetime | None = None

    def record(self, results: list[EndpointResult], at: datetime) -> None:
        self.first_poll = self.first_poll or at
        for result in results:
            story = self.stories.setdefault(clean(result.name, limit=40), EndpointStory())
            story.status = result.status
            moment = result.polled_at
            if result.status is EndpointStatus.UP:
                story.last_ok, story.not_up_since = moment, None
                story.reasons.clear()
                continue
            if story.not_up_since is None:
                story.not_up_since = moment
            reason = clean(result.error or result.status.value, limit=120)
            if reason in story.reasons or len(story.reasons) < MAX_REASONS:
                story.reasons[reason] += 1
