"""The demo's HTTP API: the seed's four health endpoints and the conflicts API of SPEC §1.3.

Tests of other parts drive it in-process through plain methods (`set_endpoint`,
`fail_next_resolves`, `resolve_requests`) rather than through extra HTTP routes, so the
wire surface stays exactly what production offers.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from syncmon.core.clock import wall_clock
from syncmon.demo.conflicts import (
    AlreadyResolved,
    ConflictStore,
    Resolved,
    VersionMismatch,
    parse_decision,
)
from syncmon.demo.database import DemoDatabase
from syncmon.demo.fake_data import lognormal_ms, rfc3339
from syncmon.demo.health_bodies import ENDPOINTS, HEALTH_PATHS, health_response
from syncmon.demo.http_server import Request, Response, Router, error_response
from syncmon.demo.incidents import Kind

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-XSS-Protection": "1; mode=block",
}
ENDPOINT_STATUSES = ("up", "degraded", "down", "hang")
_RESOLVE_PATH = re.compile(r"^/api/v1/sync/conflicts/[^/]+/resolve$")


@dataclass
class RecordedRequest:
    """A request to the resolve route as received; `body` is the parsed JSON or None."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw_body: bytes
    response_status: int | None = None


@dataclass(frozen=True)
class EndpointOverride:
    status: str
    latency_ms: float | None = None
    output: str | None = None


