"""The truth at transitions (SPEC §4.1, §4.2): an incident under way is announced with its true
start, by every process alike, at least once — on a real PostgreSQL in another time zone."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from syncmon.core.episodes import episode_id
from syncmon.embedded.postgres import EmbeddedPostgres
from tests.conftest import SCHEMA_SQL, PgServer, create_database, drop_database
from tests.integration.incident import INCIDENT_RULE, RULE_NAME, Incident, write_incident
from tests.integration.test_check_command import syncmon
from tests.integration.watch_support import (
    FlakyReceiver,
    RunningWatcher,
    settings_for,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.database
TOKYO = "Asia/Tokyo"


@pytest.fixture
async def new_york_db(pg_server: PgServer) -> AsyncIterator[str]:
    """A database whose writers stamp rows in New York time (syncmon runs in UTC or Tokyo)."""
    dsn = await create_database(pg_server, timezone="America/New_York")
    yield dsn
    await drop_database(pg_server, dsn)


@pytest.fixture
async def incident(new_york_db: str) -> Incident:
    return await write_incident(new_york_db)


def _parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


def _tokyo_clock(since: datetime, now: datetime) -> str:
    """How a reader in Tokyo is told the start: the time, and the date too when the start
    was on another Tokyo day than now (every day from 15:00 UTC, Tokyo's midnight)."""
    local, today = since.astimezone(ZoneInfo(TOKYO)), now.astimezone(ZoneInfo(TOKYO))
    if local.date() == today.date():
        return local.strftime("%H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M:%S")


async def test_check_reports_when_an_incident_40_minutes_old_began(
    new_york_db: str, incident: Incident, tmp_path: Path
) -> None:
    config = write_config(tmp_path, INCIDENT_RULE)
    env = {"TZ": TOKYO}
    code, out, err = await syncmon(
        "check", "--config", str(config), "--dsn", new_york_db, "--format", "json", env=env
    )
    assert code == 2, err
    [alert] = json.loads(out)["alerts"]
    assert alert["state"] == "firing"
    assert _parse(alert["since"]) == incident.since
    assert alert["since"].endswith("+09:00")  # told in the reader's zone, with its offset
    assert (alert["since_bounded"], alert["since_seen"]) == (False, False)
    settings = settings_for(config, new_york_db)
    assert alert["id"] == episode_id(settings.rules[0], incident.since)
    # the incident began 40 minutes ago; the 5 m window passes 5 % about 32 s later (eight
    # failures), and since is the first grid point after that: within 32 + 30 s
    age = (incident.now - incident.since).total_seconds()
    assert 40 * 60 - 62 <= age <= 40 * 60 - 32

    before = datetime.now(UTC)
    code, text, _ = await syncmon("check", "--config", str(config), "--dsn", new_york_db, env=env)
    code_n, nagios, _ = await syncmon(
        "check", "--config", str(config), "--dsn", new_york_db, "--format", "nagios", env=env
    )
    after = datetime.now(UTC)
    # the date is added when the start is on another Tokyo day than the run: computed from
    # both ends of the runs, so Tokyo's midnight (15:00 UTC) between them cannot fail this
    clocks = {_tokyo_clock(incident.since, before), _tokyo_clock(incident.since, after)}
    assert code == 2 and alert["id"] in text
    assert any(f"since {clock} (" in text for clock in clocks), text
    assert code_n == 2
    assert any(
        nagios.startswith(f"SYNCMON CRITICAL - {RULE_NAME} (critical since {clock}, ")
        for clock in clocks
    ), nagios


async def test_two_watchers_and_a_restart_agree_on_since_and_id_and_page_at_least_once(
    new_york_db: str, incident: Incident, tmp_path: Path
) -> None:
    settings = settings_for(write_config(tmp_path, INCIDENT_RULE), new_york_db)
    webhook = FlakyReceiver()
    webhook.start()
    try:
        async with (
            RunningWatcher(settings, webhooks=[webhook.url]) as one,
            RunningWatcher(settings, webhooks=[webhook.url]) as two,
        ):
            await wait_until(lambda: len(webhook.received) >= 2)
        async with RunningWatcher(settings, webhooks=[webhook.url]) as restarted:
            await wait_until(lambda: len(webhook.received) >= 3)
    finally:
        webhook.stop()
    events = [*one.out.events(), *two.out.events(), *restarted.out.events()]
    assert [e["event"] for e in events] == ["firing"] * 3
    assert {e["id"] for e in events} == {episode_id(settings.rules[0], incident.since)}
    assert {_parse(e["since"]) for e in events} == {incident.since}
    assert all(e["restored"] for e in events)  # it fired before any of them could see it
    # every watcher's page reached the webhook: receivers deduplicate by id
    assert [(r["event"], r["id"], r["restored"]) for r in webhook.received] == [
        ("firing", events[0]["id"], True)
    ] * 3


async def test_resolved_carries_the_id_of_the_episode_it_ends(seed_db: str, tmp_path: Path) -> None:
    incident = await write_incident(seed_db, started_ago=timedelta(minutes=3))
    settings = settings_for(write_config(tmp_path, INCIDENT_RULE), seed_db)
    async with RunningWatcher(settings) as running:
        await wait_until(lambda: "firing" in running.out.kinds())
        conn = await asyncpg.connect(seed_db)
        await conn.execute("DELETE FROM sync_performance_metrics WHERE NOT success")
        await conn.close()
        await wait_until(lambda: "resolved" in running.out.kinds())
    firing, resolved = running.out.events()
    assert resolved["id"] == firing["id"] == episode_id(settings.rules[0], incident.since)
    assert resolved["since"] == firing["since"]


async def test_a_watcher_that_starts_blind_pages_once_the_database_answers(tmp_path: Path) -> None:
    """Started while PostgreSQL is down: `error` first, then the firing it could not see,
    restored, with the since the database knows."""
    pg = EmbeddedPostgres(timezone="UTC")
    pg.start()
    try:
        conn = await asyncpg.connect(pg.dsn)
        await conn.execute(SCHEMA_SQL)
        await conn.close()
        incident = await write_incident(pg.dsn)
        pg.stop()
        settings = settings_for(write_config(tmp_path, INCIDENT_RULE), pg.dsn)
        async with RunningWatcher(settings) as running:
            await wait_until(lambda: "error" in running.out.kinds())
            pg.start()
            await wait_until(lambda: "firing" in running.out.kinds())
    finally:
        pg.cleanup()
    error, firing = running.out.events()
    assert error["event"] == "error" and error["id"] is None
    assert (firing["event"], firing["restored"]) == ("firing", True)
    assert _parse(firing["since"]) == incident.since


async def test_the_dashboard_since_column_shows_the_true_age(
    new_york_db: str, incident: Incident
) -> None:
    from syncmon.ui.launch import create_app
    from tests.ui.helpers import make_settings, screen_text, wait_for

    app = create_app(make_settings(None, new_york_db, rules=INCIDENT_RULE))
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: app.alerts.trackers[RULE_NAME].firing, what="firing")
        tracker = app.alerts.trackers[RULE_NAME]
        assert tracker.since == incident.since and not tracker.since_seen
        assert tracker.episode_id == episode_id(tracker.rule, incident.since)
        row = next(line for line in screen_text(app).splitlines() if RULE_NAME in line)
        assert " 39m" in row or " 40m" in row, row


