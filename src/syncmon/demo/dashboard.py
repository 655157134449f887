"""`syncmon demo`: the dashboard on an embedded demo backend, cleaned up on quit.

The backend (embedded PostgreSQL, HTTP API, live traffic) runs in the same event loop as
the app, so quitting the app stops the traffic, the server and the cluster in order and
leaves no process or directory behind.
"""

from __future__ import annotations

import asyncio
import os
import sys

from pydantic import SecretStr

from syncmon.config.loader import Config, load_config
from syncmon.config.settings import ENV_TOKEN, Overrides, Settings, config_path


def demo_config() -> Config:
    """$SYNCMON_CONFIG or ./alerts.yaml when there is one, else the shipped rules."""
    return load_config(config_path(Overrides(), os.environ))


def demo_settings(api_url: str, dsn: str, token: SecretStr | None, config: Config) -> Settings:
    return Settings(
        config=config,
        api_url=api_url,
        api_token=token,
        dsn=SecretStr(dsn),
        interval=None,
    )


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
    from syncmon.ui.launch import create_app, run_app_async

    token = SecretStr(os.environ[ENV_TOKEN]) if os.environ.get(ENV_TOKEN) else None
    print("syncmon demo: starting an embedded PostgreSQL and 24 h of history…", file=sys.stderr)
    backend = DemoBackend(timezone=timezone, token=token)
    try:
        await backend.start()
    except Exception as exc:
        print(f"syncmon demo: could not start the demo backend: {exc}", file=sys.stderr)
        return 1
    try:
        app = create_app(demo_settings(backend.api_url, backend.dsn, token, config))
        return await run_app_async(app)
    finally:
        await backend.stop()
