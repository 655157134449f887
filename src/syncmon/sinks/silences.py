"""Talking to the Alertmanagers behind the dashboard's acknowledgements (`--alertmanager URL`).

The dashboard holds this as its `SilencesPort` (`ui/ports.py`) and never imports it: the
launcher builds it.

Every call answers with values (a silence id, the silences, or the reason it failed),
never an exception, and is run by the app in a worker so a hung Alertmanager never blocks
the dashboard. A silence gets a 12 h ceiling in case every dashboard dies before its alert
resolves; syncmon expires it earlier, when the alert stops firing.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

from pydantic import SecretStr

from syncmon.config.redaction import describe_error
from syncmon.core.clock import Clock, wall_clock
from syncmon.core.rules import AlertRule
from syncmon.core.silences import ACK_COMMENT, SilenceMade, SilenceRead, SilenceRef, alert_labels
from syncmon.sinks.alertmanager import AlertmanagerClient

SILENCE_CEILING = timedelta(hours=12)


class SilenceKeeper:
    def __init__(
        self,
        urls: list[str],
        *,
        timeout: float = 5.0,
        token: SecretStr | None = None,
        clock: Clock = wall_clock,
    ) -> None:
        self.urls = list(urls)
        self._clock = clock  # dates the silences made
        self._timeout = timeout
        self._token = token
        self._clients: dict[str, AlertmanagerClient] = {}

    def _client(self, url: str) -> AlertmanagerClient:
        if url not in self._clients:
            self._clients[url] = AlertmanagerClient(
                url, timeout=self._timeout, token=self._token, clock=self._clock
            )
        return self._clients[url]

    async def read(self, url: str) -> SilenceRead:
        try:
            return SilenceRead(url, await self._client(url).list_silences())
        except Exception as exc:
            return SilenceRead(url, None, describe_error(exc))

    async def create(
        self,
        url: str,
        rule: AlertRule,
        by: str,
        now: datetime,
        *,
        until: datetime | None = None,
        comment: str = "",
    ) -> SilenceMade:
        """A silence until `until` (a timed ack) or the ceiling; the engineer's comment
        follows the marker that tells syncmon's own silences apart."""
        text = f"{ACK_COMMENT} {by}" + (f": {comment}" if comment else "")
        try:
            silence_id = await self._client(url).create_silence(
                alert_labels(rule),
                ends_at=until if until is not None else now + SILENCE_CEILING,
                created_by=by,
                comment=text,
            )
        except Exception as exc:
            return SilenceMade(url, None, describe_error(exc))
        return SilenceMade(url, silence_id)

    async def expire(self, url: str, silence_id: str) -> str | None:
        """None when expired; else why not. Ids read back are checked before a URL is built."""
        try:
            uuid.UUID(silence_id)
        except ValueError:
            return f"not a silence id: {silence_id[:40]!r}"
        try:
            await self._client(url).expire_silence(silence_id)
        except Exception as exc:
            return describe_error(exc)
        return None

    def follow(self, urls: list[str]) -> None:
        """Talk to these Alertmanagers from now on (`--from`: the ones the watcher names);
        clients of the old ones stay open until `close`."""
        self.urls = list(urls)

    async def read_all(self) -> list[SilenceRead]:
        return list(await asyncio.gather(*(self.read(url) for url in self.urls)))

    async def create_all(
        self,
        rule: AlertRule,
        by: str,
        now: datetime,
        *,
        until: datetime | None = None,
        comment: str = "",
    ) -> list[SilenceMade]:
        made = (self.create(u, rule, by, now, until=until, comment=comment) for u in self.urls)
        return list(await asyncio.gather(*made))

    async def expire_all(self, refs: list[SilenceRef]) -> list[tuple[SilenceRef, str | None]]:
        return [(ref, await self.expire(*ref)) for ref in refs]

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
