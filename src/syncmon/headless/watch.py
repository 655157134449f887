"""`syncmon watch` (SPEC §7): the headless alerting daemon.

One loop evaluates every interval with the shared engine; state changes go to stdout as
JSON lines and to the receivers, whose own workers absorb their failures. Nothing here
may block the next evaluation for longer than a cycle's time budget, and nothing that
goes wrong outside this process (a source, a receiver, a closed stdout) may end it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol, TextIO

from syncmon.config.redaction import describe_error, redact
from syncmon.core.alerts import AlertEvent, EventKind
from syncmon.core.clock import Clock
from syncmon.core.durations import elapsed_text, format_duration
from syncmon.core.metrics import Source, format_value
from syncmon.core.rules import AlertRule
from syncmon.engine.evaluation import LiveAlerts, SinceFinder
from syncmon.engine.poll import PollRequest, Snapshot
from syncmon.headless.events import event_line, event_record, event_summary
from syncmon.headless.exposition import WatchMetrics
from syncmon.headless.published import Publisher
from syncmon.headless.receivers import (
    ActiveAlert,
    AlertmanagerReceiver,
    Receiver,
    RetryPolicy,
    WebhookReceiver,
)

log = logging.getLogger("syncmon.watch")

DEFAULT_INTERVAL = timedelta(seconds=30)
SOURCES = tuple(Source)


class PollingEngine(SinceFinder, Protocol):
    """What the loop needs from `Engine` (tests substitute a scripted one)."""

    rules: tuple[AlertRule, ...]

    @property
    def clock(self) -> Clock:
        """The engine's clock: the watcher's "now" is the one its polls are stamped with."""
        ...

    async def poll(self, request: PollRequest | None = None) -> Snapshot: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class WatchOptions:
    interval: timedelta = DEFAULT_INTERVAL
    resend: timedelta = timedelta(minutes=1)
    source_timeout: float = 5.0  # the slowest source's own deadline (they run at once)
    search_timeout: float = 6.0  # the since search's deadline (after the poll)
    receiver_timeout: float = 5.0
    retry: RetryPolicy | None = None
    grace: float = 1.0  # for in-flight sends at shutdown
    alertmanagers: Sequence[str] = ()
    webhooks: Sequence[str] = ()
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None
    token: str | None = None  # SYNCMON_WATCH_TOKEN: viewers' bearer token (SPEC §16)

    @property
    def hold(self) -> timedelta:
        """Alertmanager's endsAt horizon: it resolves by itself if every watcher dies."""
        return 4 * max(self.interval, self.resend)

    @property
    def cycle_timeout(self) -> float:
        """A last resort against bugs: every source has its own deadline, and a poll may take
        an interval, or long enough for the slowest of them to end by itself. The since
        search after it has its own (`search_timeout`)."""
        return max(self.interval.total_seconds(), self.source_timeout + 1.0)

    @property
    def retry_policy(self) -> RetryPolicy:
        """Backoff capped near the interval: a receiver that returns is used again soon."""
        if self.retry is not None:
            return self.retry
        seconds = self.interval.total_seconds()
        return RetryPolicy(initial=min(0.5, max(0.05, seconds)), cap=min(30.0, max(1.0, seconds)))


@dataclass
class WatchStats:
    cycles: int = 0
    overruns: int = 0


