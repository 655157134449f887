"""The watcher's state document (SPEC §16): what `watch` encodes, viewers decode, nothing else.

Viewers read it from the network: anything that is not a watcher's state is `StateInvalid`,
never another exception, and never a document half understood.
"""

from __future__ import annotations

import contextlib
import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syncmon.config.loader import load_config_text
from syncmon.config.redaction import register_secret
from syncmon.core.alerts import AlertState, AlertTracker, Observation, Verdict
from syncmon.core.endpoints import EndpointResult
from syncmon.core.episodes import Since
from syncmon.core.metrics import EndpointStatus, MetricValue, PerformanceAggregates, Source, Unit
from syncmon.core.silences import Matcher, Silence, SilenceRead
from syncmon.engine.poll import ChartSeries, Snapshot
from syncmon.feed.decode import decode
from syncmon.feed.encode import encode
from syncmon.feed.wire import SCHEMA, StateInvalid

RULES = load_config_text(
    """
alerts:
  - name: "High Sync Failure Rate"
    condition: "sync_failure_rate > 5%"
    severity: "critical"
    for: 2m
    labels: {team: mobile}
    annotations: {summary: "Sync failures above 5%"}
  - name: "Endpoint Down"
    condition: "endpoints_down > 0"
    severity: "warning"
""",
    "alerts.yaml",
).rules
AT = datetime(2026, 12, 6, 3, 12, tzinfo=UTC)


def _document() -> dict[str, Any]:
    snapshot = Snapshot(AT, True, timedelta(minutes=5))
    snapshot.metrics[300] = {
        "sync_failure_rate": MetricValue("sync_failure_rate", 0.5, Unit.RATIO, 20, 300),
        "avg_sync_duration": MetricValue("avg_sync_duration", None, Unit.MS, 0, 300),
    }
    snapshot.endpoints = [
        EndpointResult(
            "sync",
            "http://api/api/health/sync",
            EndpointStatus.DOWN,
            12.5,
            503,
            "HTTP 503",
            ("X-Frame-Options",),
            AT,
        )
    ]
    snapshot.failed[Source.CONFLICTS] = "conflict_resolution_history: statement timed out"
    snapshot.top_errors = [("network timeout", 7)]
    snapshot.chart = ChartSeries(
        AT - timedelta(hours=1), timedelta(minutes=1), [PerformanceAggregates(10, 5), None], [None]
    )
    firing = AlertTracker(RULES[0])
    firing.update(
        Observation(Verdict.TRUE, 0.5, 0.05, Unit.RATIO, 20), AT, Since(AT - timedelta(minutes=3))
    )
    quiet = AlertTracker(RULES[1])
    silence = Silence(
        "5b1e0e5c-8a43-4d6b-9a31-6f1f8f1a0b11",
        (Matcher("alertname", "High Sync Failure Rate"),),
        "alice",
        "acknowledged in syncmon by alice",
        AT,
        AT + timedelta(hours=12),
        "active",
    )
    sets = [
        SilenceRead("http://am:9093", [silence]),
        SilenceRead("http://am2:9093", None, "refused"),
    ]
    document: dict[str, Any] = json.loads(
        json.dumps(
            encode(snapshot, [firing, quiet], interval=timedelta(seconds=30), seq=7, silences=sets)
        )
    )
    return document


def test_what_is_encoded_is_what_viewers_decode() -> None:
    state = decode(_document())
    assert (state.seq, state.evaluated_at, state.interval) == (7, AT, timedelta(seconds=30))
    assert state.display_metrics["sync_failure_rate"].value == 0.5
    assert state.display_metrics["avg_sync_duration"].value is None  # no samples: null, not 0
    assert state.endpoints is not None and state.endpoints[0].status is EndpointStatus.DOWN
    assert state.endpoints[0].missing_security_headers == ("X-Frame-Options",)
    assert state.failed == {Source.CONFLICTS: "conflict_resolution_history: statement timed out"}
    assert state.top_errors == [("network timeout", 7)]
    assert state.chart is not None and state.chart.performance == [
        PerformanceAggregates(10, 5),
        None,
    ]
    firing, quiet = state.alerts
    assert firing.rule == RULES[0]  # the definition travels whole: for, labels, annotations
    assert firing.state is AlertState.FIRING
    assert firing.since == Since(AT - timedelta(minutes=3))
    assert firing.episode is not None and len(firing.episode) == 16
    assert firing.ack is not None and firing.ack["by"] == "alice"
    assert quiet.state is AlertState.INACTIVE and quiet.ack is None
    assert [s.error for s in state.alertmanagers] == [None, "refused"]
    assert state.alertmanagers[0].silences is not None


