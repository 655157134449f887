"""Every output masks a `${...}` secret expanded into any field (SPEC §5, issue 16 item 6):
`check` text, JSON and Nagios, `validate`, `watch` and what it sends, the dashboard."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncmon.config.loader import ConfigInvalid, load_config_text
from syncmon.config.redaction import MASK, redact, redact_json, register_secret
from syncmon.config.settings import Overrides, Settings, resolve_settings
from syncmon.core.durations import parse_duration
from syncmon.headless.events import event_line
from syncmon.sinks.alertmanager import build_alert
from tests.integration.http_endpoints import EndpointServer, answer, healthy_routes
from tests.integration.test_check_command import syncmon
from tests.integration.watch_support import RunningWatcher, wait_until

GRAFANA_KEY = "gk-7f3a9c2e51d04b8e"
API_TOKEN = "tok-0c9e4d2f8b7a6e51"
ROUTING_SECRET = "route-4e1f9a7b"
ENV = {
    "GRAFANA_API_KEY": GRAFANA_KEY,
    "SYNCMON_API_TOKEN": API_TOKEN,
    "PAGER_ROUTING_SECRET": ROUTING_SECRET,
}
SECRETS = (GRAFANA_KEY, API_TOKEN, ROUTING_SECRET)
RULES = """
alerts:
  - name: "Endpoint down (grafana ${GRAFANA_API_KEY})"
    condition: "endpoints_down > 0"
    severity: critical
    labels:
      route: "${PAGER_ROUTING_SECRET}"
    annotations:
      runbook_url: "https://grafana.example/d/sync?auth=${GRAFANA_API_KEY}"
      description: "call the API with ${SYNCMON_API_TOKEN}"
"""


def assert_masked(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    for fragment in ("gk-7f3a", "tok-0c9e", "route-4e1f"):  # nor any recognisable part
        assert fragment not in text


@pytest.fixture
async def redis_down() -> AsyncIterator[EndpointServer]:
    routes = healthy_routes()
    routes["/api/health/redis"] = answer(503, {"status": "DOWN"})
    async with EndpointServer(routes) as api:
        yield api


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "alerts.yaml"
    path.write_text(RULES)
    return path


@pytest.mark.parametrize("output", ["text", "json", "nagios"])
async def test_check_masks_secrets_in_every_format(
    output: str, config: Path, redis_down: EndpointServer
) -> None:
    code, out, err = await syncmon(
        "check", "--config", str(config), "--api-url", redis_down.url, "--format", output, env=ENV
    )
    assert code == 2, err  # the rule fires: its name, labels and annotations are all output
    assert_masked(out + err)
    if output == "json":
        # one alert per endpoint (SPEC §15): redis is the one down
        alerts = json.loads(out)["alerts"]
        (alert,) = [a for a in alerts if a["state"] == "firing"]
        assert alert["annotations"] == {
            "runbook_url": f"https://grafana.example/d/sync?auth={MASK}",
            "description": f"call the API with {MASK}",
        }
        assert alert["labels"] == {"route": MASK, "endpoint": "redis"}
        assert alert["name"].startswith(f"Endpoint down (grafana {MASK})")
    else:
        assert f"Endpoint down (grafana {MASK})" in out


async def test_validate_masks_a_secret_and_every_part_of_it(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(
        "alerts:\n"
        "  - name: a\n"
        "    condition: 'sync_failure_rate > ${PAGER_ROUTING_SECRET}'\n"
        "    severity: warning\n"
        "    window: '${GRAFANA_API_KEY}'\n"
    )
    code, out, err = await syncmon("validate", str(config), env=ENV)
    assert code == 3
    assert f"{config}:3:" in err and f"{config}:5:" in err  # both problems, at their places
    # the condition parser would have quoted 'route' out of 'route-4e1f9a7b'
    assert "'route'" not in err
    assert_masked(out + err)


async def test_watch_events_and_the_alertmanager_payload_are_masked(
    config: Path, redis_down: EndpointServer
) -> None:
    settings = resolve_settings(Overrides(str(config), redis_down.url, None), env=ENV)
    settings = dataclasses.replace(settings, interval=parse_duration("200ms"))
    async with RunningWatcher(settings) as running:
        await wait_until(lambda: "firing" in running.out.kinds(), timeout=10)
    lines = running.out.getvalue()
    assert_masked(lines)
    firing = next(e for e in running.out.events() if e["event"] == "firing")
    assert firing["annotations"]["runbook_url"].endswith(f"auth={MASK}")
    (rule,) = settings.rules
    now = datetime.now(UTC)
    payload = build_alert(rule, value="1", starts_at=now, ends_at=now + timedelta(minutes=4))
    assert_masked(json.dumps(payload))
    assert payload["labels"]["route"] == MASK


def test_an_event_line_masks_a_secret_in_the_rule_even_with_a_quote_in_it() -> None:
    from syncmon.core.alerts import AlertTracker, Observation, Verdict
    from syncmon.core.metrics import Unit

    env = {"QUOTED_SECRET": 'pw"with\\quote'}
    loaded = load_config_text(
        "alerts:\n  - {name: q, condition: 'endpoints_down > 0', severity: info,"
        " annotations: {note: 'x ${QUOTED_SECRET} y'}}\n",
        "q.yaml",
        env,
    )
    (rule,) = loaded.rules
    tracker = AlertTracker(rule)
    observation = Observation(Verdict.TRUE, value=1.0, threshold=0.0, unit=Unit.COUNT, samples=4)
    events = tracker.update(observation, datetime.now(UTC), None)
    assert events
    line = event_line(events[0])
    assert "with" not in line and json.loads(line)["annotations"]["note"] == f"x {MASK} y"


def test_structured_output_is_redacted_before_json_escapes_a_late_secret() -> None:
    """A secret learnt after the config (a DSN password) may hold a quote, which
    `json.dumps` escapes: redacting the dumped text would miss it, `redact_json` does not."""
    register_secret('late"pass\\word')
    record = {"errors": ['database: password late"pass\\word refused'], 'late"pass\\word': 1}
    assert "late" in redact(json.dumps(record))  # redacting the dumped text misses it
    dumped = json.dumps(redact_json(record))
    assert "late" not in dumped and dumped.count(MASK) == 2


def test_a_config_error_never_quotes_a_secret() -> None:
    with pytest.raises(ConfigInvalid) as caught:
        load_config_text(
            "alerts:\n  - {name: a, condition: 'sync_failure_rate > ${X_TOKEN}',"
            " severity: warning}\n",
            "t.yaml",
            {"X_TOKEN": "abc-def-ghi"},
        )
    text = str(caught.value)
    assert "abc" not in text and "condition:" in text


async def test_the_dashboard_shows_masked_rule_texts(redis_down: EndpointServer) -> None:
    from syncmon.ui.launch import create_app
    from tests.ui.helpers import screen_text, wait_for

    settings = Settings(
        config=load_config_text(RULES, "<test>", ENV),
        api_url=redis_down.url,
        api_token=None,
        dsn=None,
        interval=None,
        health_timeout=2.0,
    )
    app = create_app(settings)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(
            pilot,
            lambda: any(t.firing for t in app.alerts.trackers.values()),
            what="the redis endpoint's alert firing",
        )
        await pilot.pause()
        shown = screen_text(app)
    assert "Endpoint down (grafana ***)" in shown
    assert_masked(shown)
