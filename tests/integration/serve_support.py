"""Real watcher processes serving their state (SPEC §16), for the viewer and check tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

TOKEN = "s3cret-watch-token"

ENDPOINT_RULE = """
alerts:
  - name: "Endpoint Down"
    condition: "endpoints_down > 0"
    severity: "critical"
    for: {for_}
"""


def watcher_env(dsn: str | None, token: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCMON_")}
    if dsn:
        env["SYNCMON_DATABASE_URL"] = dsn  # not on the command line: flags show in `ps`
    if token:
        env["SYNCMON_WATCH_TOKEN"] = token
    env.update(extra)
    return env


def spawn_watcher(
    config: Path,
    dsn: str | None,
    port: int,
    *extra: str,
    token: str | None = None,
    interval: str = "1s",
) -> subprocess.Popen[str]:
    """`syncmon watch --metrics-port PORT` as its own process (stdout: its JSON lines)."""
    command = [sys.executable, "-m", "syncmon", "watch", "--config", str(config)]
    command += ["--interval", interval, "--metrics-port", str(port), *extra]
    return subprocess.Popen(
        command,
        env=watcher_env(dsn, token),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    """SIGTERM, then the output (killed if it does not stop within 5 s)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


async def get(port: int, path: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=2) as client:
        return await client.get(f"http://127.0.0.1:{port}{path}", headers=headers)


async def state(port: int, token: str | None = None) -> dict[str, Any] | None:
    """The watcher's state, or None while it does not serve one yet."""
    try:
        response = await get(port, "/api/v1/state", token)
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None


def alert(document: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    if document is None:
        return None
    return next((a for a in document["alerts"] if a["name"] == name), None)
