"""`syncmon demo`: the dashboard on an embedded demo backend, cleaned up on quit.

The backend (embedded PostgreSQL, HTTP API, live traffic) runs in the same event loop as
the app, so quitting the app stops the traffic, the server and the cluster in order and
leaves no process or directory behind.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from syncmon.config.loader import Config, load_config, load_config_text
from syncmon.config.settings import DEFAULT_CONFIG_FILE, ENV_TOKEN, Settings

# Used when no ./alerts.yaml is around (an installed package): the seed's three rules and
# the shipped endpoint rules, so every demo incident has something to fire.
DEMO_RULES = """
alerts:
  - name: "High Sync Failure Rate"
    condition: "sync_failure_rate > 5%"
    severity: "critical"
  - name: "Slow Sync Performance"
    condition: "avg_sync_duration > 5s"
    severity: "warning"
  - name: "Plaid API Errors"
    condition: "plaid_error_rate > 2%"
    severity: "warning"
  - name: "Health Endpoint Down"
    condition: "endpoints_down > 0"
    severity: "critical"
    for: 1m
  - name: "Slow API Response"
    condition: "api_response_time > 500ms"
    severity: "warning"
    for: 1m
"""


def demo_config() -> Config:
    path = os.environ.get("SYNCMON_CONFIG") or DEFAULT_CONFIG_FILE
    if Path(path).is_file():
        return load_config(path)
    return load_config_text(DEMO_RULES, "<demo rules>", {})


def demo_settings(api_url: str, dsn: str, token: str | None, config: Config) -> Settings:
    return Settings(config=config, api_url=api_url, api_token=token, dsn=dsn, interval=None)


def run_demo_dashboard(timezone: str = "UTC") -> int:
    """Start the backend, run the dashboard until `q`, stop the backend; the exit code."""
    try:
        config = demo_config()
    except Exception as exc:
        print(f"syncmon demo: invalid config: {exc}", file=sys.stderr)
        return 3
    try:
        return asyncio.run(_run(timezone, config))
    except KeyboardInterrupt:
        return 130


async def _run(timezone: str, config: Config) -> int:
    from syncmon.demo.backend import DemoBackend
    from syncmon.ui.app import create_app

    token = os.environ.get(ENV_TOKEN) or None
    print("syncmon demo: starting an embedded PostgreSQL and 24 h of history…",
          file=sys.stderr)
    backend = DemoBackend(timezone=timezone, token=token)
    try:
        await backend.start()
    except Exception as exc:
        print(f"syncmon demo: could not start the demo backend: {exc}", file=sys.stderr)
        return 1
    try:
        app = create_app(demo_settings(backend.api_url, backend.dsn, token, config))
        result = await app.run_async()
        return int(result or 0)
    finally:
        await backend.stop()
