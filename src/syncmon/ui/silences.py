"""Alertmanager silences behind acknowledgements (`--alertmanager URL`).

Creating or expiring a silence is a network call that may fail or hang: it runs as a
background task, reports failures as a notification and never blocks the dashboard.
A silence gets a 12 h ceiling in case syncmon dies before the alert resolves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from syncmon.core.rules import AlertRule
from syncmon.redaction import describe_error
from syncmon.ui.acks import Ack

SILENCE_CEILING = timedelta(hours=12)
Notify = Callable[[str, str], None]


class SilenceKeeper:
    def __init__(
        self, urls: list[str], operator: str, notify: Notify, token: str | None = None
    ) -> None:
        self.urls = urls
        self.operator = operator
        self._notify = notify
        self._token = token
        self._clients: dict[str, Any] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def _client(self, url: str) -> Any:
        if url not in self._clients:
            from syncmon.sinks.alertmanager import AlertmanagerClient

            self._clients[url] = AlertmanagerClient(url, timeout=5.0, token=self._token)
        return self._clients[url]

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def create(self, rule: AlertRule, ack: Ack) -> None:
        for url in self.urls:
            self._spawn(self._create(url, rule, ack))

    def expire(self, ack: Ack) -> None:
        for url, silence_id in list(ack.silence_ids):
            self._spawn(self._expire(url, silence_id))
        ack.silence_ids.clear()
        ack.expired = True

    async def _create(self, url: str, rule: AlertRule, ack: Ack) -> None:
        from syncmon.sinks.alertmanager import alert_labels

        try:
            silence_id = await self._client(url).create_silence(
                alert_labels(rule),
                ends_at=datetime.now(UTC) + SILENCE_CEILING,
                created_by=ack.by,
                comment=f"acknowledged in syncmon by {ack.by}",
            )
        except Exception as exc:
            self._notify(f"could not silence {rule.name}: {describe_error(exc)}", "error")
            return
        if ack.expired:  # the alert resolved while we were asking
            await self._expire(url, silence_id)
        else:
            ack.silence_ids.append((url, silence_id))
            self._notify(f"silenced {rule.name} in Alertmanager ({silence_id})", "information")

    async def _expire(self, url: str, silence_id: str) -> None:
        try:
            await self._client(url).expire_silence(silence_id)
        except Exception as exc:
            self._notify(f"could not expire silence {silence_id}: {describe_error(exc)}", "warning")

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for client in self._clients.values():
            await client.close()
