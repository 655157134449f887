"""`check --from` starts fast (SPEC §16): its path loads no I/O library, no config, no UI."""

from __future__ import annotations

import pytest

from tests.unit.test_architecture import loaded_after

HEAVY = ("textual", "plotext", "rich", "httpx", "asyncpg", "pydantic", "yaml", "prometheus_client")


@pytest.mark.parametrize(
    "module", ["syncmon.headless.check_from", "syncmon.feed.client", "syncmon.feed.wire"]
)
def test_check_from_loads_nothing_heavy(module: str) -> None:
    assert loaded_after(f"import {module}", (*HEAVY, "asyncio")) == []


@pytest.mark.parametrize(
    "module", ["syncmon.headless.serve", "syncmon.headless.published", "syncmon.feed.stream"]
)
def test_the_serving_watcher_never_loads_the_ui(module: str) -> None:
    assert loaded_after(f"import {module}", ("textual", "plotext", "textual_plotext")) == []
