"""Replaying a case through the real engine on a simulated timeline.

t = 0 is `ORIGIN`, 2000-01-01T00:00:00Z: a whole number of days since the Unix epoch, so
the evaluation grid (and SPEC §4.1's epoch-aligned `since` grid) lines up with every step
up to a day, and the same file gives the same answer on every machine, in every zone.

The engine polls at t = 0, e, 2e, … (e = `evaluation_interval`) until the last `expect.at`,
exactly as `watch` would — real SQL over the rows, the endpoints' series as its health
source — and `LiveAlerts` carries the state machines across polls, so `for` and
`keep_firing_for` work as in production, and asks the engine since when a rule has held
when it starts to hold (found in the rows, SPEC §4.1). An `expect.at` between two grid
points is answered by the latest evaluation at or before it, as promtool does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from syncmon.config.settings import Settings
from syncmon.core.alerts import AlertState, AlertTracker, Observation, Verdict
from syncmon.core.endpoints import EndpointResult
from syncmon.core.metrics import TABLE_SOURCES, EndpointStatus
from syncmon.engine.evaluation import LiveAlerts
from syncmon.engine.poll import Engine, PollRequest
from syncmon.ruletest.cases import Case, EndpointInput, Expectation, RuleTestFile
from syncmon.sources.health import SECURITY_HEADERS

ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)


class SimulatedClock:
    """The engine's `clock`: whatever moment the replay has reached."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class SeriesHealth:
    """A `HealthSource` answering from a case's `endpoints:` series at the simulated now."""

    def __init__(
        self,
        endpoints: Sequence[EndpointInput],
        interval: timedelta,
        clock: SimulatedClock,
        origin: datetime = ORIGIN,
    ) -> None:
        self.endpoints = endpoints
        self.interval = interval
        self.clock = clock
        self.origin = origin

    async def poll(self) -> list[EndpointResult]:
        now = self.clock()
        index = (now - self.origin) // self.interval
        results = []
        for endpoint in self.endpoints:
            status = endpoint.statuses[index] if 0 <= index < len(endpoint.statuses) else None
            if status is None:  # `_`, or past the end of the series: not polled
                continue
            state = EndpointStatus(status)
            down = state is EndpointStatus.DOWN
            results.append(
                EndpointResult(
                    name=endpoint.name,
                    url=f"series:{endpoint.name}",
                    status=state,
                    latency_ms=None if down else endpoint.latencies[index],
                    http_status=503 if down else 200,
                    error="down in the test's series" if down else None,
                    missing_security_headers=tuple(SECURITY_HEADERS)[
                        : endpoint.missing_headers[index]
                    ],
                    polled_at=now,
                )
            )
        return results

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class RuleState:
    """One alert at one moment, as the comparison and the report need it."""

    name: str
    state: AlertState  # firing, pending, inactive, nodata or error
    since: timedelta | None  # offset from t = 0
    observation: Observation | None
    condition: str = ""


@dataclass(frozen=True)
class Moment:
    expectation: Expectation
    evaluated_at: timedelta  # the grid point that answers it
    rules: tuple[RuleState, ...]


class ReplayError(Exception):
    """The test database could not be read: no verdict about the rules is possible."""


def rule_state(tracker: AlertTracker, origin: datetime = ORIGIN) -> RuleState:
    observation = tracker.observation
    state: AlertState
    if tracker.state in (AlertState.FIRING, AlertState.PENDING, AlertState.ERROR):
        state = tracker.state
    elif observation is not None and observation.verdict is Verdict.NODATA:
        state = AlertState.NODATA
    else:
        state = AlertState.INACTIVE
    since = tracker.since - origin if tracker.since and tracker.active else None
    rule = tracker.rule  # one of its alerts: `Health Endpoint Down (sync)` (SPEC §15)
    return RuleState(rule.key, state, since, observation, rule.condition_text)


async def replay(test_file: RuleTestFile, case: Case, dsn: str) -> list[Moment]:
    """Evaluate every rule on the grid up to the last `expect.at` of `case`."""
    step = test_file.evaluation_interval
    clock = SimulatedClock(ORIGIN)
    model = test_file.config.model
    settings = Settings(
        config=test_file.config,
        api_url=None,
        api_token=None,
        dsn=SecretStr(dsn),
        interval=step,
        endpoints={e.name: f"/{e.name}" for e in case.endpoints},
        timestamp_timezone="UTC",
        plaid_pattern=model.sources.database.plaid_operation_pattern,
        lookback=model.evaluation.lookback,
    )
    waiting = sorted(case.expectations, key=lambda e: e.at)
    moments: list[Moment] = []
    health = SeriesHealth(case.endpoints, case.interval, clock)
    async with Engine(settings, health=health, clock=clock) as engine:
        alerts = LiveAlerts(engine.rules, engine)  # since found in the database, as watch does
        for k in range(waiting[-1].at // step + 1):
            clock.now = ORIGIN + k * step
            snapshot = await engine.poll(PollRequest())
            unreadable = [snapshot.failed[s] for s in TABLE_SOURCES if s in snapshot.failed]
            if unreadable:
                raise ReplayError("; ".join(dict.fromkeys(unreadable)))
            await alerts.advance(snapshot)
            if alerts.search_errors:
                raise ReplayError("; ".join(dict.fromkeys(alerts.search_errors.values())))
            while waiting and waiting[0].at < (k + 1) * step:
                states = tuple(rule_state(t) for t in alerts.trackers.values())
                moments.append(Moment(waiting.pop(0), k * step, states))
    order = {id(e): i for i, e in enumerate(case.expectations)}
    return sorted(moments, key=lambda m: order[id(m.expectation)])
