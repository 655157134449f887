"""Opening the alert detail screen and the timeline on 24 h of demo-sized data.

Prints numbers, asserts nothing (target: each answers in under 1 s, SPEC §17):
- the engine alone: `Engine.timeline` over 24 h for the shipped rules, and
  `Engine.episode` (chart + what changed) for a 40-minute and a 12-hour episode;
- the dashboard: from the key (`t`, `enter`) to the screen showing what was read,
  headless (`App.run_test` at 80×24), including the worker and the redraw.

The demo's embedded PostgreSQL with 24 h of history (`DemoBackend(history_hours=24)`,
about 100 k operations) runs on this machine; medians of `--runs` (default 5).

Usage: python bench/detail_timeline.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial

from pydantic import SecretStr


async def _async(function: Callable[..., object], *args: object) -> object:
    return function(*args)


async def median_seconds(runs: int, call: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def main(runs: int) -> None:
    import asyncpg

    from syncmon.config.loader import load_config
    from syncmon.config.settings import Settings, packaged_config
    from syncmon.core.timeline import walk_many
    from syncmon.demo.backend import DemoBackend
    from syncmon.engine.poll import Engine
    from syncmon.sources.past import _history_query
    from syncmon.ui.launch import create_app
    from syncmon.ui.panels.alerts import AlertsTable
    from syncmon.ui.screens.alert_detail import AlertDetailScreen
    from syncmon.ui.screens.timeline import TimelineScreen

    async with DemoBackend(live=False, seed=1, history_hours=24) as backend:
        conn = await asyncpg.connect(backend.dsn)
        rows = await conn.fetchval("SELECT count(*) FROM sync_performance_metrics")
        await conn.close()
        print(f"data: {rows} rows of sync_performance_metrics over 24 h")
        settings = Settings(
            config=load_config(packaged_config()),
            api_url=backend.api_url,
            api_token=None,
            dsn=SecretStr(backend.dsn),
            interval=None,
        )
        async with Engine(settings) as engine:
            now = engine.clock()
            found = await engine.timeline(now - timedelta(hours=24), now)
            print(f"timeline: {len(found.episodes)} episodes of {len(settings.rules)} rules")
            seconds = await median_seconds(
                runs, lambda: engine.timeline(now - timedelta(hours=24), now)
            )
            print(f"Engine.timeline (24 h, shipped rules): {seconds * 1000:.0f} ms")
            database = engine.database
            assert database is not None
            rules = [r for r in settings.rules if r.has_history]
            query = _history_query(rules, now - timedelta(hours=24), now)
            fetched = await database.fetch_history(query, timeout=30)
            seconds = await median_seconds(
                runs,
                lambda: database.fetch_history(query, timeout=30),
            )
            print(f"  of which the statement (per-bucket sums, 24 h): {seconds * 1000:.0f} ms")
            seconds = await median_seconds(
                runs,
                lambda: _async(walk_many, rules, fetched.history, now - timedelta(hours=24), now),
            )
            print(f"  of which the walk ({len(rules)} rules, 30 s grid): {seconds * 1000:.0f} ms")
            rule = next(r for r in settings.rules if r.has_history)
            for span in (timedelta(minutes=40), timedelta(hours=12)):
                seconds = await median_seconds(runs, partial(engine.episode, rule, now - span, now))
                print(f"Engine.episode ({rule.name}, a {span} episode): {seconds * 1000:.0f} ms")

        app = create_app(settings, interval=timedelta(seconds=5))
        async with app.run_test(size=(80, 24)) as pilot:
            while app.polls < 1:
                await pilot.pause(0.05)
            table = app.screen.query_one(AlertsTable)
            await pilot.press(*["up"] * 8)
            while not app.alerts.trackers[table.selected_rule() or ""].rule.has_history:
                await pilot.press("down")  # a rule over the database: it has a past to read
            print(f"detail of: {table.selected_rule()}")
            timeline_times: list[float] = []
            detail_times: list[float] = []
            for _ in range(runs):
                started = time.perf_counter()
                await pilot.press("t")
                while not (
                    isinstance(app.screen, TimelineScreen) and app.screen.timeline is not None
                ):
                    await pilot.pause(0.005)
                timeline_times.append(time.perf_counter() - started)
                await pilot.press("escape")
                while isinstance(app.screen, TimelineScreen):
                    await pilot.pause(0.005)
                started = time.perf_counter()
                await pilot.press("enter")
                while not (
                    isinstance(app.screen, AlertDetailScreen) and app.screen.context is not None
                ):
                    await pilot.pause(0.005)
                detail_times.append(time.perf_counter() - started)
                await pilot.press("escape")
                while isinstance(app.screen, AlertDetailScreen):
                    await pilot.pause(0.005)
            print(
                f"dashboard `t` → timeline drawn: {statistics.median(timeline_times) * 1000:.0f} ms"
            )
            print(
                f"dashboard `enter` → detail read: {statistics.median(detail_times) * 1000:.0f} ms"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args().runs))
