"""Receivers of `watch` (SPEC §7): each one has its own worker, queue and backoff, so a
receiver that is down, slow or failing never delays evaluation nor the other receivers.

Two delivery models, because the receivers need different things:
- a webhook gets every event, in order, at least once: a bounded FIFO of events;
- Alertmanager needs the *current state* of every alert, re-sent periodically: after an
  outage it gets what is firing now (and resolutions it missed), not a replay of history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from syncmon.core.clock import Clock
from syncmon.core.rules import AlertRule
from syncmon.sinks.alertmanager import (
    AlertmanagerClient,
    AlertmanagerError,
    build_alert,
)
from syncmon.transport import net

log = logging.getLogger("syncmon.watch")

DEFAULT_QUEUE_LIMIT = 10_000
MAX_REPLY = 64 * 1024  # what a receiver answers is read (bounded) and ignored


def display_url(url: str) -> str:
    """Scheme, host and port only: webhook paths and queries often are the secret."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid URL>"
    host = f"[{host}]" if ":" in host else host
    hidden = "/…" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{host}{port}{hidden}"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff between failed sends, capped so a recovered receiver is noticed soon."""

    initial: float = 0.5
    cap: float = 30.0

    def delay(self, attempt: int) -> float:
        return float(min(self.cap, self.initial * 2 ** max(0, attempt - 1)))


class Receiver:
    """Common plumbing: the worker task, failure accounting, graceful stop."""

    kind = "receiver"

    def __init__(self, url: str, retry: RetryPolicy) -> None:
        self.url = url
        self.name = f"{self.kind} {display_url(url)}"
        self.retry = retry
        self.sent = 0  # successful requests
        self.failures = 0  # failed requests (each retry counts)
        self.dropped = 0  # events given up on (queue overflow or rejected)
        self._attempt = 0
        self._last_error: str | None = None
        self._stopping = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def queue_depth(self) -> int:
        return 0

    @property
    def healthy(self) -> bool:
        return self._attempt == 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self, grace: float) -> None:
        """Let in-flight and ready sends finish for up to `grace` seconds, then give up."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            done, _ = await asyncio.wait({self._task}, timeout=grace)
            if not done:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            if self.queue_depth:
                log.warning(
                    "%s: %d event(s) not delivered at shutdown", self.name, self.queue_depth
                )
        await self._close()

    async def _close(self) -> None:
        """Release the HTTP client."""

    async def _run(self) -> None:
        raise NotImplementedError

    def _failed(self, error: str) -> float:
        """Account for a failed send; return how long to back off. Logs changes only."""
        self.failures += 1
        self._attempt += 1
        if error != self._last_error:
            log.warning("%s: %s; retrying with backoff", self.name, error)
            self._last_error = error
        return self.retry.delay(self._attempt)

    def _succeeded(self) -> None:
        self.sent += 1
        if self._attempt:
            log.info("%s: delivering again after %d failed attempt(s)", self.name, self._attempt)
        self._attempt = 0
        self._last_error = None

    async def _backoff(self, seconds: float) -> None:
        """Sleep, but stop waiting at once when the process is shutting down."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while not self._stopping:
                    await self._wake.wait()
                    self._wake.clear()


class WebhookReceiver(Receiver):
    """POSTs every event as JSON, in order; the queue keeps the newest `limit` events."""

    kind = "webhook"

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        retry: RetryPolicy | None = None,
        limit: int = DEFAULT_QUEUE_LIMIT,
    ) -> None:
        super().__init__(url, retry or RetryPolicy())
        self.limit = limit
        self._queue: deque[dict[str, Any]] = deque()
        self._overflowing = 0
        self.timeout = timeout
        self._client = net.build_client(url, timeout=timeout)

    @property
    def queue_depth(self) -> int:
        return len(self._queue)

    def put(self, event: dict[str, Any]) -> None:
        """Never blocks: when full, the oldest event makes room (and is counted)."""
        if len(self._queue) >= self.limit:
            self._queue.popleft()
            self.dropped += 1
            self._overflowing += 1
            if self._overflowing == 1:
                log.warning(
                    "%s: queue full (%d events); dropping the oldest", self.name, self.limit
                )
        self._queue.append(event)
        self._wake.set()

    async def _close(self) -> None:
        await self._client.aclose()

    async def _run(self) -> None:
        while True:
            if not self._queue:
                if self._overflowing:
                    log.warning(
                        "%s: %d event(s) were dropped while the queue was full",
                        self.name,
                        self._overflowing,
                    )
                    self._overflowing = 0
                if self._stopping:
                    return
                await self._wake.wait()
                self._wake.clear()
                continue
            event = self._queue[0]
            error, permanent = await self._send(event)
            if error is None or permanent:
                if self._queue and self._queue[0] is event:
                    self._queue.popleft()
                if error is None:
                    self._succeeded()
                else:
                    self.dropped += 1
                    self.failures += 1
                    log.error("%s: event rejected, not retried: %s", self.name, error)
                continue
            if self._stopping:
                return
            await self._backoff(self._failed(error))

    async def _send(self, event: dict[str, Any]) -> tuple[str | None, bool]:
        """(error, permanent), by `net.failure_kind`: a 400 would fail the same way forever."""
        try:
            reply = await net.request(
                self._client,
                "POST",
                self.url,
                json=event,
                where=self.name,
                deadline=self.timeout,
                max_body=MAX_REPLY,
                truncate=True,
            )
        except net.HttpFailure as failure:
            return failure.reason, failure.kind is net.FailureKind.PERMANENT
        if reply.ok:
            return None, False
        permanent = net.failure_kind(reply.status) is net.FailureKind.PERMANENT
        return f"HTTP {reply.status}", permanent


