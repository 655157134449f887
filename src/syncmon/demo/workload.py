"""What the app's clients do in a stretch of time, as rows for the three metrics tables.

One generator serves both the history loader (which stamps rows itself) and the live
traffic (which leaves `timestamp` to `DEFAULT NOW()`), so incidents in the past look
exactly like the ones the demo plays live.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from syncmon.demo import fake_data as fd
from syncmon.demo.incidents import Kind

# (user_id, operation_type, duration_ms, success, error_message)
Operation = tuple[uuid.UUID, str, int, bool, str | None]
# (user_id, sync_session_id, metric_type, metric_value as JSON text)
HealthReading = tuple[uuid.UUID, uuid.UUID, str, str]
# (user_id, conflict_id, resolution_type, resolution_data as JSON text, auto_resolved)
Resolution = tuple[uuid.UUID, uuid.UUID, str, str, bool]

_MEDIAN_MS = {
    "sync_push": 450,
    "sync_pull": 380,
    "sync_full": 1900,
    "conflict_check": 120,
    "plaid_transactions": 900,
    "plaid_balance": 600,
    "plaid_link": 1500,
}
SYNC_TIMEOUT_MS = 30_000  # the seed's `timeouts.sync`


def operations_per_minute(local_hour: float) -> float:
    """Daily rhythm: ~60/min around 02:00 local, ~150/min in the early afternoon."""
    return 105 + 45 * math.cos(2 * math.pi * (local_hour - 14) / 24)


@dataclass(frozen=True)
class Profile:
    """Failure probabilities and latency factors for one moment, given the active incidents."""

    sync_failure_p: float = 0.005
    plaid_failure_p: float = 0.0025
    sync_slowdown: float = 1.0
    conflicts_per_min: float = 6.0
    auto_share: float = 0.9
    error_message_override: str | None = None

    @classmethod
    def for_incidents(
        cls, kinds: Collection[Kind], *, error_message_override: str | None = None
    ) -> Profile:
        return cls(
            sync_failure_p=0.22 if Kind.SYNC_FAILURES in kinds else 0.005,
            plaid_failure_p=0.45 if Kind.PLAID_OUTAGE in kinds else 0.0025,
            sync_slowdown=30.0 if Kind.SLOW_SYNCS in kinds else 1.0,
            conflicts_per_min=40.0 if Kind.CONFLICT_BURST in kinds else 6.0,
            auto_share=0.55 if Kind.CONFLICT_BURST in kinds else 0.9,
            error_message_override=error_message_override,
        )


class Workload:
    """Draws rows from one `random.Random`, for one fixed population of users."""

    def __init__(self, rng: random.Random, users: Sequence[uuid.UUID] | None = None) -> None:
        self.rng = rng
        self.users = list(users) if users is not None else fd.make_users(rng)

    def operation(self, profile: Profile) -> Operation:
        rng = self.rng
        user = rng.choice(self.users)
        errors: Sequence[str]
        if rng.random() < fd.PLAID_SHARE:
            op = fd.weighted(rng, fd.PLAID_OPERATIONS)
            failed = rng.random() < profile.plaid_failure_p
            errors = fd.PLAID_OUTAGE_ERRORS if profile.plaid_failure_p > 0.1 else fd.PLAID_ERRORS
            duration = fd.lognormal_ms(rng, _MEDIAN_MS[op], 0.5, SYNC_TIMEOUT_MS)
        else:
            op = fd.weighted(rng, fd.SYNC_OPERATIONS)
            failed = rng.random() < profile.sync_failure_p
            errors = fd.SYNC_SPIKE_ERRORS if profile.sync_failure_p > 0.1 else fd.SYNC_ERRORS
            duration = fd.lognormal_ms(
                rng, _MEDIAN_MS[op] * profile.sync_slowdown, 0.55, SYNC_TIMEOUT_MS
            )
            if duration >= SYNC_TIMEOUT_MS and rng.random() < 0.3:
                failed, errors = True, (fd.SYNC_ERRORS[0],)
        if not failed:
            return (user, op, duration, True, None)
        message = profile.error_message_override or rng.choice(errors)
        if "timeout" in message:
            duration = SYNC_TIMEOUT_MS
        else:  # errors answered by a server come back fast
            duration = min(duration, fd.lognormal_ms(rng, 250, 0.8, SYNC_TIMEOUT_MS))
        return (user, op, duration, False, message)

    def operations(self, profile: Profile, count: int) -> list[Operation]:
        return [self.operation(profile) for _ in range(count)]

    def health_readings(self, sessions: int, *, stressed: bool = False) -> list[HealthReading]:
        """Each device sync session reports two or three readings."""
        rows: list[HealthReading] = []
        for _ in range(sessions):
            user, session = self.rng.choice(self.users), fd.new_uuid(self.rng)
            for metric_type in self.rng.sample(fd.HEALTH_METRIC_TYPES, self.rng.randint(2, 3)):
                value = fd.health_reading(self.rng, metric_type, stressed=stressed)
                rows.append((user, session, metric_type, json.dumps(value)))
        return rows

    def auto_resolution(self) -> Resolution:
        rng = self.rng
        strategy = rng.choice(fd.AUTO_RESOLUTIONS)
        kind = fd.entity_type(rng)
        data = {
            "strategy": strategy,
            "entity_type": kind,
            "entity_id": fd.entity_id(rng, kind),
            "fields": rng.randint(1, 4),
            "version": rng.randint(2, 40),
        }
        return (rng.choice(self.users), fd.new_uuid(rng), strategy, json.dumps(data), True)

    def resolutions(self, profile: Profile, count: int) -> list[Resolution]:
        rows = []
        for _ in range(count):
            if self.rng.random() < profile.auto_share:
                rows.append(self.auto_resolution())
            else:
                rows.append(
                    manual_resolution_row(
                        self.rng.choice(self.users),
                        fd.new_uuid(self.rng),
                        resolution=self.rng.choice(tuple(fd.MANUAL_RESOLUTIONS)),
                        merged=None,
                        resolved_by=self.rng.choice(fd.COLLEAGUES),
                        note=None,
                        version=self.rng.randint(1, 12),
                    )
                )
        return rows


def manual_resolution_row(
    user_id: uuid.UUID,
    conflict_id: uuid.UUID,
    *,
    resolution: str,
    merged: dict[str, object] | None,
    resolved_by: str,
    note: str | None,
    version: int,
    extra: dict[str, object] | None = None,
) -> Resolution:
    """The `conflict_resolution_history` row for an engineer's decision."""
    if resolution == "merge" and merged is None:
        merged = {}
    data = {
        "resolution": resolution,
        "merged": merged,
        "resolved_by": resolved_by,
        "note": note,
        "version": version,
        **(extra or {}),
    }
    return (user_id, conflict_id, fd.MANUAL_RESOLUTIONS[resolution], json.dumps(data), False)
