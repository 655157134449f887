"""Whole-command measurements: `syncmon check` as a process, and the Nagios plugins an ops
team would cron instead, against a real HTTP health server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from syncmon.demo.http_server import HttpServer, Request, Response, Router

PLUGINS = Path("/usr/lib/nagios/plugins")
ENDPOINTS = ("sync", "plaid", "database", "redis")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-XSS-Protection": "1; mode=block",
}


class HealthServer:
    """The four seed endpoints, each answering `{"status": "pass"}` after `delay` seconds.

    Runs its own event loop in a thread so that subprocesses can be timed from the main one.
    """

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        router = Router()
        for name in ENDPOINTS:
            router.add("GET", f"/api/health/{name}", self._health)
        self._server = HttpServer(router, default_headers=SECURITY_HEADERS)

    async def _health(self, request: Request) -> Response:
        await asyncio.sleep(self.delay)
        return Response.json(200, {"status": "pass"}, content_type="application/health+json")

    @property
    def url(self) -> str:
        return self._server.url

    def __enter__(self) -> HealthServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._server.start(), self._loop).result(10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self._server.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def run_check(dsn: str, api_url: str, config: Path) -> tuple[float, dict[str, object]]:
    """Wall time of `syncmon check --format json` in a fresh process, and its JSON."""
    env = {**os.environ, "SYNCMON_DATABASE_URL": dsn, "SYNCMON_API_URL": api_url, "NO_COLOR": "1"}
    env.pop("SYNCMON_CONFIG", None)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "syncmon", "check", "--format", "json", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    elapsed = time.perf_counter() - started
    try:
        report = json.loads(result.stdout)
    except ValueError:
        raise RuntimeError(f"check printed no JSON: {result.stderr[-2000:]}") from None
    if report.get("errors"):
        raise RuntimeError(f"check reported errors: {report['errors']}")
    return elapsed, report


def missing_plugins() -> list[str]:
    return [name for name in ("check_http", "check_pgsql") if not (PLUGINS / name).exists()]


def run_plugins(api_url: str, host: str, port: int, database: str) -> float:
    """Wall time of the cron sequence: check_http on each endpoint, then check_pgsql."""
    http_port = api_url.rsplit(":", 1)[1]
    commands = [
        [
            str(PLUGINS / "check_http"),
            "-H",
            "127.0.0.1",
            "-p",
            http_port,
            "-u",
            f"/api/health/{name}",
            "-t",
            "5",
        ]
        for name in ENDPOINTS
    ]
    commands.append(
        [
            str(PLUGINS / "check_pgsql"),
            "-H",
            host,
            "-P",
            str(port),
            "-d",
            database,
            "-l",
            "postgres",
            "-t",
            "5",
        ]
    )
    started = time.perf_counter()
    for command in commands:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{Path(command[0]).name} failed: {result.stdout.strip()}")
    return time.perf_counter() - started


def plugins_available() -> bool:
    return not missing_plugins() and shutil.which(str(PLUGINS / "check_http")) is not None
