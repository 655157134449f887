"""Real parts for the `watch` tests: an Alertmanager binary, an HTTP receiver that misbehaves
on demand, and helpers to drive rules by inserting rows."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from syncmon.config.settings import Overrides, Settings, resolve_settings
from syncmon.core.clock import Clock, wall_clock
from syncmon.core.durations import parse_duration

ALERTMANAGER_BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
REQUIRE_TOOLS = os.environ.get("SYNCMON_REQUIRE_ALERTMANAGER") == "1"  # set by .ci/run

FAILURE_RULE = """
alerts:
  - name: "High Sync Failure Rate"
    condition: "sync_failure_rate > 5%"
    severity: "critical"
    min_samples: 1
    for: {for_}
    labels: {{team: mobile}}
    annotations: {{summary: "Sync failures above 5%"}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(directory: Path, text: str) -> Path:
    path = directory / f"alerts-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(text)
    return path


def settings_for(
    config: Path, dsn: str | None, *, api_url: str | None = None, interval: str = "200ms"
) -> Settings:
    """Settings as `--config/--dsn/--api-url` give them, polling every `interval`.

    `--interval` is at least 1 s (SPEC §12); in-process tests poll faster to run fast, so
    the interval is set on the result rather than passed as the flag.
    """
    settings = resolve_settings(
        Overrides(str(config), api_url, SecretStr(dsn) if dsn else None), env={}
    )
    return dataclasses.replace(settings, interval=parse_duration(interval))


async def insert_operations(
    dsn: str,
    *,
    ok: int = 0,
    failed: int = 0,
    operation_type: str = "sync_data",
    ago: timedelta = timedelta(0),
) -> None:
    """Rows stamped NOW() - ago, as the app writes them."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = [
            (
                uuid.uuid4(),
                operation_type,
                100,
                i >= failed,
                "boom" if i < failed else None,
                ago.total_seconds(),
            )
            for i in range(ok + failed)
        ]
        await conn.executemany(
            "INSERT INTO sync_performance_metrics (user_id, operation_type, duration_ms, "
            "success, error_message, timestamp) VALUES ($1, $2, $3, $4, $5, "
            "(NOW() - make_interval(secs => $6))::timestamp)",
            rows,
        )
    finally:
        await conn.close()


async def delete_failures(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DELETE FROM sync_performance_metrics WHERE NOT success")
    finally:
        await conn.close()


async def wait_until(
    predicate: Callable[[], Any], timeout: float = 10.0, step: float = 0.05
) -> Any:
    """Poll a (sync or async) predicate until truthy; fail with the last value."""
    deadline = time.monotonic() + timeout
    value: Any = None
    while time.monotonic() < deadline:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(step)
    raise AssertionError(f"condition not met within {timeout}s (last value: {value!r})")


class Lines(io.StringIO):
    """stdout of an in-process watcher: the JSON events written so far."""

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.getvalue().splitlines() if line.strip()]

    def kinds(self) -> list[str]:
        return [event["event"] for event in self.events()]


class Alertmanager:
    """The real binary on a free port, with a temp storage dir and a do-nothing route."""

    def __init__(self, port: int | None = None) -> None:
        assert ALERTMANAGER_BINARY, "prometheus-alertmanager is not installed"
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.root = Path(tempfile.mkdtemp(prefix="syncmon-am-"))
        (self.root / "am.yml").write_text(
            'route: {receiver: "null"}\nreceivers: [{name: "null"}]\n'
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert ALERTMANAGER_BINARY is not None  # as __init__ checked
        log = open(self.root / "am.log", "ab")  # noqa: SIM115 - kept open for the process
        self.process = subprocess.Popen(
            [
                ALERTMANAGER_BINARY,
                f"--config.file={self.root / 'am.yml'}",
                f"--storage.path={self.root / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"alertmanager did not start: {(self.root / 'am.log').read_text()}")

    async def alerts(self) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(timeout=2) as client:
            response = await client.get(f"{self.url}/api/v2/alerts")
            response.raise_for_status()
            return list(response.json())

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


class FlakyReceiver:
    """An HTTP receiver on 127.0.0.1 whose behaviour a test switches: ok, error (500), reject
    (400), slow (answers after `delay`), and stopped (connection refused), then back on the
    same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.mode = "ok"
        self.delay = 0.0
        # JSON bodies: an object per webhook event, a list of alerts per Alertmanager post
        self.received: list[Any] = []
        self.attempts = 0
        self.in_flight = 0  # requests received and not yet answered
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.attempts += 1
                    receiver.in_flight += 1
                    mode, delay = receiver.mode, receiver.delay
                try:
                    self._answer(body, mode, delay)
                finally:
                    with receiver._lock:
                        receiver.in_flight -= 1

            def _answer(self, body: bytes, mode: str, delay: float) -> None:
                if mode == "slow":
                    time.sleep(delay)
                if mode in ("error", "reject"):
                    self.send_response(500 if mode == "error" else 400)
                    self.end_headers()
                    return
                with receiver._lock:
                    receiver.received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()


class RunningWatcher:
    """An in-process `Watcher` on a real engine, stopped by the test like SIGTERM would."""

    def __init__(self, settings: Settings, *, clock: Clock = wall_clock, **options: Any) -> None:
        from syncmon.engine.poll import Engine
        from syncmon.headless.receivers import RetryPolicy
        from syncmon.headless.watch import Watcher, WatchOptions

        defaults: dict[str, Any] = {
            "interval": settings.interval or timedelta(milliseconds=200),
            "resend": timedelta(seconds=1),
            "receiver_timeout": 1.0,
            "retry": RetryPolicy(initial=0.05, cap=0.5),
            "source_timeout": 2.0,
        }
        self.out = Lines()
        self.watcher = Watcher(
            Engine(settings, clock=clock), WatchOptions(**{**defaults, **options}), out=self.out
        )
        self.stop_event = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> RunningWatcher:
        self.task = asyncio.create_task(self.watcher.run(self.stop_event))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        self.stop_event.set()
        if self.task is not None:
            await asyncio.wait_for(self.task, timeout=5)
            self.task = None


# Marks for tests that need the real prometheus-alertmanager binary: skipped only where it
# is missing and nobody requires it; CI sets SYNCMON_REQUIRE_ALERTMANAGER=1, so there a
# missing binary fails instead.
NEEDS_ALERTMANAGER = [
    pytest.mark.alertmanager,
    pytest.mark.skipif(
        ALERTMANAGER_BINARY is None and not REQUIRE_TOOLS,
        reason="prometheus-alertmanager binary not installed "
        "(apt-get install prometheus-alertmanager)",
    ),
]
