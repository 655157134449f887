"""One alert per label set (SPEC §15) through the pure parts: the snapshot's alerts, the live
state machines, validate, the payloads every receiver gets, /metrics and the alerts row."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from syncmon.config.loader import ConfigInvalid, load_config_text
from syncmon.core.alerts import AlertState, EventKind
from syncmon.core.endpoints import EndpointResult
from syncmon.core.episodes import episode_id
from syncmon.core.metrics import EndpointAggregates, EndpointStatus, Source, endpoint_metrics
from syncmon.core.rules import AlertRule
from syncmon.core.silences import alert_labels
from syncmon.engine.evaluation import LiveAlerts
from syncmon.engine.poll import Snapshot, window_key
from syncmon.headless.events import event_record
from syncmon.headless.exposition import WatchMetrics
from syncmon.sinks.alertmanager import build_alert
from syncmon.ui.panels.alerts import fit_name

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
S = timedelta(seconds=1)
W = timedelta(minutes=5)

RULES = """\
alerts:
  - name: Endpoint Down
    condition: "endpoints_down > 0"
    severity: critical
    for: 1m
    labels: {team: mobile}
"""


def rules(text: str = RULES) -> tuple[AlertRule, ...]:
    return load_config_text(text, "alerts.yaml", {}).rules


def snapshot(at: datetime, statuses: dict[str, str] | None) -> Snapshot:
    """What the engine builds from one health poll: the totals and each endpoint's own."""
    snap = Snapshot(at, True, W)
    if statuses is None:  # endpoints not polled (yet)
        return snap
    results = [
        EndpointResult(name, f"http://x/{name}", EndpointStatus(s), 5.0, 200, None, (), at)
        for name, s in statuses.items()
    ]
    down = [r for r in results if r.status is EndpointStatus.DOWN]
    total = EndpointAggregates(len(results), len(down), 0)
    snap.endpoints = results
    snap.metrics[window_key(W)] = {m.name: m for m in endpoint_metrics(total, 300)}
    snap.series[window_key(W)] = {
        (("endpoint", r.name),): {
            m.name: m
            for m in endpoint_metrics(
                EndpointAggregates(1, int(r.status is EndpointStatus.DOWN), 0), 300
            )
        }
        for r in results
    }
    return snap


def test_the_snapshot_gives_one_alert_per_endpoint_or_the_rule_when_none_polled() -> None:
    (rule,) = rules()
    assert [a.key for a in snapshot(T0, None).alerts_of(rule)] == ["Endpoint Down"]
    alerts = snapshot(T0, {"sync": "down", "redis": "up"}).alerts_of(rule)
    assert [a.key for a in alerts] == ["Endpoint Down (redis)", "Endpoint Down (sync)"]
    snap = snapshot(T0, {"sync": "down", "redis": "up"})
    assert [snap.observe(a).value for a in alerts] == [0.0, 1.0]  # 1 for that one down
    assert snap.observe(rule).value == 1.0  # the rule itself still reads the total


async def test_each_endpoint_has_its_own_state_since_and_episode() -> None:
    live = LiveAlerts(rules())
    assert list(live.trackers) == ["Endpoint Down"]  # before any poll: the rule, unknown
    events = await live.advance(snapshot(T0, {"sync": "down", "redis": "up"}))
    assert list(live.trackers) == ["Endpoint Down (redis)", "Endpoint Down (sync)"]
    assert [(e.kind, e.rule.key) for e in events] == [(EventKind.PENDING, "Endpoint Down (sync)")]
    events = await live.advance(snapshot(T0 + 30 * S, {"sync": "down", "redis": "down"}))
    assert [(e.kind, e.rule.key) for e in events] == [(EventKind.PENDING, "Endpoint Down (redis)")]
    events = await live.advance(snapshot(T0 + 60 * S, {"sync": "down", "redis": "down"}))
    assert [(e.kind, e.rule.key) for e in events] == [(EventKind.FIRING, "Endpoint Down (sync)")]
    sync, redis = live.trackers["Endpoint Down (sync)"], live.trackers["Endpoint Down (redis)"]
    assert (sync.since, redis.since) == (T0, T0 + 30 * S)
    assert sync.episode_id == episode_id(sync.rule, T0)
    assert sync.episode_id != episode_id(redis.rule, T0)  # labels are in the id
    episode = sync.episode_id
    events = await live.advance(snapshot(T0 + 90 * S, {"sync": "up", "redis": "down"}))
    assert [(e.kind, e.rule.key) for e in events] == [
        (EventKind.FIRING, "Endpoint Down (redis)"),
        (EventKind.RESOLVED, "Endpoint Down (sync)"),
    ]
    assert events[1].episode == episode  # the resolution names the episode it ends
    assert redis.state is AlertState.FIRING and sync.state is AlertState.RESOLVED


async def test_an_endpoint_no_longer_polled_resolves_then_goes() -> None:
    live = LiveAlerts(rules(RULES.replace("for: 1m", "for: 0s")))
    await live.advance(snapshot(T0, {"sync": "down", "redis": "down"}))
    assert live.trackers["Endpoint Down (redis)"].firing
    events = await live.advance(snapshot(T0 + 30 * S, {"sync": "down"}))  # redis removed
    assert [(e.kind, e.rule.key) for e in events] == [(EventKind.RESOLVED, "Endpoint Down (redis)")]
    assert list(live.trackers) == ["Endpoint Down (sync)"]


