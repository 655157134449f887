"""`DemoBackend`: an embedded database, its history, the HTTP API and live traffic, as one.

Used by `syncmon demo`, by `syncmon demo --serve-only` and by integration tests of other
parts, which is why the test hooks are plain methods here. Nothing outside `syncmon.demo`
imports this module except the CLI (lazily) and tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from syncmon.demo.api import DemoApi, RecordedRequest
from syncmon.demo.conflicts import ConflictStore
from syncmon.demo.database import DemoDatabase
from syncmon.demo.history import load_history
from syncmon.demo.http_server import HttpServer
from syncmon.demo.incidents import IncidentClock, Kind
from syncmon.demo.traffic import LiveTraffic
from syncmon.demo.workload import Workload
from syncmon.embedded.postgres import EmbeddedPostgres

log = logging.getLogger(__name__)


class DemoBackend:
    """Start with `await start()` (or `async with`); `api_url` and `dsn` are then valid.

    With `dsn`, the given database (schema already created) is used as is: no cluster is
    started and no schema created. `timezone` is the embedded cluster's `TimeZone`.
    """

    def __init__(
        self,
        *,
        timezone: str = "UTC",
        history_hours: float = 24,
        live: bool = True,
        seed: int | None = None,
        token: SecretStr | None = None,
        bin_dir: Path | None = None,
        dsn: str | None = None,
        port: int = 0,
        initial_conflicts: int = 6,
    ) -> None:
        self.timezone = timezone
        self.history_hours = history_hours
        self.live = live
        self.token = token
        self.bin_dir = bin_dir
        self.port = port
        self.initial_conflicts = initial_conflicts
        self.rng = random.Random(seed)
        self.workload = Workload(self.rng)
        self.clock = IncidentClock(running=live)
        self.store = ConflictStore(self.rng, self.workload.users)
        self._given_dsn = dsn
        self._pg: EmbeddedPostgres | None = None
        self._db: DemoDatabase | None = None
        self._http: HttpServer | None = None
        self._api: DemoApi | None = None
        self._traffic: LiveTraffic | None = None
        self._traffic_task: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        dsn = self._given_dsn
        if dsn is None:
            # No password: trust auth on 127.0.0.1, so the DSN we print holds no secret.
            self._pg = EmbeddedPostgres(bin_dir=self.bin_dir, password="", timezone=self.timezone)
            await asyncio.to_thread(self._pg.start)
            dsn = self._pg.dsn
        self._db = DemoDatabase(dsn)
        await self._db.open()
        if self._pg is not None:
            await self._db.create_schema()
        assert self._db.pool is not None
        async with self._db.pool.acquire() as conn:
            offset = await conn.fetchval("SELECT localtimestamp - (now() AT TIME ZONE 'UTC')")
            if self.history_hours > 0:
                await load_history(conn, self.workload, hours=self.history_hours)
        for _ in range(self.initial_conflicts):
            self.store.add()
        self._api = DemoApi(
            store=self.store,
            db=self._db,
            rng=self.rng,
            token=self.token,
            active_incidents=self.clock.active,
        )
        self._http = HttpServer(self._api, port=self.port)
        await self._http.start()
        self._traffic = LiveTraffic(
            db=self._db,
            store=self.store,
            workload=self.workload,
            clock=self.clock,
            utc_offset=_as_timedelta(offset),
        )
        if self.live:
            self.clock.restart()  # the schedule counts from now, not from construction
            self._traffic_task = asyncio.create_task(self._traffic.run(), name="demo-traffic")
        log.info("demo backend ready: %s", self.api_url)

    async def stop(self) -> None:
        """Stop traffic, HTTP and database, and delete every temporary directory."""
        if self._traffic_task is not None:
            self._traffic_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._traffic_task
            self._traffic_task = None
        if self._http is not None:
            await self._http.stop()
            self._http = None
        if self._db is not None:
            await self._db.close()
            self._db = None
        if self._pg is not None:
            pg, self._pg = self._pg, None
            await asyncio.to_thread(pg.cleanup)

    async def __aenter__(self) -> DemoBackend:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        if self._http is None:
            raise RuntimeError("the demo backend is not started")
        return self._http.url

    @property
    def dsn(self) -> str:
        if self._db is None:
            raise RuntimeError("the demo backend is not started")
        return self._db.dsn

    @property
    def api(self) -> DemoApi:
        if self._api is None:
            raise RuntimeError("the demo backend is not started")
        return self._api

    # -- test hooks ----------------------------------------------------------------------

    @property
    def resolve_requests(self) -> list[RecordedRequest]:
        return self.api.resolve_requests

    def fail_next_resolves(self, count: int, status: int = 503) -> None:
        self.api.fail_next_resolves(count, status)

    def hold_resolves(self) -> asyncio.Event:
        return self.api.hold_resolves()

    def set_endpoint(
        self,
        name: str,
        status: str = "up",
        latency_ms: float | None = None,
        *,
        output: str | None = None,
    ) -> None:
        self.api.set_endpoint(name, status, latency_ms, output=output)

    def reset_endpoints(self) -> None:
        self.api.reset_endpoints()

    def add_conflict(self, **fields: Any) -> dict[str, Any]:
        return self.store.add(**fields)

    def open_conflicts(self) -> list[dict[str, Any]]:
        return self.store.listing("open")

    def clear_conflicts(self) -> None:
        self.store.conflicts.clear()

    def bump_conflict_version(
        self, conflict_id: str, remote_changes: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return self.store.bump_version(conflict_id, remote_changes)

    def set_error_message_override(self, text: str | None) -> None:
        """Live failures carry `text` (and every second has at least one); None restores."""
        self._require_traffic().error_message_override = text

    def jump_to_incident(self, kind: Kind | str) -> None:
        """Continue the incident schedule from the start of `kind` (also when not live)."""
        self.clock.jump_to(kind)

    def active_incidents(self) -> frozenset[Kind]:
        return self.clock.active()

    async def write_traffic_tick(self) -> None:
        """Write one second of live traffic now (for tests running with `live=False`)."""
        await self._require_traffic().tick()

    def _require_traffic(self) -> LiveTraffic:
        if self._traffic is None:
            raise RuntimeError("the demo backend is not started")
        return self._traffic


def _as_timedelta(value: object) -> timedelta:
    return value if isinstance(value, timedelta) else timedelta(0)
