"""Alertmanager's v2 API: posting alerts (watch) and silences (the dashboard's acknowledge).

Labels are an alert's identity: every watcher must send exactly the same ones for the same
rule so Alertmanager deduplicates them, hence `alert_labels` never includes the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from syncmon.core.rules import AlertRule
from syncmon.core.silences import Silence
from syncmon.net_errors import explain_connect_error
from syncmon.redaction import describe_error, redact

SERVICE_LABEL = "sync"


class AlertmanagerError(Exception):
    """A request Alertmanager did not accept (refused, timed out, non-2xx); safe to print."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(redact(message))
        self.status = status

    @property
    def retryable(self) -> bool:
        """Down, slow or 5xx may heal; a 4xx means the request itself is wrong."""
        return self.status is None or self.status >= 500 or self.status in (408, 429)


def alert_labels(rule: AlertRule) -> dict[str, str]:
    """The identity of a rule's alert: alertname, severity, the rule's labels, service."""
    labels = {"alertname": rule.name, "severity": rule.severity.value}
    labels.update({k: str(v) for k, v in rule.labels.items() if k not in ("alertname", "severity")})
    labels["service"] = SERVICE_LABEL
    return labels


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC, as Alertmanager prints it back."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_alert(
    rule: AlertRule,
    *,
    value: str,
    starts_at: datetime,
    ends_at: datetime,
    generator_url: str | None = None,
) -> dict[str, Any]:
    """One entry of a POST /api/v2/alerts body (SPEC §7): the value is an annotation only."""
    annotations = {k: str(v) for k, v in rule.annotations.items()}
    annotations["value"] = value
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
    """A thin async client; every failure raises `AlertmanagerError` so callers can retry."""

    def __init__(self, base_url: str, *, timeout: float = 5.0, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"User-Agent": "syncmon", "Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.AsyncClient(headers=headers, timeout=timeout, follow_redirects=False)

    def __repr__(self) -> str:
        return f"AlertmanagerClient({redact(self.base_url)!r})"

    @property
    def display_url(self) -> str:
        return redact(self.base_url)

    async def close(self) -> None:
        await self._client.aclose()

    async def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        await self._request("POST", "/api/v2/alerts", json=alerts)

    async def create_silence(
        self, matchers: Mapping[str, str], *, ends_at: datetime, created_by: str, comment: str
    ) -> str:
        """Silence alerts whose labels equal `matchers`; returns the silence id."""
        body = {
            "matchers": [
                {"name": name, "value": value, "isRegex": False, "isEqual": True}
                for name, value in matchers.items()
            ],
            "startsAt": format_time(datetime.now(UTC)),
            "endsAt": format_time(ends_at),
            "createdBy": created_by,
            "comment": comment,
        }
        response = await self._request("POST", "/api/v2/silences", json=body)
        try:
            silence_id = response.json()["silenceID"]
        except (ValueError, KeyError, TypeError) as exc:
            raise AlertmanagerError(
                f"Alertmanager {self.display_url}: unexpected answer to a "
                f"silence: {describe_error(exc)}",
                response.status_code,
            ) from None
        return str(silence_id)

    async def expire_silence(self, silence_id: str) -> None:
        await self._request("DELETE", f"/api/v2/silence/{silence_id}")

    async def list_silences(self) -> list[Silence]:
        """The active silences (GET /api/v2/silences); malformed entries are left out."""
        response = await self._request("GET", "/api/v2/silences")
        try:
            entries = response.json()
        except ValueError:
            raise AlertmanagerError(
                f"Alertmanager {self.display_url}: silences answer is not JSON",
                response.status_code,
            ) from None
        if not isinstance(entries, list):
            raise AlertmanagerError(
                f"Alertmanager {self.display_url}: silences answer is not a list",
                response.status_code,
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

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        where = f"Alertmanager {self.display_url}"
        try:
            response = await self._client.request(method, self.base_url + path, **kwargs)
        except httpx.TimeoutException:
            raise AlertmanagerError(f"{where}: timed out") from None
        except httpx.ConnectError as exc:
            raise AlertmanagerError(f"{where}: {explain_connect_error(exc)}") from None
        except (httpx.HTTPError, OSError) as exc:
            raise AlertmanagerError(f"{where}: {describe_error(exc)}") from None
        if not 200 <= response.status_code < 300:
            detail = response.text[:200].strip().replace("\n", " ")
            raise AlertmanagerError(
                f"{where}: HTTP {response.status_code} {detail}".rstrip(), response.status_code
            )
        return response
