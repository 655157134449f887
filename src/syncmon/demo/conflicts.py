"""Open sync conflicts and the rules for resolving one (SPEC §1.3).

The seed's schema keeps only the *history* of resolutions, so open conflicts live in
memory. Resolving is check-then-write under one lock: of two simultaneous requests for
the same conflict exactly one wins, and a conflict is marked resolved only after its
history row was written.
"""

from __future__ import annotations

import asyncio
import copy
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from syncmon.core.clock import wall_clock
from syncmon.demo import fake_data as fd
from syncmon.demo.workload import Resolution, manual_resolution_row

RESOLUTIONS = ("keep_local", "keep_remote", "merge")
CONFLICT_FIELDS = (
    "id",
    "user_id",
    "entity_type",
    "entity_id",
    "detected_at",
    "version",
    "local",
    "remote",
    "base",
)


@dataclass(frozen=True)
class Decision:
    """A validated resolve request body."""

    resolution: str
    version: int
    resolved_by: str
    merged: dict[str, Any] | None = None
    note: str | None = None


def parse_decision(payload: Any) -> Decision | list[dict[str, str]]:
    """The decision, or the list of problems with the body (for a 422's `detail`)."""
    if not isinstance(payload, dict):
        return [{"field": "", "message": "the body must be a JSON object"}]
    problems: list[dict[str, str]] = []

    def problem(name: str, message: str) -> None:
        problems.append({"field": name, "message": message})

    resolution = payload.get("resolution")
    if resolution not in RESOLUTIONS:
        problem("resolution", f"must be one of {', '.join(RESOLUTIONS)}")
    version = payload.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        problem("version", "required, an integer")
    resolved_by = payload.get("resolved_by")
    if not isinstance(resolved_by, str) or not resolved_by.strip():
        problem("resolved_by", "required, a non-empty string")
    note = payload.get("note")
    if note is not None and not isinstance(note, str):
        problem("note", "must be a string")
    merged = payload.get("merged")
    if resolution == "merge" and not isinstance(merged, dict):
        problem("merged", "required for a merge, a JSON object")
    elif resolution in ("keep_local", "keep_remote") and merged is not None:
        problem("merged", "only allowed with resolution 'merge'")
    if problems:
        return problems
    assert isinstance(resolution, str) and isinstance(version, int)  # checked above
    assert isinstance(resolved_by, str)
    return Decision(
        resolution=resolution, version=version, resolved_by=resolved_by, merged=merged, note=note
    )


@dataclass
class StoredConflict:
    doc: dict[str, Any]
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolution_id: uuid.UUID | None = None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def public(self) -> dict[str, Any]:
        """The contract's Conflict object (plus `status`), safe for the caller to mutate."""
        out = copy.deepcopy(self.doc)
        out["status"] = "open" if self.is_open else "resolved"
        return out


@dataclass(frozen=True)
class Resolved:
    resolution_id: uuid.UUID


@dataclass(frozen=True)
class AlreadyResolved:
    resolved_by: str
    resolved_at: datetime


@dataclass(frozen=True)
class VersionMismatch:
    current_version: int


Outcome = Resolved | AlreadyResolved | VersionMismatch | None  # None: no such conflict
HistoryWriter = Callable[[uuid.UUID, Resolution], Awaitable[None]]


@dataclass
class ConflictStore:
    rng: random.Random
    users: list[uuid.UUID]
    conflicts: dict[str, StoredConflict] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def add(self, **fields: Any) -> dict[str, Any]:
        """A new open conflict: random but plausible, with `fields` overriding any part."""
        unknown = set(fields) - set(CONFLICT_FIELDS)
        if unknown:
            raise TypeError(f"unknown conflict fields: {', '.join(sorted(unknown))}")
        now = wall_clock()
        kind = fields.get("entity_type") or fd.entity_type(self.rng)
        kind = kind if kind in ("transaction", "budget", "account") else "transaction"
        local, remote, base = fd.conflict_documents(self.rng, kind, now)
        doc: dict[str, Any] = {
            "id": str(fd.new_uuid(self.rng)),
            "user_id": str(self.rng.choice(self.users)),
            "entity_type": kind,
            "entity_id": fd.entity_id(self.rng, kind),
            "detected_at": now - timedelta(seconds=self.rng.uniform(0, 5)),
            "version": self.rng.randint(2, 9),
            "local": local,
            "remote": remote,
            "base": base,
        }
        doc.update(fields)
        if isinstance(doc["detected_at"], datetime):
            doc["detected_at"] = fd.rfc3339(doc["detected_at"])
        # The history table keys on UUIDs: refuse anything else now, not at resolve time.
        for key in ("id", "user_id"):
            doc[key] = str(uuid.UUID(str(doc[key])))
        self.conflicts[doc["id"]] = StoredConflict(doc)
        return copy.deepcopy(doc)

    def get(self, conflict_id: str) -> StoredConflict | None:
        return self.conflicts.get(conflict_id)

    def listing(self, status: str = "open", user_id: str | None = None) -> list[dict[str, Any]]:
        wanted = {"open": (True,), "resolved": (False,), "all": (True, False)}[status]
        return [
            c.public()
            for c in self.conflicts.values()
            if c.is_open in wanted and (user_id is None or c.doc["user_id"] == user_id)
        ]

    def open_ids(self) -> list[str]:
        return [cid for cid, c in self.conflicts.items() if c.is_open]

    def bump_version(
        self,
        conflict_id: str,
        remote_changes: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The device pushed again: a new remote document and version (stale clients get 409)."""
        stored = self.conflicts[conflict_id]
        stored.doc["version"] += 1
        stored.doc["remote"] = {
            **stored.doc["remote"],
            **(remote_changes or {}),
            "updated_at": fd.rfc3339(wall_clock()),
        }
        return copy.deepcopy(stored.doc)

    def forget_resolved(self, keep: int = 200) -> None:
        """Bound memory: keep only the most recent resolved conflicts (for 409 answers)."""
        resolved = [cid for cid, c in self.conflicts.items() if not c.is_open]
        for cid in resolved[:-keep] if len(resolved) > keep else []:
            del self.conflicts[cid]

    async def resolve(
        self, conflict_id: str, decision: Decision, write_history: HistoryWriter
    ) -> Outcome:
        async with self._lock:
            stored = self.conflicts.get(conflict_id)
            if stored is None:
                return None
            if not stored.is_open:
                assert stored.resolved_by is not None and stored.resolved_at is not None
                return AlreadyResolved(stored.resolved_by, stored.resolved_at)
            if decision.version != stored.doc["version"]:
                return VersionMismatch(stored.doc["version"])
            resolution_id = uuid.uuid4()
            row = manual_resolution_row(
                uuid.UUID(stored.doc["user_id"]),
                uuid.UUID(conflict_id),
                resolution=decision.resolution,
                merged=decision.merged,
                resolved_by=decision.resolved_by,
                note=decision.note,
                version=decision.version,
                extra={
                    "entity_type": stored.doc["entity_type"],
                    "entity_id": stored.doc["entity_id"],
                },
            )
            await write_history(resolution_id, row)
            stored.resolved_by, stored.resolved_at = decision.resolved_by, wall_clock()
            stored.resolution_id = resolution_id
            return Resolved(resolution_id)
