"""Live traffic: every second, the last second's rows, following the incident schedule.

Rows are inserted with `timestamp` left to `DEFAULT NOW()`, as the production writer does.
Open conflicts trickle in (a burst during the conflict incident), colleagues resolve some
through the same code path as the API (so a user may meet a 409 "already resolved by …"),
and devices occasionally push again, bumping a conflict's version.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from datetime import timedelta

from syncmon.core.clock import wall_clock
from syncmon.demo import fake_data as fd
from syncmon.demo.conflicts import ConflictStore, Decision
from syncmon.demo.database import DemoDatabase
from syncmon.demo.incidents import IncidentClock, Kind, incident
from syncmon.demo.workload import Profile, Workload, operations_per_minute

log = logging.getLogger(__name__)

MAX_OPEN_CONFLICTS = 30


class LiveTraffic:
    """`run()` until cancelled; `tick()` writes one second's worth (tests call it directly)."""

    def __init__(
        self,
        *,
        db: DemoDatabase,
        store: ConflictStore,
        workload: Workload,
        clock: IncidentClock,
        utc_offset: timedelta = timedelta(0),
    ) -> None:
        self.db = db
        self.store = store
        self.workload = workload
        self.rng: random.Random = workload.rng
        self.clock = clock
        self.utc_offset = utc_offset
        self.error_message_override: str | None = None
        self._previous: frozenset[Kind] = frozenset()

    async def run(self) -> None:
        next_at = time.monotonic()
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a database hiccup must not end the demo
                log.warning("live traffic: could not write this second: %s", exc)
            next_at = max(next_at + 1, time.monotonic())
            await asyncio.sleep(next_at - time.monotonic())

    async def tick(self) -> None:
        kinds = self.clock.active()
        self._log_transitions(kinds)
        profile = Profile.for_incidents(kinds, error_message_override=self.error_message_override)
        local = wall_clock() + self.utc_offset
        per_second = operations_per_minute(local.hour + local.minute / 60) / 60
        operations = self.workload.operations(profile, fd.poisson(self.rng, per_second))
        if self.error_message_override is not None and all(op[3] for op in operations):
            forced = Profile(
                sync_failure_p=1.0,
                plaid_failure_p=1.0,
                error_message_override=self.error_message_override,
            )
            operations.append(self.workload.operation(forced))
        readings = self.workload.health_readings(
            fd.poisson(self.rng, per_second / 14), stressed=bool(kinds)
        )
        auto_rate = profile.conflicts_per_min * profile.auto_share * per_second * 60 / 105 / 60
        autos = [self.workload.auto_resolution() for _ in range(fd.poisson(self.rng, auto_rate))]
        await self.db.insert_operations(operations)
        await self.db.insert_readings(readings)
        await self.db.insert_resolutions(autos)
        await self._evolve_conflicts(kinds)

    async def _evolve_conflicts(self, kinds: frozenset[Kind]) -> None:
        open_ids = self.store.open_ids()
        if Kind.CONFLICT_BURST in kinds:
            arrival_p = 12 / incident(Kind.CONFLICT_BURST).duration_s
        else:
            arrival_p = 1 / 45
        if len(open_ids) < MAX_OPEN_CONFLICTS and self.rng.random() < arrival_p:
            self.store.add()
        if len(open_ids) > 4 and self.rng.random() < (1 / 60 if len(open_ids) < 20 else 1 / 5):
            await self._colleague_resolves(self.rng.choice(open_ids[: len(open_ids) // 2]))
        if open_ids and self.rng.random() < 1 / 240:
            self.store.bump_version(self.rng.choice(open_ids))
        self.store.forget_resolved()

    async def _colleague_resolves(self, conflict_id: str) -> None:
        stored = self.store.get(conflict_id)
        if stored is None or not stored.is_open:
            return
        resolution = self.rng.choice(("keep_local", "keep_remote", "merge"))
        merged = {**stored.doc["remote"], **stored.doc["local"]} if resolution == "merge" else None
        decision = Decision(
            resolution=resolution,
            version=stored.doc["version"],
            resolved_by=self.rng.choice(fd.COLLEAGUES),
            merged=merged,
            note="resolved from the admin console",
        )
        await self.store.resolve(conflict_id, decision, self.db.insert_resolution)

    def _log_transitions(self, kinds: frozenset[Kind]) -> None:
        for kind in sorted(kinds - self._previous):
            log.info("incident started: %s", incident(kind).title)
        for kind in sorted(self._previous - kinds):
            log.info("incident over: %s", incident(kind).title)
        self._previous = kinds