def test_stale_after_two_intervals() -> None:
    state = decode(_document())
    assert not state.stale(AT + timedelta(seconds=60))
    assert state.stale(AT + timedelta(seconds=61))


def test_an_endpoint_without_polled_at_was_polled_for_the_evaluation_sent() -> None:
    """An older watcher's document: the endpoint's time is the state's, never the viewer's
    own clock (which would make a stale state's endpoints look fresh)."""
    document = _document()
    del document["endpoints"][0]["polled_at"]
    document["evaluated_at"] = (AT - timedelta(hours=2)).isoformat()
    state = decode(document)
    assert state.endpoints is not None
    assert state.endpoints[0].polled_at == AT - timedelta(hours=2)
    sent = decode(_document()).endpoints
    assert sent is not None and sent[0].polled_at == AT


def test_secrets_never_travel() -> None:
    register_secret("hunter2-wire")
    document = _document()
    document_text = json.dumps(document)
    snapshot = Snapshot(AT, True, timedelta(minutes=5))
    snapshot.failed[Source.PERFORMANCE] = "password hunter2-wire refused"
    encoded = json.dumps(encode(snapshot, [], interval=timedelta(seconds=1), seq=1))
    assert "hunter2-wire" not in encoded + document_text


JUNK: list[Any] = [None, True, -1, 1e308, "x", "", [], {}, [None], {"a": 1}, "9" * 5000]


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node[:2]):
            found += _paths(value, (*path, index))
    return found


def test_any_field_replaced_by_junk_is_refused_or_understood() -> None:
    """Every field of a real document, replaced by every kind of junk: decode either reads a
    state or raises StateInvalid — never another exception (a viewer must not crash)."""
    base = _document()
    tried = 0
    for path in _paths(base)[1:]:
        for junk in JUNK:
            document = copy.deepcopy(base)
            node = document
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = junk
            tried += 1
            with contextlib.suppress(StateInvalid):
                decode(document)
    assert tried > 500


@pytest.mark.parametrize(
    "document",
    [None, [], "state", {"schema": "other"}, {"schema": SCHEMA}, {"schema": SCHEMA, "seq": 1}],
)
def test_what_is_not_a_state_is_refused(document: Any) -> None:
    with pytest.raises(StateInvalid):
        decode(document)


def test_a_condition_that_does_not_parse_is_refused() -> None:
    document = _document()
    document["alerts"][0]["condition"] = "nonsense_metric > 5%"
    with pytest.raises(StateInvalid, match="High Sync Failure Rate"):
        decode(document)


def test_an_interval_of_zero_is_refused() -> None:
    document = _document()
    document["interval_seconds"] = 0
    with pytest.raises(StateInvalid):
        decode(document)


def test_one_alert_per_endpoint_travels_as_itself() -> None:
    """Two endpoints' alerts of one rule stay two alerts for viewers (SPEC §15): the label
    set travels, so keys, labels and episode ids are the watcher's."""
    snapshot = Snapshot(AT, True, timedelta(minutes=5))
    sync = AlertTracker(RULES[1].instance((("endpoint", "sync"),)))
    redis = AlertTracker(RULES[1].instance((("endpoint", "redis"),)))
    sync.update(Observation(Verdict.TRUE, 1.0, 0.0, Unit.COUNT, 1), AT, None)
    document = encode(snapshot, [sync, redis], interval=timedelta(seconds=30), seq=1)
    state = decode(json.loads(json.dumps(document)))
    keys = [a.rule.key for a in state.alerts]
    assert keys == ["Endpoint Down (sync)", "Endpoint Down (redis)"]
    decoded = state.alerts[0]
    assert decoded.rule.all_labels == {"endpoint": "sync"}
    assert decoded.rule.labels == {}  # the endpoint is the alert's, not the rule's
    assert decoded.state is AlertState.FIRING and decoded.episode == sync.episode_id
    bad = json.loads(json.dumps(document))
    bad["alerts"][0]["series"] = [["endpoint"]]
    with pytest.raises(StateInvalid):
        decode(bad)
