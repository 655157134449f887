"""`syncmon watch` as a real process: JSON lines, /metrics, secrets, signals (SPEC §7)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.watch_support import (
    FAILURE_RULE,
    REQUIRE_TOOLS,
    free_port,
    insert_operations,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.database
EVENT_FIELDS = {
    "ts",
    "event",
    "rule",
    "severity",
    "value",
    "threshold",
    "condition",
    "labels",
    "annotations",
    "id",
    "since",
    "since_bounded",
    "since_seen",
    "restored",
}


def _spawn(config: Path, dsn: str, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCMON_")}
    env["SYNCMON_DATABASE_URL"] = dsn  # not on the command line: flags show in `ps`
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "syncmon",
            "watch",
            "--config",
            str(config),
            "--interval",
            "1s",  # the shortest a command line may ask for
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def _metrics(port: int) -> str:
    try:
        async with httpx.AsyncClient(timeout=1) as client:
            response = await client.get(f"http://127.0.0.1:{port}/metrics")
            return response.text if response.status_code == 200 else ""
    except httpx.HTTPError:
        return ""


def _after_two_polls(text: str) -> str | None:
    """The exposition once two whole polls are in (database and endpoints both answered)."""
    found = re.search(r"^syncmon_poll_duration_seconds_count (\S+)$", text, re.MULTILINE)
    return text if found and float(found.group(1)) >= 2 else None


def _stop(process: subprocess.Popen[str], signum: int) -> tuple[int, float, str, str]:
    started = time.monotonic()
    process.send_signal(signum)
    try:
        out, err = process.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    return process.returncode, time.monotonic() - started, out, err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_watch_process_exits_0_on_signal(seed_db: str, tmp_path: Path, signum: int) -> None:
    port = free_port()
    process = _spawn(
        write_config(tmp_path, FAILURE_RULE.format(for_="0s")), seed_db, "--metrics-port", str(port)
    )
    try:
        await wait_until(lambda: _metrics(port), timeout=15)
        await insert_operations(seed_db, ok=10, failed=10)
        await wait_until(lambda: _firing_in(port), timeout=5)
    finally:
        code, _, out, err = _stop(process, signum)
    assert code == 0, err  # within _stop's deadline; the time is bench/watch_stop.py's
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["event"] for e in events] == ["nodata", "firing"]
    assert all(set(e) == EVENT_FIELDS for e in events)
    firing = events[1]
    assert (firing["value"], firing["threshold"]) == (0.5, 0.05)  # base units, as check json
    assert firing["labels"] == {"team": "mobile"}
    assert "Traceback" not in err


async def _firing_in(port: int) -> bool:
    return (
        'syncmon_alert_firing{endpoint="",rule="High Sync Failure Rate",severity="critical"} 1.0'
        in await _metrics(port)
    )


async def test_metrics_never_show_the_password(seed_db: str, tmp_path: Path) -> None:
    await insert_operations(seed_db, ok=18, failed=2)
    port = free_port()
    process = _spawn(
        write_config(tmp_path, FAILURE_RULE.format(for_="0s")),
        seed_db,
        "--metrics-port",
        str(port),
        "--webhook",
        f"http://127.0.0.1:{free_port()}/x",
        "--alertmanager",
        f"http://127.0.0.1:{free_port()}",
        "--api-url",
        f"http://127.0.0.1:{free_port()}",
    )
    try:

        async def polled() -> str | None:
            return _after_two_polls(await _metrics(port))

        text = await wait_until(polled, timeout=30)
    finally:
        code, _, out, err = _stop(process, signal.SIGTERM)
    assert code == 0  # even with both receivers down and retrying (bench/watch_stop.py: time)
    assert 'syncmon_metric{name="sync_failure_rate"} 0.1' in text
    assert (
        'syncmon_alert_firing{endpoint="",rule="High Sync Failure Rate",severity="critical"} 1.0'
        in text
    )
    assert 'syncmon_endpoint_up{endpoint="sync"} 0.0' in text
    assert "syncmon_poll_duration_seconds_count" in text
    assert "syncmon_receiver_send_failures_total" in text
    password = seed_db.split(":")[2].split("@")[0]
    assert password not in text + out + err


async def test_metrics_pass_promtool_check_metrics(seed_db: str, tmp_path: Path) -> None:
    """Prometheus's own linter accepts the exposition (CI provides promtool; elsewhere this
    test says it skipped, never passes silently)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        assert not REQUIRE_TOOLS, "promtool is required in CI (.ci/run provides it)"
        pytest.skip("promtool not installed (Debian's prometheus package has it)")
    await insert_operations(seed_db, ok=18, failed=2)
    port = free_port()
    process = _spawn(
        write_config(tmp_path, FAILURE_RULE.format(for_="0s")), seed_db, "--metrics-port", str(port)
    )
    try:

        async def polled() -> str | None:
            return _after_two_polls(await _metrics(port))

        text = await wait_until(polled, timeout=30)
    finally:
        _stop(process, signal.SIGTERM)
    check = subprocess.run(
        [promtool, "check", "metrics"], input=text, text=True, capture_output=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


async def test_bad_flags_exit_3_without_polling(tmp_path: Path) -> None:
    config = write_config(tmp_path, FAILURE_RULE.format(for_="0s"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "syncmon",
            "watch",
            "--config",
            str(config),
            "--resend",
            "soon",
            "--webhook",
            "ftp://nope",
        ],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 3
    assert "--resend" in result.stderr
    assert result.stdout == ""


async def test_a_closed_stdout_is_logged_once_and_the_watcher_goes_on(
    seed_db: str, tmp_path: Path
) -> None:
    """`syncmon watch | head -1`: the reader leaves; the daemon says so and keeps evaluating."""
    port = free_port()
    process = _spawn(
        write_config(tmp_path, FAILURE_RULE.format(for_="0s")), seed_db, "--metrics-port", str(port)
    )
    try:
        assert process.stdout is not None
        process.stdout.close()  # nobody reads stdout any more
        await wait_until(lambda: _metrics(port), timeout=15)
        await insert_operations(seed_db, ok=10, failed=10)
        await wait_until(lambda: _firing_in(port), timeout=5)  # still evaluating
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=5)
    assert process.returncode == 0, err
    assert err.count("stdout is gone") == 1
    assert "Traceback" not in err