async def test_check_answers_at_a_million_rows_for_1d_and_7d(seed_db: str, tmp_path: Path) -> None:
    """`for` of any valid length costs the same: the history is per-bucket aggregates read
    backwards, not one interval per point (for: 7d used to exceed 32,767 query arguments)."""
    conn = await asyncpg.connect(seed_db)
    await conn.execute(
        """INSERT INTO sync_performance_metrics (user_id, operation_type, duration_ms, success,
               timestamp)
           SELECT gen_random_uuid(), 'sync_push', 100, i % 10 <> 0,
                  localtimestamp - make_interval(secs => i * 0.6912)
           FROM generate_series(1, 1000000) AS i"""  # 1 M rows over 8 days, 10 % failing
    )
    await conn.execute("CREATE INDEX ON sync_performance_metrics (timestamp)")
    await conn.execute("ANALYZE sync_performance_metrics")
    await conn.close()
    rule = "  - {name: slow burn, condition: 'sync_failure_rate > 5%', severity: critical, "
    one_day = write_config(tmp_path, f"alerts:\n{rule}for: 1d}}\n")
    seven = tmp_path / "seven.yaml"
    seven.write_text(f"evaluation: {{lookback: 8d}}\nalerts:\n{rule}for: 7d}}\n")
    for config in (one_day, seven):
        code, out, err = await syncmon(
            "check", "--config", str(config), "--dsn", seed_db, "--format", "json"
        )
        [alert] = json.loads(out)["alerts"]
        assert (code, alert["state"], alert["since_bounded"]) == (2, "firing", True), out + err
        # how long it takes is bench/measure_db.py's to print, not this test's to assert


async def test_for_longer_than_the_lookback_is_a_validate_error(tmp_path: Path) -> None:
    config = tmp_path / "long.yaml"
    config.write_text(
        "alerts:\n  - name: week\n    condition: 'error_rate > 1%'\n"
        "    severity: info\n    for: 7d\n"
    )
    code, _, err = await syncmon("validate", str(config))
    assert code == 3
    assert f"{config}:5:10: for: 7d is longer than evaluation.lookback (1d)" in err


@pytest.mark.parametrize("env_tz", ["UTC", TOKYO])
async def test_since_does_not_depend_on_the_zone_syncmon_runs_in(
    new_york_db: str, incident: Incident, tmp_path: Path, env_tz: str
) -> None:
    config = write_config(tmp_path, INCIDENT_RULE)
    code, out, _ = await syncmon(
        "check",
        "--config",
        str(config),
        "--dsn",
        new_york_db,
        "--format",
        "json",
        env={"TZ": env_tz},
    )
    assert code == 2
    assert _parse(json.loads(out)["alerts"][0]["since"]) == incident.since