class Watcher:
    """The daemon: evaluation loop, receivers, metrics endpoint, orderly shutdown."""

    def __init__(
        self, engine: PollingEngine, options: WatchOptions, out: TextIO | None = None
    ) -> None:
        self.engine = engine
        self.options = options
        self.out = out or sys.stdout
        self.clock = engine.clock
        self.alerts = LiveAlerts(engine.rules, engine)
        retry = options.retry_policy
        self.webhooks = [
            WebhookReceiver(url, timeout=options.receiver_timeout, retry=retry)
            for url in options.webhooks
        ]
        self.alertmanagers = [
            AlertmanagerReceiver(
                url,
                resend=options.resend,
                hold=options.hold,
                timeout=options.receiver_timeout,
                retry=retry,
                clock=self.clock,
            )
            for url in options.alertmanagers
        ]
        self.receivers: list[Receiver] = [*self.webhooks, *self.alertmanagers]
        seen: dict[str, int] = {}
        for receiver in self.receivers:  # distinct names: they are metric labels
            seen[receiver.name] = seen.get(receiver.name, 0) + 1
            if seen[receiver.name] > 1:
                receiver.name += f" #{seen[receiver.name]}"
        self.metrics = WatchMetrics(self.receivers)
        self.publisher = Publisher(self.metrics.registry, options)
        self.stats = WatchStats()
        self.last_snapshot: Snapshot | None = None
        self._last_values: dict[str, str] = {}
        self._failed_sources: dict[Source, str] = {}
        self._overrunning = False
        self._stdout_broken = False

    # -- lifecycle --------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, *, max_cycles: int | None = None) -> None:
        """Evaluate until `stop` is set (or `max_cycles` ran), then shut down in order."""
        try:
            self.start()
            await self.publisher.start()
            await self.evaluate_until(stop, max_cycles)
        finally:
            await self.shutdown()

    def start(self) -> None:
        """Start the receivers (`run` then serves /metrics and the state, SPEC §16)."""
        for receiver in self.receivers:
            receiver.start()

    async def shutdown(self) -> None:
        """Receivers get `grace` for in-flight sends; everything else closes at once."""
        closers = [receiver.stop(self.options.grace) for receiver in self.receivers]
        closers.append(self.publisher.close())
        closers.append(_bounded(self.engine.close(), 0.5))
        results = await asyncio.gather(*closers, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                log.warning("while shutting down: %s", describe_error(result))

    async def evaluate_until(self, stop: asyncio.Event, max_cycles: int | None = None) -> None:
        """Evaluate at a fixed rate until `stop` is set or `max_cycles` cycles ran in total."""
        interval = self.options.interval.total_seconds()
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while not stop.is_set():
            started = loop.time()
            cycle = asyncio.ensure_future(self.run_cycle())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({cycle, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not cycle.done():  # stopping: an unfinished poll is abandoned
                cycle.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await cycle
                return
            self._note_duration(loop.time() - started, interval)
            if max_cycles is not None and self.stats.cycles >= max_cycles:
                return
            # Fixed rate; after an overrun start again at once rather than catch up.
            next_at = max(next_at + interval, loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=next_at - loop.time())

    def _note_duration(self, seconds: float, interval: float) -> None:
        overran = seconds > interval
        if overran:
            self.stats.overruns += 1
            self.metrics.overruns.inc()
        if overran != self._overrunning:
            self._overrunning = overran
            if overran:
                log.warning(
                    "evaluation took %.2fs, longer than the %s interval",
                    seconds,
                    format_duration(self.options.interval),
                )
            else:
                log.info("evaluations are back within the interval")

    # -- one evaluation -----------------------------------------------------------------------

    async def run_cycle(self) -> list[AlertEvent]:
        """Poll, advance every rule's state machine, emit the changes. Never raises."""
        try:
            snapshot = await self._poll()
            events = await self._evaluate(snapshot)
        except Exception as exc:  # a bug must not end the daemon; it shows in the log
            log.error("evaluation failed: %s", describe_error(exc), exc_info=True)
            events = []
        self.stats.cycles += 1
        return events

    async def _poll(self) -> Snapshot:
        timeout = self.options.cycle_timeout
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                return await self.engine.poll(self.publisher.request())
        except TimeoutError:
            reason = f"poll timed out after {elapsed_text(time.perf_counter() - started, timeout)}"
        except Exception as exc:
            reason = f"poll failed: {describe_error(exc)}"
        snapshot = Snapshot(self.clock(), True, timedelta(minutes=5))
        snapshot.failed.update({source: reason for source in SOURCES})
        snapshot.poll_seconds = time.perf_counter() - started
        return snapshot

    async def _evaluate(self, snapshot: Snapshot) -> list[AlertEvent]:
        self.last_snapshot = snapshot
        self._log_sources(snapshot)
        try:
            events = await self.alerts.advance(snapshot, timeout=self.options.search_timeout)
        finally:
            self._log_search_errors()
        for event in events:
            self._emit(event)
        self._sync_alertmanagers(events)
        self.metrics.record(
            snapshot, self.alerts.trackers.values(), events, [s.value for s in SOURCES]
        )
        await self.publisher.publish(snapshot, self.alerts.trackers.values())
        return events

    def _log_search_errors(self) -> None:
        for name, reason in self.alerts.search_errors.items():
            log.warning(
                "%s: since unknown (%s); using the moment this watcher first saw it, so "
                "another watcher may give this episode another id",
                redact(name),
                redact(reason),
            )

    def _emit(self, event: AlertEvent) -> None:
        level = (
            logging.WARNING if event.kind in (EventKind.FIRING, EventKind.ERROR) else logging.INFO
        )
        log.log(level, "%s", event_summary(event))
        if not self._stdout_broken:
            reason: str | None = None
            try:
                self.out.write(event_line(event) + "\n")
                self.out.flush()
            except (OSError, ValueError) as exc:  # a closed pipe must not end the daemon
                reason = describe_error(exc)
            if reason is None and getattr(self.out, "broken", False):
                reason = "its reader went away"  # the CLI's guard swallowed the broken pipe
            if reason is not None:
                self._stdout_broken = True
                log.error("stdout is gone (%s): events still go to the receivers", reason)
        if self.webhooks:
            record = event_record(event)
            for webhook in self.webhooks:
                webhook.put(record)

    def _sync_alertmanagers(self, events: list[AlertEvent]) -> None:
        firing: dict[str, ActiveAlert] = {}
        for name, tracker in self.alerts.trackers.items():
            obs = tracker.observation
            if obs is not None and obs.value is not None:
                self._last_values[name] = format_value(obs.value, obs.unit)
            if tracker.firing and tracker.since is not None:
                firing[name] = ActiveAlert(
                    tracker.rule,
                    tracker.since,
                    self._last_values.get(name, "no data"),
                    tracker.episode_id,
                )
        if not self.alertmanagers:
            return
        resolved = [
            ActiveAlert(
                e.rule,
                e.since.at if e.since else e.at,
                self._last_values.get(e.rule.key, "no data"),
                e.episode,
                ends_at=e.at,
            )
            for e in events
            if e.kind is EventKind.RESOLVED
        ]
        announce = any(e.kind is EventKind.FIRING and e.restored for e in events)
        for receiver in self.alertmanagers:
            receiver.update(firing, resolved, announce=announce)

    def _log_sources(self, snapshot: Snapshot) -> None:
        """One line when sources start failing, change reason, or recover (grouped by reason)."""
        failing: dict[str, list[str]] = {}
        recovered: list[str] = []
        for source in SOURCES:
            before, now = self._failed_sources.get(source), snapshot.failed.get(source)
            if now is not None and now != before:
                failing.setdefault(now, []).append(source.value)
            elif now is None and before is not None:
                recovered.append(source.value)
        for reason, names in failing.items():
            log.warning("%s unreadable: %s", ", ".join(names), redact(reason))
        if recovered:
            log.info("%s readable again", ", ".join(recovered))
        self._failed_sources = dict(snapshot.failed)


async def _bounded(awaitable: Awaitable[object], seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(awaitable, timeout=seconds)
