"""`watch --alertmanager` against the real Alertmanager binary (SPEC §7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.integration.watch_support import (
    FAILURE_RULE,
    NEEDS_ALERTMANAGER,
    Alertmanager,
    RunningWatcher,
    delete_failures,
    free_port,
    insert_operations,
    settings_for,
    wait_until,
    write_config,
)

pytestmark = [pytest.mark.database, *NEEDS_ALERTMANAGER]

EXPECTED_LABELS = {
    "alertname": "High Sync Failure Rate",
    "severity": "critical",
    "team": "mobile",
    "service": "sync",
}


def _parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


async def test_firing_alert_arrives_with_identity_labels_and_resolves(
    seed_db: str, alertmanager: Alertmanager, tmp_path: Path
) -> None:
    settings = settings_for(write_config(tmp_path, FAILURE_RULE.format(for_="0s")), seed_db)
    async with RunningWatcher(settings, alertmanagers=[alertmanager.url]) as running:
        await wait_until(lambda: "nodata" in running.out.kinds())
        await insert_operations(seed_db, ok=10, failed=10)
        alerts = await wait_until(alertmanager.alerts)
        assert len(alerts) == 1
        alert = alerts[0]
        assert alert["labels"] == EXPECTED_LABELS  # the value is never a label
        firing = next(e for e in running.out.events() if e["event"] == "firing")
        assert alert["annotations"] == {
            "summary": "Sync failures above 5%",
            "value": "50.00%",
            "id": firing["id"],  # the episode, for receivers that deduplicate by id
        }
        # startsAt is the episode's since (never later than the moment it was sent)
        assert _parse(alert["startsAt"]) <= _parse(firing["since"])
        assert _parse(firing["since"]) - _parse(alert["startsAt"]) < timedelta(seconds=30)
        # endsAt = now + 4 × max(interval, resend) = now + 4s
        assert _parse(alert["endsAt"]) > datetime.now(UTC) + timedelta(seconds=2)

        await delete_failures(seed_db)
        await wait_until(lambda: "resolved" in running.out.kinds())
        await wait_until(lambda: _no_alerts(alertmanager))
    assert running.out.kinds() == ["nodata", "firing", "resolved"]


async def _no_alerts(alertmanager: Alertmanager) -> bool:
    return not await alertmanager.alerts()


async def test_two_watchers_give_one_alert(
    seed_db: str, alertmanager: Alertmanager, tmp_path: Path
) -> None:
    config = write_config(tmp_path, FAILURE_RULE.format(for_="0s"))
    await insert_operations(seed_db, ok=10, failed=10)
    async with (
        RunningWatcher(settings_for(config, seed_db), alertmanagers=[alertmanager.url]) as first,
        RunningWatcher(settings_for(config, seed_db), alertmanagers=[alertmanager.url]) as second,
    ):
        await wait_until(lambda: all(r.watcher.alertmanagers[0].sent >= 2 for r in (first, second)))
        alerts = await alertmanager.alerts()
    assert len(alerts) == 1
    assert alerts[0]["labels"] == EXPECTED_LABELS


async def test_alertmanager_that_starts_late_still_receives_the_alert(
    seed_db: str, tmp_path: Path
) -> None:
    late = Alertmanager(port=free_port())
    settings = settings_for(write_config(tmp_path, FAILURE_RULE.format(for_="0s")), seed_db)
    try:
        async with RunningWatcher(settings, alertmanagers=[late.url]) as running:
            await wait_until(lambda: "nodata" in running.out.kinds())
            await insert_operations(seed_db, ok=10, failed=10)
            await wait_until(lambda: running.watcher.alertmanagers[0].failures >= 2)
            late.start()
            alerts = await wait_until(late.alerts, timeout=10)
            assert alerts[0]["labels"] == EXPECTED_LABELS
    finally:
        late.stop()


async def test_restart_pages_again_with_the_same_id_and_starts_at(
    seed_db: str, alertmanager: Alertmanager, tmp_path: Path
) -> None:
    """At least once (SPEC §4.2): a restarted watcher sends the firing alert again, marked
    restored, with the same episode id; Alertmanager sees the same alert."""
    settings = settings_for(write_config(tmp_path, FAILURE_RULE.format(for_="0s")), seed_db)
    await insert_operations(seed_db, ok=10, failed=10, ago=timedelta(seconds=45))
    async with RunningWatcher(settings, alertmanagers=[alertmanager.url]) as before:
        first = (await wait_until(alertmanager.alerts))[0]
    [fired] = [e for e in before.out.events() if e["event"] == "firing"]

    async with RunningWatcher(settings, alertmanagers=[alertmanager.url]) as after:
        await wait_until(lambda: after.watcher.alertmanagers[0].sent >= 1)
        await wait_until(lambda: after.watcher.stats.cycles >= 3)
        again = (await alertmanager.alerts())[0]
    [restored] = after.out.events()
    assert (restored["event"], restored["restored"]) == ("firing", True)
    assert (restored["id"], restored["since"]) == (fired["id"], fired["since"])
    assert again["fingerprint"] == first["fingerprint"]
    assert again["startsAt"] == first["startsAt"]
    assert again["annotations"]["id"] == fired["id"]


async def test_restart_keeps_pending_time(seed_db: str, tmp_path: Path) -> None:
    """for: 32s, failures written 75 s before start: the database says the condition has
    held for 45-75 s, so a watcher that starts now fires at once (restored), not 32 s later."""
    settings = settings_for(write_config(tmp_path, FAILURE_RULE.format(for_="32s")), seed_db)
    await insert_operations(seed_db, ok=10, failed=10, ago=timedelta(seconds=75))
    started = datetime.now(UTC)
    async with RunningWatcher(settings) as running:
        await wait_until(lambda: "firing" in running.out.kinds(), timeout=8)
    first = running.out.events()[0]
    assert (first["event"], first["restored"]) == ("firing", True)
    assert datetime.fromisoformat(first["ts"]) - started < timedelta(seconds=5)
    assert started - datetime.fromisoformat(first["since"]) > timedelta(seconds=44)


async def test_silence_is_created_and_expired_for_the_dashboards_acknowledge(
    alertmanager: Alertmanager,
) -> None:
    from syncmon.sinks.alertmanager import AlertmanagerClient

    client = AlertmanagerClient(alertmanager.url)
    try:
        silence_id = await client.create_silence(
            EXPECTED_LABELS,
            ends_at=datetime.now(UTC) + timedelta(hours=1),
            created_by="alice",
            comment="acked in syncmon",
        )
        async with httpx.AsyncClient() as http:
            url = f"{alertmanager.url}/api/v2/silence/{silence_id}"
            silence = (await http.get(url)).json()
            assert silence["status"]["state"] == "active"
            assert silence["createdBy"] == "alice"
            assert {m["name"]: m["value"] for m in silence["matchers"]} == EXPECTED_LABELS
            await client.expire_silence(silence_id)
            assert (await http.get(url)).json()["status"]["state"] == "expired"
    finally:
        await client.close()


async def test_client_errors_are_raised_for_the_caller_to_retry() -> None:
    from syncmon.sinks.alertmanager import AlertmanagerClient, AlertmanagerError

    client = AlertmanagerClient(f"http://127.0.0.1:{free_port()}", timeout=1)
    try:
        with pytest.raises(AlertmanagerError, match="connection refused") as caught:
            await client.post_alerts([])
        assert caught.value.retryable
    finally:
        await client.close()
