"""`syncmon tui --from` (SPEC §16): real viewers in real tmux panes, fed by real watchers."""

from __future__ import annotations

import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from syncmon.sinks.alertmanager import AlertmanagerClient
from tests.integration.http_endpoints import EndpointServer, answer
from tests.integration.serve_support import TOKEN, alert, spawn_watcher, state, stop, watcher_env
from tests.integration.watch_support import (
    ALERTMANAGER_BINARY,
    FAILURE_RULE,
    REQUIRE_TOOLS,
    Alertmanager,
    free_port,
    insert_operations,
    wait_until,
    write_config,
)

pytestmark = [
    pytest.mark.database,
    pytest.mark.skipif(
        not shutil.which("tmux") and not REQUIRE_TOOLS, reason="tmux is not installed"
    ),
]
RULE = "High Sync Failure Rate"


class Pane:
    """`syncmon tui` in a tmux pane of its own server (its own socket), 120×40."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.socket = f"syncmon-test-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        line = f"env -i {exports} {shlex.join(command)}; sleep 60"
        self._tmux("new-session", "-d", "-s", "t", "-x", "120", "-y", "40", line)

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False
        )
        return done.stdout

    def text(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t")

    def showing(self, *needles: str) -> str | None:
        """The screen when it shows every needle, else None (for `wait_until`)."""
        text = self.text()
        return text if all(n in text for n in needles) else None

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "t", *keys)

    def close(self) -> None:
        self._tmux("kill-server")  # this test's own tmux server only


def viewer(urls: list[str], token: str | None = None, api_url: str | None = None) -> Pane:
    """A viewer; `api_url` for its conflicts count (the conflicts API, not the watcher)."""
    env = watcher_env(None, token, **({"SYNCMON_API_URL": api_url} if api_url else {}))
    keep: dict[str, str] = {
        k: env[k] for k in ("PATH", "HOME", "SYNCMON_WATCH_TOKEN", "SYNCMON_API_URL") if k in env
    }
    keep |= {"TERM": "xterm-256color", "LANG": "C.UTF-8"}
    return Pane([sys.executable, "-m", "syncmon", "tui", "--from", ",".join(urls)], keep)


@pytest.fixture
def two_watchers(
    seed_db: str, tmp_path: Path
) -> Iterator[tuple[list[subprocess.Popen[str]], list[int]]]:
    config = write_config(tmp_path, FAILURE_RULE.format(for_="0s"))
    ports = [free_port(), free_port()]
    processes = [spawn_watcher(config, seed_db, port, interval="2s") for port in ports]
    yield processes, ports
    for process in processes:
        stop(process)


def _url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


async def _firing(port: int) -> bool:
    return (alert(await state(port), RULE) or {}).get("state") == "firing"


async def test_a_viewer_shows_the_watchers_state_and_fails_over_when_it_dies(
    seed_db: str, two_watchers: tuple[list[subprocess.Popen[str]], list[int]]
) -> None:
    processes, ports = two_watchers
    await insert_operations(seed_db, ok=10, failed=10)
    for port in ports:
        await wait_until(partial(_firing, port), timeout=30)
    conflicts = {"/api/v1/sync/conflicts": answer(200, {"conflicts": []})}
    async with EndpointServer(conflicts) as api:
        await _follow_and_fail_over(
            viewer([_url(p) for p in ports], api_url=api.url), processes, ports
        )


async def _follow_and_fail_over(
    pane: Pane, processes: list[subprocess.Popen[str]], ports: list[int]
) -> None:
    try:
        shown = await wait_until(lambda: pane.showing("50.00%", "FIRING", "0 open"), timeout=30)
        assert RULE in shown
        assert f"API watcher {_url(ports[0])}" in shown
        assert "STALE" not in shown

        # A viewer reads no database: the history screens say so, and the viewer lives on.
        pane.keys("t")
        timeline = await wait_until(lambda: pane.showing("--from reads no database"), timeout=10)
        assert "no alert fired" not in timeline  # "nothing fired" would be a lie here
        pane.keys("Escape")
        await wait_until(lambda: pane.showing("50.00%", "FIRING"), timeout=10)
        pane.keys("Enter")  # the alerts list has the focus: the firing alert's detail
        detail = await wait_until(lambda: pane.showing("--from reads no database"), timeout=10)
        assert RULE in detail
        pane.keys("Escape")
        await wait_until(lambda: pane.showing("50.00%", "FIRING"), timeout=10)

        # The first watcher dies mid-stream: the second one's state within one interval (2 s).
        processes[0].send_signal(signal.SIGKILL)
        killed = time.monotonic()
        moved = await wait_until(
            lambda: pane.showing(f"API watcher {_url(ports[1])}"),
            timeout=10,
        )
        assert time.monotonic() - killed < 2.0
        assert "STALE" not in moved and "50.00%" in moved

        # The last one dies too: every panel says STALE at once, with the reason.
        processes[1].send_signal(signal.SIGKILL)
        stale = await wait_until(lambda: pane.showing("STALE"), timeout=5)
        assert "no watcher answers" in stale
        assert "refreshed" in stale  # the time of the last evaluation shown, not a new one
    finally:
        pane.close()


async def test_a_viewer_with_a_wrong_token_shows_nothing_as_fresh(
    seed_db: str, tmp_path: Path
) -> None:
    port = free_port()
    config = write_config(tmp_path, FAILURE_RULE.format(for_="0s"))
    process = spawn_watcher(config, seed_db, port, token=TOKEN)
    try:
        await wait_until(lambda: state(port, TOKEN), timeout=20)
        pane = viewer([_url(port)], token="not-the-token")
        try:
            shown = await wait_until(lambda: pane.showing("401"), timeout=20)
        finally:
            pane.close()
    finally:
        stop(process)
    assert "STALE" in shown
    assert "not-the-token" not in shown
    assert "not refreshed yet" in shown  # it never had data to call fresh


def test_tui_from_with_at_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "syncmon", "tui", "--from", "http://127.0.0.1:1", "--at=-1h"],
        env={**watcher_env(None), "TERM": "xterm"},
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 3


@pytest.mark.alertmanager
@pytest.mark.skipif(
    ALERTMANAGER_BINARY is None and not REQUIRE_TOOLS, reason="prometheus-alertmanager missing"
)
async def test_an_ack_made_in_alertmanager_reaches_the_state_and_the_viewer(
    seed_db: str, tmp_path: Path, alertmanager: Alertmanager
) -> None:
    """Someone silences the alert in Alertmanager's own UI: the watcher reads it back, its
    state names who, and a viewer shows "by NAME until TIME" with the count apart."""
    await insert_operations(seed_db, ok=10, failed=10)
    port = free_port()
    config = write_config(tmp_path, FAILURE_RULE.format(for_="0s"))
    process = spawn_watcher(config, seed_db, port, "--alertmanager", alertmanager.url)
    try:
        await wait_until(lambda: _firing(port), timeout=30)
        client = AlertmanagerClient(alertmanager.url, timeout=5)
        try:
            await client.create_silence(
                {"alertname": RULE},
                ends_at=datetime.now(UTC) + timedelta(hours=1),
                created_by="carol",
                comment="looking into it",
            )
        finally:
            await client.close()
        acked = await wait_until(lambda: _acked(port), timeout=20)
        assert acked["by"] == "carol" and acked["comment"] == "looking into it"
        pane = viewer([_url(port)])
        try:
            shown = await wait_until(lambda: pane.showing("by carol until", "1 ACKED"), timeout=30)
        finally:
            pane.close()
    finally:
        stop(process)
    assert "FIRING" not in shown.splitlines()[1]  # the header counts it as acked, not firing


async def _acked(port: int) -> dict[str, Any] | None:
    return (alert(await state(port), RULE) or {}).get("ack")
