"""Fixtures for the dashboard tests: the real demo backend on the session's PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import SecretStr

from syncmon.demo.backend import DemoBackend

TOKEN = "ui-test-token-7f3a"


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's zone is UTC for the test: clock times on screen (and snapshots) are
    the same on every machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
async def backend(seed_db: str) -> AsyncIterator[DemoBackend]:
    """A demo backend (HTTP API with a bearer token) on a fresh database, no live traffic."""
    demo = DemoBackend(
        dsn=seed_db,
        live=False,
        seed=7,
        history_hours=1,
        token=SecretStr(TOKEN),
        initial_conflicts=3,
    )
    await demo.start()
    try:
        yield demo
    finally:
        await demo.stop()