async def test_a_blind_poll_keeps_the_firing_endpoint_alerts_firing() -> None:
    """A poll that failed as a whole reports no endpoint: the known alerts take the error
    (firing stays firing, SPEC §4) instead of resolving or turning into the bare rule."""
    live = LiveAlerts(rules(RULES.replace("for: 1m", "for: 0s")))
    await live.advance(snapshot(T0, {"sync": "down", "redis": "up"}))
    blind = snapshot(T0 + 30 * S, None)
    blind.failed[Source.ENDPOINTS] = "poll timed out after 6s"
    events = await live.advance(blind)
    assert [(e.kind, e.rule.key) for e in events] == [
        (EventKind.ERROR, "Endpoint Down (redis)"),
        (EventKind.ERROR, "Endpoint Down (sync)"),
    ]
    assert list(live.trackers) == ["Endpoint Down (redis)", "Endpoint Down (sync)"]
    assert live.trackers["Endpoint Down (sync)"].firing
    sync = live.trackers["Endpoint Down (sync)"]
    assert sync.since_info is not None
    episode = episode_id(sync.rule, sync.since_info.at)
    # back: the same alert and episode, re-announced once as restored (SPEC §4.2), never new
    events = await live.advance(snapshot(T0 + 60 * S, {"sync": "down", "redis": "up"}))
    assert [(e.kind, e.rule.key, e.restored, e.episode) for e in events] == [
        (EventKind.FIRING, "Endpoint Down (sync)", True, episode)
    ]
    assert live.trackers["Endpoint Down (sync)"].since == T0
    events = await live.advance(snapshot(T0 + 90 * S, {"sync": "down", "redis": "up"}))
    assert events == []  # once per recovery


def test_every_payload_carries_the_endpoint_label() -> None:
    (rule,) = rules()
    redis = rule.instance((("endpoint", "redis"),))
    assert alert_labels(redis) == {
        "alertname": "Endpoint Down",
        "severity": "critical",
        "team": "mobile",
        "endpoint": "redis",
        "service": "sync",
    }
    assert alert_labels(rule) == {k: v for k, v in alert_labels(redis).items() if k != "endpoint"}
    sent = build_alert(redis, value="1", starts_at=T0, ends_at=T0 + W, episode="abc")
    assert sent["labels"]["endpoint"] == "redis" and sent["annotations"]["value"] == "1"


async def test_watch_events_and_metrics_are_per_alert() -> None:
    live = LiveAlerts(rules(RULES.replace("for: 1m", "for: 0s")))
    events = await live.advance(snapshot(T0, {"sync": "down", "redis": "up"}))
    (record,) = [event_record(e) for e in events]
    assert (record["event"], record["rule"]) == ("firing", "Endpoint Down")
    assert record["labels"] == {"team": "mobile", "endpoint": "sync"}
    assert record["value"] == 1
    metrics = WatchMetrics()
    metrics.record(
        snapshot(T0, {"sync": "down", "redis": "up"}), live.trackers.values(), events, []
    )
    text = _exposition(metrics)
    assert (
        'syncmon_alert_firing{endpoint="sync",rule="Endpoint Down",severity="critical"} 1.0' in text
    )
    assert (
        'syncmon_alert_firing{endpoint="redis",rule="Endpoint Down",severity="critical"} 0.0'
        in text
    )


def _exposition(metrics: WatchMetrics) -> str:
    from prometheus_client import generate_latest

    # label order in the text is the gauge's; sort each line's labels to compare stably
    lines = []
    for line in generate_latest(metrics.registry).decode().splitlines():
        if "{" in line and not line.startswith("#"):
            name, rest = line.split("{", 1)
            labels, value = rest.rsplit("}", 1)
            line = name + "{" + ",".join(sorted(labels.split(","))) + "}" + value
        lines.append(line)
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("condition", "word"),
    [
        ("endpoints_down > 1", "can never hold"),
        ("endpoints_down >= 2", "can never hold"),
        ("endpoints_insecure >= 0", "always holds"),
        ("endpoints_down < 5", "always holds"),
    ],
)
def test_validate_refuses_a_count_that_one_endpoint_cannot_reach(condition: str, word: str) -> None:
    text = f'alerts:\n  - {{name: x, condition: "{condition}", severity: critical}}\n'
    with pytest.raises(ConfigInvalid) as info:
        load_config_text(text, "alerts.yaml", {})
    (problem,) = info.value.problems
    assert word in problem.message and "one alert per endpoint" in problem.message
    assert (problem.line, problem.column) == (2, text.splitlines()[1].index(condition) + 1)


def test_validate_refuses_an_endpoint_label_on_a_rule_over_endpoints() -> None:
    text = textwrap.dedent("""\
        alerts:
          - name: x
            condition: "endpoints_down > 0"
            severity: critical
            labels: {endpoint: all, team: mobile}
          - name: y
            condition: "sync_failure_rate > 5%"
            severity: critical
            labels: {endpoint: none}
        """)
    with pytest.raises(ConfigInvalid) as info:
        load_config_text(text, "alerts.yaml", {})
    (problem,) = info.value.problems  # the table rule may use the label name
    assert (problem.line, problem.column) == (5, 14)  # the key `endpoint`
    assert "label 'endpoint' is set by syncmon" in problem.message
    # conditions that depend on the endpoint's 0 or 1 load
    assert rules(RULES.replace("endpoints_down > 0", "endpoints_down >= 1"))


def test_a_long_alert_name_keeps_its_endpoint_when_cut() -> None:
    name = "Health Endpoint Down (database)"
    assert fit_name(name, 40) == name
    cut = fit_name(name, 20)
    assert cut == "Health E… (database)" and len(cut) == 20
    assert fit_name("A rule name without labels at all", 12) == "A rule name without labels at all"
    assert fit_name(name, 11) == name  # no room for a useful head: the table cuts it
