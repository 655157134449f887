"""What a serving watcher adds to each cycle (SPEC §16): what viewers need beyond alerting.

Only with `--metrics-port`: the poll also fetches the failures list and, at most every 30 s
(as a dashboard does), the charts' hour of one-minute buckets — both travel in the statements
the watcher makes anyway, so a viewer costs the database nothing. With Alertmanagers the
silences are read back each cycle, beside the poll, so viewers show who acknowledged what.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from syncmon.config.redaction import describe_error
from syncmon.core.alerts import AlertTracker
from syncmon.core.silences import SilenceRead
from syncmon.engine.poll import ChartSeries, PollRequest, Snapshot
from syncmon.feed.encode import encode
from syncmon.headless.serve import StateServer

if TYPE_CHECKING:
    from syncmon.headless.watch import WatchOptions
    from syncmon.sinks.alertmanager import AlertmanagerClient

CHART_SPAN_MINUTES = 60
CHART_EVERY = 30.0  # seconds


class Publisher:
    def __init__(self, registry: CollectorRegistry, options: WatchOptions) -> None:
        self.options = options
        self.serving = options.metrics_port is not None
        self.server = StateServer(
            registry, token=options.token, heartbeat=options.interval.total_seconds() / 2
        )
        self.seq = 0
        self._chart: ChartSeries | None = None
        self._chart_at: float | None = None
        self._clients: dict[str, AlertmanagerClient] = {}
        self._reading: asyncio.Task[list[SilenceRead]] | None = None
        self._silences: list[SilenceRead] = []

    async def start(self) -> None:
        """Listen on --metrics-port (OSError when it is taken)."""
        if self.serving:
            assert self.options.metrics_port is not None
            await self.server.start(self.options.metrics_host, self.options.metrics_port)

    async def close(self) -> None:
        if self._reading is not None:
            self._reading.cancel()
        await self.server.close()
        for client in self._clients.values():
            with contextlib.suppress(Exception):
                await client.close()

    def request(self) -> PollRequest:
        """This cycle's poll; starts reading the silences beside it."""
        if not self.serving:
            return PollRequest()
        if self.options.alertmanagers and self._reading is None:
            self._reading = asyncio.ensure_future(self._read_silences())
        now = time.monotonic()
        chart = self._chart_at is None or now - self._chart_at >= CHART_EVERY
        if chart:
            self._chart_at = now
        return PollRequest(
            chart_span=timedelta(minutes=CHART_SPAN_MINUTES) if chart else None,
            chart_buckets=CHART_SPAN_MINUTES,
            top_errors=5,
        )

    async def publish(self, snapshot: Snapshot, trackers: Iterable[AlertTracker]) -> None:
        if not self.serving:
            return
        if snapshot.chart is not None:
            self._chart = snapshot.chart
        elif self._chart is not None:  # the last hour's buckets, until the next refetch
            snapshot.chart = self._chart
        if self._reading is not None and self._reading.done():  # never waited for: a hung
            self._silences = self._reading.result()  # Alertmanager must not delay the state
            self._reading = None
        self.seq += 1
        document = encode(
            snapshot,
            trackers,
            interval=self.options.interval,
            seq=self.seq,
            silences=self._silences,
        )
        await self.server.publish(document)

    async def _read_silences(self) -> list[SilenceRead]:
        from syncmon.sinks.alertmanager import AlertmanagerClient

        async def one(url: str) -> SilenceRead:
            if url not in self._clients:
                self._clients[url] = AlertmanagerClient(url, timeout=self.options.receiver_timeout)
            try:
                return SilenceRead(url, await self._clients[url].list_silences())
            except Exception as exc:  # the client raises for every failure: a value here
                return SilenceRead(url, None, describe_error(exc))

        return list(await asyncio.gather(*(one(url) for url in self.options.alertmanagers)))