class DemoApi:
    """The request handler; `active_incidents` says what the schedule is doing right now."""

    def __init__(
        self,
        *,
        store: ConflictStore,
        db: DemoDatabase,
        rng: random.Random,
        token: SecretStr | None = None,
        active_incidents: Callable[[], frozenset[Kind]] = frozenset,
    ) -> None:
        self.store = store
        self.db = db
        self.rng = rng
        self.token = token
        self.active_incidents = active_incidents
        self.resolve_requests: list[RecordedRequest] = []
        self._overrides: dict[str, EndpointOverride] = {}
        self._failures_left = 0
        self._failure_status = 503
        self.resolve_gate: asyncio.Event | None = None  # set: resolve requests wait for it
        self._started = wall_clock()
        self.router = Router()
        for name, path in HEALTH_PATHS.items():
            self.router.add("GET", path, self._health_handler(name))
        self.router.add("GET", "/", self._index)
        self.router.add("GET", "/api/v1/sync/conflicts", self._list_conflicts)
        self.router.add("GET", "/api/v1/sync/conflicts/{id}", self._get_conflict)
        self.router.add("POST", "/api/v1/sync/conflicts/{id}/resolve", self._resolve)

    # -- test hooks ----------------------------------------------------------------------

    def fail_next_resolves(self, count: int, status: int = 503) -> None:
        """The next `count` resolve requests answer `status` and change nothing."""
        self._failures_left, self._failure_status = count, status

    def hold_resolves(self) -> asyncio.Event:
        """Resolve requests wait until the returned event is set (a slow API)."""
        self.resolve_gate = asyncio.Event()
        return self.resolve_gate

    def set_endpoint(
        self,
        name: str,
        status: str = "up",
        latency_ms: float | None = None,
        *,
        output: str | None = None,
    ) -> None:
        """Pin an endpoint's state (over the incident schedule) until `reset_endpoints()`."""
        if name not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {name!r}; one of {', '.join(ENDPOINTS)}")
        if status not in ENDPOINT_STATUSES:
            raise ValueError(f"unknown status {status!r}; one of {', '.join(ENDPOINT_STATUSES)}")
        self._overrides[name] = EndpointOverride(status, latency_ms, output)

    def reset_endpoints(self) -> None:
        self._overrides.clear()

    # -- dispatch ------------------------------------------------------------------------

    async def __call__(self, request: Request) -> Response:
        recorded = self._record(request)
        if self.token is not None and not self._authorised(request):
            response = error_response(401, "missing or invalid bearer token")
            response.headers["WWW-Authenticate"] = 'Bearer realm="syncmon-demo"'
        else:
            response = await self.router(request)
        if recorded is not None:
            recorded.response_status = response.status
        response.headers = {**SECURITY_HEADERS, "Cache-Control": "no-store", **response.headers}
        return response

    def _authorised(self, request: Request) -> bool:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        expected = (self.token.get_secret_value() if self.token else "").encode()
        return scheme.lower() == "bearer" and hmac.compare_digest(
            credentials.strip().encode(), expected
        )

    def _record(self, request: Request) -> RecordedRequest | None:
        if request.method != "POST" or not _RESOLVE_PATH.match(request.path):
            return None
        try:
            body = request.json()
        except ValueError:
            body = None
        recorded = RecordedRequest(
            request.method, request.path, dict(request.headers), body, request.body
        )
        self.resolve_requests.append(recorded)
        return recorded

    # -- health --------------------------------------------------------------------------

    def _health_handler(self, name: str) -> Callable[[Request], Any]:
        async def handler(request: Request) -> Response:
            return await self._health(name)

        return handler

    def _scheduled_status(self, name: str, kinds: frozenset[Kind]) -> str:
        if name == "redis" and Kind.REDIS_DOWN in kinds:
            return "down"
        if name == "plaid" and Kind.PLAID_OUTAGE in kinds:
            return "degraded"
        if name == "sync" and kinds & {Kind.SYNC_FAILURES, Kind.SLOW_SYNCS}:
            return "degraded"
        return "up"

    async def _health(self, name: str) -> Response:
        kinds = self.active_incidents()
        override = self._overrides.get(name)
        status = override.status if override else self._scheduled_status(name, kinds)
        if status == "hang":
            await asyncio.Event().wait()  # until the client gives up or the server stops
        latency = (
            override.latency_ms
            if override and override.latency_ms is not None
            else (
                lognormal_ms(self.rng, 1800, 0.2, 4000)
                if Kind.SLOW_HEALTH in kinds
                else lognormal_ms(self.rng, 9, 0.6, 60)
            )
        )
        await asyncio.sleep(latency / 1000)
        db_ms: float | None = None
        if name == "database":
            try:
                db_ms = await self.db.ping()
            except Exception as exc:  # the database's own outage is what this endpoint reports
                log.debug("database ping failed: %s", exc)
                status = override.status if override else "down"
        return health_response(
            name,
            status,
            rng=self.rng,
            kinds=kinds,
            db_ms=db_ms,
            output=override.output if override else None,
            started=self._started,
        )

    # -- conflicts -----------------------------------------------------------------------

    async def _index(self, request: Request) -> Response:
        return Response.json(
            200,
            {
                "service": "syncmon demo backend",
                "health": list(HEALTH_PATHS.values()),
                "conflicts": "/api/v1/sync/conflicts",
            },
        )

    async def _list_conflicts(self, request: Request) -> Response:
        status = request.query_value("status", "open")
        if status not in ("open", "resolved", "all"):
            return Response.json(
                422,
                {
                    "error": "invalid status filter",
                    "detail": "status must be open, resolved or all",
                },
            )
        user_id = request.query_value("user_id") or None
        return Response.json(200, {"conflicts": self.store.listing(status, user_id)})

    async def _get_conflict(self, request: Request) -> Response:
        conflict_id = _canonical_id(request.path_params["id"])
        stored = self.store.get(conflict_id) if conflict_id else None
        if stored is None:
            return error_response(404, "no such conflict")
        return Response.json(200, stored.public())

    async def _resolve(self, request: Request) -> Response:
        if self.resolve_gate is not None:
            await self.resolve_gate.wait()
        if self._failures_left > 0:
            self._failures_left -= 1
            return error_response(self._failure_status, "injected failure (demo test hook)")
        conflict_id = _canonical_id(request.path_params["id"])
        if conflict_id is None or self.store.get(conflict_id) is None:
            return error_response(404, "no such conflict")
        try:
            payload = request.json()
        except ValueError as exc:
            return Response.json(422, {"error": "body is not valid JSON", "detail": str(exc)})
        decision = parse_decision(payload)
        if isinstance(decision, list):
            return Response.json(422, {"error": "invalid resolution request", "detail": decision})
        try:
            outcome = await self.store.resolve(conflict_id, decision, self.db.insert_resolution)
        except Exception:
            log.exception("could not record the resolution of %s", conflict_id)
            return error_response(503, "could not record the resolution; nothing was changed")
        if isinstance(outcome, Resolved):
            return Response.json(
                200, {"status": "resolved", "resolution_id": str(outcome.resolution_id)}
            )
        if isinstance(outcome, AlreadyResolved):
            return Response.json(
                409,
                {
                    "error": "conflict already resolved",
                    "resolved_by": outcome.resolved_by,
                    "resolved_at": rfc3339(outcome.resolved_at),
                },
            )
        if isinstance(outcome, VersionMismatch):
            return Response.json(
                409, {"error": "version mismatch", "current_version": outcome.current_version}
            )
        return error_response(404, "no such conflict")


def _canonical_id(raw: str) -> str | None:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None
