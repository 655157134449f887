"""Alertmanager's v2 API: posting alerts (watch) and silences (the dashboard's acknowledge).

Labels are an alert's identity: every watcher must send exactly the same ones for the same
rule so Alertmanager deduplicates them, hence `alert_labels` never includes the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from pydantic import SecretStr

from syncmon.config.redaction import redact
from syncmon.core.clock import Clock, wall_clock
from syncmon.core.rules import AlertRule
from syncmon.core.silences import Silence, alert_labels
from syncmon.core.text import sanitize
from syncmon.core.timefmt import iso_utc
from syncmon.transport import net
from syncmon.transport.bounded_json import JsonRejected, decode_strict

MAX_REPLY = 4 * 1024 * 1024  # a list of silences; posting alerts gets a few bytes back


class AlertmanagerError(Exception):
    """A request Alertmanager did not accept (refused, timed out, non-2xx); safe to print."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(redact(message))
        self.status = status

    @property
    def retryable(self) -> bool:
        """Down, slow or 5xx may heal; a 4xx means the request itself is wrong (`net`'s rule)."""
        return net.failure_kind(self.status) is net.FailureKind.TRANSIENT


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC, as Alertmanager prints it back."""
    return iso_utc(moment, z=True)


def build_alert(
    rule: AlertRule,
    *,
    value: str,
    starts_at: datetime,
    ends_at: datetime,
    episode: str | None = None,
    generator_url: str | None = None,
) -> dict[str, Any]:
    """One entry of a POST /api/v2/alerts body (SPEC §7): the value and the episode's id are
    annotations only; `startsAt` is the episode's since, the same from every watcher but in
    an episode's first grid step (the evaluation that first saw it, README "Since when")."""
    annotations = {k: str(v) for k, v in rule.annotations.items()}
    annotations["value"] = value
    if episode:
        annotations["id"] = episode
    alert: dict[str, Any] = {
        "labels": alert_labels(rule),
        "annotations": annotations,
        "startsAt": format_time(starts_at),
        "endsAt": format_time(ends_at),
    }
    if generator_url:
        alert["generatorURL"] = generator_url
    return alert


class AlertmanagerClient:
    """A thin async client; every failure raises `AlertmanagerError` so callers can retry.

    `clock` dates the silences it creates (the dashboard builds this client, hence the
    default; the watcher passes its own).
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 5.0,
        token: SecretStr | None = None,
        clock: Clock = wall_clock,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.clock = clock
        self._client = net.build_client(self.base_url, timeout=timeout, token=token)

    def __repr__(self) -> str:
        return f"AlertmanagerClient({redact(self.base_url)!r})"

    @property
    def display_url(self) -> str:
        return redact(self.base_url)

    async def close(self) -> None:
        await self._client.aclose()

    async def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        await self._request("POST", "/api/v2/alerts", json=alerts, reply_needed=False)

    async def create_silence(
        self, matchers: Mapping[str, str], *, ends_at: datetime, created_by: str, comment: str
    ) -> str:
        """Silence alerts whose labels equal `matchers`; returns the silence id."""
        body = {
            "matchers": [
                {"name": name, "value": value, "isRegex": False, "isEqual": True}
                for name, value in matchers.items()
            ],
            "startsAt": format_time(self.clock()),
            "endsAt": format_time(ends_at),
            "createdBy": created_by,
            "comment": comment,
        }
        reply = await self._request("POST", "/api/v2/silences", json=body)
        try:
            answer = decode_strict(reply.body)
            silence_id = answer["silenceID"]
            if not isinstance(silence_id, str):
                raise TypeError("silenceID is not a string")
        except (JsonRejected, KeyError, TypeError) as exc:
            raise AlertmanagerError(
                f"Alertmanager {self.display_url}: unexpected answer to a silence: "
                f"{sanitize(str(exc), single_line=True, limit=100)}",
                reply.status,
            ) from None
        return silence_id

    async def expire_silence(self, silence_id: str) -> None:
        path = f"/api/v2/silence/{quote(silence_id, safe='')}"
        await self._request("DELETE", path, reply_needed=False)

    async def list_silences(self) -> list[Silence]:
        """The active silences (GET /api/v2/silences); malformed entries are left out."""
        reply = await self._request("GET", "/api/v2/silences")
        try:
            entries = decode_strict(reply.body)
        except JsonRejected as exc:
            raise AlertmanagerError(
                f"Alertmanager {self.display_url}: silences answer is not usable JSON: "
                f"{sanitize(str(exc), single_line=True, limit=100)}",
                reply.status,
            ) from None
        if not isinstance(entries, list):
            raise AlertmanagerError(
                f"Alertmanager {self.display_url}: silences answer is not a list", reply.status
            )
        silences = []
        for entry in entries:
            try:
                silence = Silence.from_json(entry)
            except ValueError:
                continue
            if silence.active:
                silences.append(silence)
        return silences

    async def _request(
        self, method: str, path: str, *, reply_needed: bool = True, **options: Any
    ) -> net.Reply:
        """One bounded request; raises AlertmanagerError unless the answer is 2xx.

        Without `reply_needed` an answer over the cap is cut, not an error: nobody reads it.
        """
        where = f"Alertmanager {self.display_url}"
        try:
            reply = await net.request(
                self._client,
                method,
                self.base_url + path,
                where=where,
                deadline=self.timeout,
                max_body=MAX_REPLY,
                truncate=not reply_needed,
                **options,
            )
        except net.HttpFailure as failure:
            raise AlertmanagerError(str(failure), failure.status) from None
        if not reply.ok:
            text = reply.body[:200].decode("utf-8", "replace")
            detail = sanitize(text, single_line=True).strip()
            raise AlertmanagerError(f"{where}: HTTP {reply.status} {detail}".rstrip(), reply.status)
        return reply
