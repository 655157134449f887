"""What `watch` writes: the stdout line and the Alertmanager alert (SPEC §7)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from syncmon.config.loader import load_config_text
from syncmon.config.redaction import register_secret
from syncmon.core.alerts import AlertEvent, EventKind, Observation, Verdict
from syncmon.core.episodes import Since, episode_id
from syncmon.core.metrics import Unit
from syncmon.core.silences import alert_labels
from syncmon.headless.events import event_line, event_record
from syncmon.headless.receivers import (
    ActiveAlert,
    AlertmanagerReceiver,
    RetryPolicy,
    display_url,
)
from syncmon.headless.watch import WatchOptions
from syncmon.sinks.alertmanager import build_alert

RULES = load_config_text(
    """
alerts:
  - name: "High Sync Failure Rate"
    condition: "sync_failure_rate > 5%"
    severity: "critical"
    labels: {team: mobile}
    annotations: {summary: "Sync failures above 5%", runbook_url: "https://runbooks/sync"}
""",
    "alerts.yaml",
).rules
RULE = RULES[0]
AT = datetime(2026, 11, 27, 3, 12, tzinfo=UTC)


def test_alert_labels_are_identity_only_never_the_value() -> None:
    assert alert_labels(RULE) == {
        "alertname": "High Sync Failure Rate",
        "severity": "critical",
        "team": "mobile",
        "service": "sync",
    }


def test_alert_carries_rule_annotations_plus_value_and_times() -> None:
    alert = build_alert(RULE, value="6.00%", starts_at=AT, ends_at=AT + timedelta(minutes=4))
    assert alert["labels"] == alert_labels(RULE)
    assert alert["annotations"] == {
        "summary": "Sync failures above 5%",
        "runbook_url": "https://runbooks/sync",
        "value": "6.00%",
    }
    assert alert["startsAt"] == "2026-11-27T03:12:00.000Z"
    assert alert["endsAt"] == "2026-11-27T03:16:00.000Z"


def test_firing_ends_at_is_four_times_the_longer_of_interval_and_resend() -> None:
    assert WatchOptions(
        interval=timedelta(seconds=30), resend=timedelta(minutes=1)
    ).hold == timedelta(minutes=4)
    assert WatchOptions(
        interval=timedelta(minutes=2), resend=timedelta(minutes=1)
    ).hold == timedelta(minutes=8)


async def test_alertmanager_payload_keeps_firing_alive_and_resolves_at_resolve_time() -> None:
    receiver = AlertmanagerReceiver(
        "http://127.0.0.1:9",
        resend=timedelta(minutes=1),
        hold=timedelta(minutes=4),
        retry=RetryPolicy(),
        clock=lambda: AT,
    )
    now = AT + timedelta(minutes=10)
    receiver.update({RULE.name: ActiveAlert(RULE, AT, "6.00%")}, [])
    [firing] = receiver.payload(now)
    assert (firing["startsAt"], firing["endsAt"]) == (
        "2026-11-27T03:12:00.000Z",
        "2026-11-27T03:26:00.000Z",
    )
    resolved_at = AT + timedelta(minutes=9)
    receiver.update({}, [ActiveAlert(RULE, AT, "1.00%", ends_at=resolved_at)])
    [resolved] = receiver.payload(now)
    assert resolved["endsAt"] == "2026-11-27T03:21:00.000Z"
    assert receiver.queue_depth == 1  # kept until Alertmanager has it
    await receiver.stop(grace=0.1)


def test_retry_backoff_is_exponential_and_capped() -> None:
    policy = RetryPolicy(initial=0.5, cap=4)
    assert [policy.delay(n) for n in range(1, 7)] == [0.5, 1, 2, 4, 4, 4]


def test_default_backoff_and_cycle_budget_follow_the_interval() -> None:
    fast = WatchOptions(interval=timedelta(milliseconds=200), source_timeout=5)
    assert fast.retry_policy.cap == 1.0
    assert fast.cycle_timeout == 6.0
    slow = WatchOptions(interval=timedelta(minutes=5))
    assert slow.retry_policy.cap == 30.0
    assert slow.cycle_timeout == 300.0


def _event(kind: EventKind, value: float | None) -> AlertEvent:
    obs = Observation(Verdict.TRUE if value else Verdict.ERROR, value, 0.05, Unit.RATIO, 20)
    since = Since(AT - timedelta(minutes=40), bounded=False)
    return AlertEvent(kind, RULE, AT, obs, since, episode_id(RULE, since.at), restored=True)


def test_event_line_has_exactly_the_spec_fields_in_base_units() -> None:
    record = json.loads(event_line(_event(EventKind.FIRING, 0.0612345678)))
    assert record == {
        "ts": "2026-11-27T03:12:00.000+00:00",
        "event": "firing",
        "rule": "High Sync Failure Rate",
        "severity": "critical",
        "value": 0.061235,
        "threshold": 0.05,
        "condition": "sync_failure_rate > 5%",
        "labels": {"team": "mobile"},
        "annotations": {
            "summary": "Sync failures above 5%",
            "runbook_url": "https://runbooks/sync",
        },
        "id": episode_id(RULE, AT - timedelta(minutes=40)),
        "since": "2026-11-27T02:32:00.000+00:00",
        "since_bounded": False,
        "since_seen": False,
        "restored": True,
    }
    assert json.loads(event_line(_event(EventKind.ERROR, None)))["value"] is None


def test_event_line_never_carries_a_secret() -> None:
    register_secret("hunter2-secret")
    [rule] = load_config_text(
        """
alerts:
  - name: "Leaky"
    condition: "error_rate > 1%"
    severity: "warning"
    annotations: {description: "see https://u:hunter2-secret@host/x"}
""",
        "alerts.yaml",
    ).rules
    obs = Observation(Verdict.TRUE, 0.5, 0.01, Unit.RATIO, 20)
    record = event_record(AlertEvent(EventKind.FIRING, rule, AT, obs))
    assert "hunter2-secret" not in json.dumps(record)


def test_receiver_names_in_logs_and_metrics_hide_webhook_paths_and_credentials() -> None:
    assert (
        display_url("https://hooks.example.com/services/T0/B0/s3cr3t?x=1")
        == "https://hooks.example.com/…"
    )
    assert display_url("http://user:pw@am.internal:9093") == "http://am.internal:9093"
    assert display_url("http://127.0.0.1:9093/") == "http://127.0.0.1:9093"
