"""One poll of one health endpoint, whoever made it (SPEC §1.2, §16).

The health poller (`sources/health.py`, over httpx), `syncmon test`'s series and a watcher's
state read back by `check --from` and `tui --from` (`feed/wire.py`) all produce this one
type; it lives in the core so the viewers' path never imports the HTTP client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from syncmon.core.metrics import EndpointStatus


@dataclass(frozen=True)
class EndpointResult:
    """One poll of one endpoint. `error` is the reason when not up, or a note about the body.

    `polled_at` is required: whoever polled knows when (its clock, or the watcher's
    document), and a default read from the wall clock would be a second, untestable clock.
    """

    name: str
    url: str
    status: EndpointStatus
    latency_ms: float | None
    http_status: int | None
    error: str | None
    missing_security_headers: tuple[str, ...]
    polled_at: datetime

    @property
    def answered(self) -> bool:
        """The server sent a status line: only then is the latency a response time (SPEC §12).

        A refused or timed-out request is the endpoint being down, not a fast answer.
        """
        return self.http_status is not None
