"""The `watch` loop on a scripted engine with a controllable clock: flap damping, blindness,
time budgets, and failures that must not end the daemon."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syncmon.config.loader import load_config_text
from syncmon.core.episodes import Since
from syncmon.core.metrics import MetricValue, Source, Unit
from syncmon.core.rules import AlertRule
from syncmon.engine.poll import PollRequest, Snapshot, window_key
from syncmon.headless.receivers import ActiveAlert
from syncmon.headless.watch import Watcher, WatchOptions

START = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def _rules(for_: str = "1m") -> tuple[AlertRule, ...]:
    return load_config_text(
        f"""
alerts:
  - name: "High Sync Failure Rate"
    condition: "sync_failure_rate > 5%"
    severity: "critical"
    for: {for_}
""",
        "alerts.yaml",
    ).rules


class ScriptedEngine:
    """Each poll is one step of a script; the clock advances `step` per poll (simulated time)."""

    def __init__(
        self,
        rules: tuple[AlertRule, ...],
        script: Callable[[int], float | str],
        step: timedelta = timedelta(seconds=30),
        truth: Callable[[int], float | str] | None = None,
    ) -> None:
        self.rules = rules
        self.script = script
        self.truth = truth or script  # what the database recorded, even while unreadable
        self.step = step
        self.now = START  # the simulated clock: the moment the latest poll began
        self.polls = 0
        self.active = 0
        self.max_active = 0
        self.hanging = asyncio.Event()  # set once a poll hangs

    async def poll(self, request: PollRequest | None = None) -> Snapshot:
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            n, self.polls = self.polls, self.polls + 1
            self.now = START + n * self.step
            outcome = self.script(n)
            if outcome == "hang":
                self.hanging.set()
                await asyncio.sleep(3600)
            if outcome == "raise":
                raise RuntimeError("driver bug")
            snapshot = Snapshot(self.now, True, timedelta(minutes=5))
            if outcome == "down":
                snapshot.failed[Source.PERFORMANCE] = "database: connection refused"
                return snapshot
            assert isinstance(outcome, float)
            snapshot.metrics[window_key(timedelta(minutes=5))] = {
                "sync_failure_rate": MetricValue("sync_failure_rate", outcome, Unit.RATIO, 100, 300)
            }
            return snapshot
        finally:
            self.active -= 1

    def clock(self) -> datetime:
        return self.now

    async def find_since(
        self, rules: object, at: datetime, *, timeout: float | None = None
    ) -> dict[str, Since | str]:
        """What the database would say: the first poll of the unbroken run of true values."""
        n = round((at - START) / self.step)
        first = n
        while first > 0 and _holds(self.truth(first - 1)):
            first -= 1
        return {rule.name: Since(START + first * self.step) for rule in self.rules}

    async def close(self) -> None:
        pass


def _holds(outcome: float | str) -> bool:
    return isinstance(outcome, float) and outcome > 0.05


async def _run(
    engine: ScriptedEngine, cycles: int, **options: Any
) -> tuple[Watcher, list[dict[str, Any]]]:
    out = io.StringIO()
    defaults: dict[str, Any] = {"interval": timedelta(milliseconds=1)}
    watcher = Watcher(engine, WatchOptions(**{**defaults, **options}), out=out)
    await watcher.run(asyncio.Event(), max_cycles=cycles)
    return watcher, [json.loads(line) for line in out.getvalue().splitlines()]


async def test_flapping_condition_with_for_1m_never_pages() -> None:
    engine = ScriptedEngine(_rules("1m"), lambda n: 0.5 if n % 2 else 0.0)
    watcher, events = await _run(engine, 40)  # 20 simulated minutes, flipping every 30 s
    assert "firing" not in [e["event"] for e in events]
    assert not watcher.alerts.trackers["High Sync Failure Rate"].firing


async def test_steady_condition_with_for_1m_fires_after_a_minute() -> None:
    engine = ScriptedEngine(_rules("1m"), lambda n: 0.5)
    watcher, events = await _run(engine, 4)
    # Pending since the first poll (the run starts there); it fires exactly `for` later.
    assert [(e["event"], e["ts"][11:19], e["restored"]) for e in events] == [
        ("pending", "03:00:00", False),
        ("firing", "03:01:00", False),
    ]
    assert {e["since"] for e in events} == {"2026-11-27T03:00:00.000+00:00"}
    assert len({e["id"] for e in events}) == 1
    assert watcher.alerts.trackers["High Sync Failure Rate"].since == START


async def test_starting_into_a_firing_alert_pages_again_marked_restored() -> None:
    # the condition has held since poll 0; this watcher starts at poll 10 (5 minutes later)
    engine = ScriptedEngine(_rules("1m"), lambda n: 0.5)
    engine.polls = 10
    _, events = await _run(engine, 2)
    assert [(e["event"], e["restored"], e["since"][11:19]) for e in events] == [
        ("firing", True, "03:00:00")
    ]


async def test_starting_blind_then_seeing_a_firing_alert_pages_it_restored() -> None:
    # the database recorded failures all along; this watcher could not read it at first
    script = {0: "down", 1: "down"}
    engine = ScriptedEngine(_rules("0s"), lambda n: script.get(n, 0.5), truth=lambda n: 0.5)
    _, events = await _run(engine, 4)
    assert [(e["event"], e["restored"]) for e in events] == [("error", False), ("firing", True)]
    assert events[1]["since"] == "2026-11-27T03:00:00.000+00:00"


async def test_database_down_while_firing_reports_error_never_resolved() -> None:
    script: dict[int, float | str] = {0: 0.0, 1: 0.5, 2: "down", 3: "down", 4: "down", 5: 0.5}
    engine = ScriptedEngine(_rules("0s"), lambda n: script.get(n, 0.5))
    watcher, events = await _run(engine, 7)
    # blind, still firing; readable again: re-announced once, same episode (SPEC §4.2)
    assert [(e["event"], e["restored"]) for e in events] == [
        ("firing", False),
        ("error", False),
        ("firing", True),
    ]
    assert len({e["id"] for e in events}) == 1
    assert watcher.alerts.trackers["High Sync Failure Rate"].firing


async def test_a_hung_poll_is_cut_at_the_cycle_budget_and_the_loop_goes_on() -> None:
    script: dict[int, float | str] = {0: 0.0, 2: "hang"}
    engine = ScriptedEngine(_rules("0s"), lambda n: script.get(n, 0.5))
    run = _run(engine, 5, interval=timedelta(milliseconds=50), source_timeout=0.1)
    watcher, events = await asyncio.wait_for(run, timeout=30)  # the hang is an hour long
    assert [e["event"] for e in events] == ["firing", "error", "firing"]  # blind, still firing
    assert datetime.fromisoformat(events[1]["ts"]) == START + 2 * engine.step  # engine's clock
    assert watcher.stats.overruns == 1
    assert engine.max_active == 1  # polls never overlap


async def test_an_unexpected_exception_in_a_poll_does_not_end_the_daemon() -> None:
    script: dict[int, float | str] = {0: 0.0, 2: "raise"}
    engine = ScriptedEngine(_rules("0s"), lambda n: script.get(n, 0.5))
    watcher, events = await _run(engine, 5)
    assert watcher.stats.cycles == 5
    assert [e["event"] for e in events] == ["firing", "error", "firing"]
    # the failed poll is dated by the engine's clock (simulated here), not the machine's
    assert datetime.fromisoformat(events[1]["ts"]) == START + 2 * engine.step


async def test_closed_stdout_does_not_end_the_daemon() -> None:
    engine = ScriptedEngine(_rules("0s"), lambda n: 0.5 if n % 2 else 0.0)
    out = io.StringIO()
    out.close()
    watcher = Watcher(engine, WatchOptions(interval=timedelta(milliseconds=1)), out=out)
    await watcher.run(asyncio.Event(), max_cycles=5)
    assert watcher.stats.cycles == 5


async def test_stop_during_a_hung_poll_returns_at_once() -> None:
    engine = ScriptedEngine(_rules("0s"), lambda n: "hang")
    watcher = Watcher(engine, WatchOptions(interval=timedelta(seconds=1)), out=io.StringIO())
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop))
    await asyncio.wait_for(engine.hanging.wait(), timeout=10)
    stop.set()
    # an hour-long poll: a run that waited for it would hit this deadline (the time it takes
    # to stop is measured by bench/watch_stop.py, not asserted here)
    await asyncio.wait_for(task, timeout=10)
    assert task.done() and task.exception() is None


async def test_alertmanager_state_follows_firing_and_resolution(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script = {0: 0.0, 1: 0.5, 2: 0.5}
    engine = ScriptedEngine(_rules("0s"), lambda n: script.get(n, 0.0))
    seen: list[tuple[dict[str, ActiveAlert], list[ActiveAlert]]] = []
    watcher = Watcher(
        engine,
        WatchOptions(interval=timedelta(milliseconds=1), alertmanagers=["http://127.0.0.1:9"]),
        out=io.StringIO(),
    )

    def record(f: dict[str, ActiveAlert], r: list[ActiveAlert], *, announce: bool = False) -> None:
        seen.append((f, r))

    monkeypatch.setattr(watcher.alertmanagers[0], "update", record)
    await watcher.run(asyncio.Event(), max_cycles=4)
    _, (first, none), (second, _), (third, resolved) = seen
    fired = START + timedelta(seconds=30)
    assert first["High Sync Failure Rate"].starts_at == fired
    assert second["High Sync Failure Rate"].starts_at == fired  # startsAt is stable
    assert none == [] and third == {}
    assert resolved[0].starts_at == fired
    assert resolved[0].ends_at == START + timedelta(seconds=90)
