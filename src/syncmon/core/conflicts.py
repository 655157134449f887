"""Sync conflicts and the outcome of resolving one by hand (SPEC §1.3). Pure data, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from syncmon.core.timefmt import parse_iso

# The canonical 8-4-4-4-12 form only: the id becomes a URL path segment, so nothing looser
# (braces, `urn:uuid:`, or `…/../…`) may pass.
_CONFLICT_ID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def is_conflict_id(value: object) -> bool:
    """True for a UUID written as the contract says (SPEC §1.3): safe to put in a URL."""
    return isinstance(value, str) and _CONFLICT_ID.fullmatch(value) is not None


class Resolution(StrEnum):
    KEEP_LOCAL = "keep_local"
    KEEP_REMOTE = "keep_remote"
    MERGE = "merge"


@dataclass(frozen=True)
class Conflict:
    id: str
    user_id: str
    entity_type: str
    entity_id: str
    detected_at: datetime | None
    version: int
    local: dict[str, Any]
    remote: dict[str, Any]
    base: dict[str, Any] | None

    @classmethod
    def from_json(cls, data: Any) -> Conflict:
        """Build from the API's JSON, raising ValueError on anything malformed."""
        if not isinstance(data, dict):
            raise ValueError("a conflict must be a JSON object")
        if not is_conflict_id(data.get("id")):
            raise ValueError("id must be a UUID")
        try:
            detected = data.get("detected_at")
            detected_at = parse_iso(str(detected)) if detected else None
            if detected_at is not None and detected_at.tzinfo is None:
                # RFC 3339 requires an offset; read one without it as UTC rather than lose
                # the conflict (and never compare naive with aware times when sorting)
                detected_at = detected_at.replace(tzinfo=UTC)
            version = data["version"]
            if not isinstance(version, int) or isinstance(version, bool):
                raise ValueError("version must be an integer")
            local, remote, base = data["local"], data["remote"], data.get("base")
            if not isinstance(local, dict) or not isinstance(remote, dict):
                raise ValueError("local and remote must be JSON objects")
            if base is not None and not isinstance(base, dict):
                raise ValueError("base must be a JSON object or null")
            return cls(
                str(data["id"]),
                str(data.get("user_id", "")),
                str(data.get("entity_type", "")),
                str(data.get("entity_id", "")),
                detected_at,
                version,
                local,
                remote,
                base,
            )
        except KeyError as exc:
            raise ValueError(f"missing field {exc.args[0]!r}") from None


class OutcomeKind(StrEnum):
    RESOLVED = "resolved"
    ALREADY_RESOLVED = "already_resolved"  # 409
    NOT_FOUND = "not_found"  # 404
    REJECTED = "rejected"  # 422 / other 4xx: the request itself is wrong
    FAILED = "failed"  # timeout, refused, 5xx: nothing is known to have happened; retry


@dataclass(frozen=True)
class ResolveOutcome:
    kind: OutcomeKind
    message: str
    resolution_id: str | None = None
    resolved_by: str | None = None
    http_status: int | None = None

    @property
    def retryable(self) -> bool:
        return self.kind is OutcomeKind.FAILED


@dataclass(frozen=True)
class ResolveRequest:
    """What the engineer confirmed: the conflict, the choice, the note and a merged document."""

    conflict: Conflict
    resolution: Resolution
    note: str = ""
    merged: dict[str, Any] | None = None


@dataclass(frozen=True)
class FieldDiff:
    key: str
    local: Any
    remote: Any
    base: Any
    differs: bool


_MISSING = object()


def diff_documents(
    local: dict[str, Any], remote: dict[str, Any], base: dict[str, Any] | None
) -> list[FieldDiff]:
    """Field-by-field comparison of the three sides, keys in a stable order."""
    keys = list(dict.fromkeys([*local, *remote, *(base or {})]))
    rows = []
    for key in keys:
        lv, rv = local.get(key, _MISSING), remote.get(key, _MISSING)
        bv = (base or {}).get(key, _MISSING)
        rows.append(
            FieldDiff(
                key,
                None if lv is _MISSING else lv,
                None if rv is _MISSING else rv,
                None if bv is _MISSING else bv,
                lv != rv,
            )
        )
    return rows


@dataclass(frozen=True)
class Discarded:
    """A field whose value on the side not kept is lost: `lost` is that value, `kept` ours.

    `kept_missing` says the kept side has no such field at all (distinct from JSON null).
    """

    key: str
    lost: Any
    kept: Any
    kept_missing: bool = False


def discarded_fields(conflict: Conflict, resolution: Resolution) -> list[Discarded]:
    """What keep-local or keep-remote throws away: every field where the other side differs.

    A field only the other side has is lost too; a field only the kept side has loses
    nothing. A merge discards whatever the engineer left out, which the editor shows, so it
    has no list here.
    """
    if resolution is Resolution.KEEP_LOCAL:
        kept, other = conflict.local, conflict.remote
    elif resolution is Resolution.KEEP_REMOTE:
        kept, other = conflict.remote, conflict.local
    else:
        return []
    lost: list[Discarded] = []
    for key, theirs in other.items():
        if key in kept and _same_json(kept[key], theirs):
            continue
        lost.append(Discarded(key, theirs, kept.get(key), kept_missing=key not in kept))
    return lost


def _same_json(a: Any, b: Any) -> bool:
    """JSON equality: 1 and 1.0 are the same number, but true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and bool(a == b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and bool(a == b)