@dataclass(frozen=True)
class ActiveAlert:
    """What Alertmanager needs to know about one alert right now (keyed by `rule.key`)."""

    rule: AlertRule
    starts_at: datetime  # the episode's since
    value: str
    episode: str | None = None
    ends_at: datetime | None = None  # set once resolved


class AlertmanagerReceiver(Receiver):
    """Keeps Alertmanager in sync with the firing set: changes at once, the rest every `resend`.

    While firing, `endsAt` = now + `hold` (4 × max(interval, resend)) so Alertmanager
    resolves the alert by itself if every watcher dies; a resolution carries its own time.
    """

    kind = "alertmanager"

    def __init__(
        self,
        url: str,
        *,
        resend: timedelta,
        hold: timedelta,
        timeout: float = 5.0,
        retry: RetryPolicy | None = None,
        client: AlertmanagerClient | None = None,
        clock: Clock,
    ) -> None:
        super().__init__(url, retry or RetryPolicy())
        self.client = client or AlertmanagerClient(url, timeout=timeout, clock=clock)
        self.clock = clock  # the watcher's: endsAt = now + hold, at the moment of each send
        self.resend = resend.total_seconds()
        self.hold = hold
        self._firing: dict[str, ActiveAlert] = {}
        self._resolved: dict[str, ActiveAlert] = {}
        self._dirty = False
        self._last_sent: float | None = None

    @property
    def queue_depth(self) -> int:
        """Resolutions not yet delivered (firing alerts are state, not a queue)."""
        return len(self._resolved)

    @property
    def send_due(self) -> bool:
        """A send is due now rather than at the next change or resend: a retry, or a
        change not yet sent."""
        return self._dirty

    def update(
        self,
        firing: dict[str, ActiveAlert],
        resolved: list[ActiveAlert],
        *,
        announce: bool = False,
    ) -> None:
        """The firing set after one evaluation, and what resolved in it. Never blocks.
        `announce`: send it now, changed or not (an alert re-announced after a blind spell)."""
        if (
            announce
            or firing.keys() != self._firing.keys()
            or any(firing[k].starts_at != self._firing[k].starts_at for k in firing)
        ):
            self._dirty = True
        self._firing = dict(firing)
        for alert in resolved:
            self._resolved[alert.rule.key] = alert
            self._dirty = True
        for name in firing:
            self._resolved.pop(name, None)
        if self._dirty:
            self._wake.set()

    def payload(self, now: datetime) -> list[dict[str, Any]]:
        # startsAt is the episode's since, never after its evaluation (SPEC §15); the min
        # still guards it, as Alertmanager rejects a start after the end.
        alerts = [
            build_alert(
                a.rule,
                value=a.value,
                starts_at=min(a.starts_at, now),
                ends_at=now + self.hold,
                episode=a.episode,
            )
            for a in self._firing.values()
        ]
        for a in self._resolved.values():
            ends_at = a.ends_at or now
            alerts.append(
                build_alert(
                    a.rule,
                    value=a.value,
                    starts_at=min(a.starts_at, ends_at),
                    ends_at=ends_at,
                    episode=a.episode,
                )
            )
        return alerts

    async def _close(self) -> None:
        await self.client.close()

    def _resend_due_in(self) -> float | None:
        if not self._firing:
            return None
        if self._last_sent is None:
            return 0.0
        return max(0.0, self._last_sent + self.resend - time.monotonic())

    async def _run(self) -> None:
        while True:
            if not self._dirty:
                if self._stopping:
                    return
                due = self._resend_due_in()
                if due is None or due > 0:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(due):
                            await self._wake.wait()
                    self._wake.clear()
                    if not self._dirty and (self._resend_due_in() or 0) > 0:
                        continue
            resolved = dict(self._resolved)
            self._dirty = False
            alerts = self.payload(self.clock())
            if not alerts:
                continue
            try:
                await self.client.post_alerts(alerts)
            except AlertmanagerError as exc:
                if not exc.retryable:
                    self._rejected(str(exc), resolved)
                    continue
                self._dirty = True  # retry with the state current at that time
                if self._stopping:
                    return
                await self._backoff(self._failed(str(exc)))
                continue
            self._succeeded()
            self._sent(resolved)

    def _sent(self, resolved: dict[str, ActiveAlert]) -> None:
        """This state reached Alertmanager (or never will): resend only on change or schedule."""
        self._last_sent = time.monotonic()
        for name, alert in resolved.items():
            if self._resolved.get(name) is alert:
                del self._resolved[name]

    def _rejected(self, error: str, resolved: dict[str, ActiveAlert]) -> None:
        """A 4xx: the same payload would be refused forever, so it is not retried.

        Alertmanager rejects only the invalid alerts of a batch and keeps the others, so
        the firing set is sent again at the next change or `resend`, like a delivered one.
        """
        self.failures += 1
        self.dropped += len(resolved)
        log.error("%s: alerts rejected, not retried: %s", self.name, error)
        self._sent(resolved)
