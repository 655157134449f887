"""alerts.yaml (SPEC §3, §5): the seed loads, every problem is reported at once with its place."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from syncmon.config.loader import ConfigInvalid, load_config, load_config_text
from syncmon.config.redaction import redact
from syncmon.config.settings import Overrides, resolve_settings
from syncmon.core.rules import Severity

REPO = Path(__file__).resolve().parents[2]
SEED_BLOCK = """\
# Example alerting rules
alerts:
  - name: "High Sync Failure Rate"
    condition: "sync_failure_rate > 5%"
    severity: "critical"
    
  - name: "Slow Sync Performance"
    condition: "avg_sync_duration > 5s"
    severity: "warning"
    
  - name: "Plaid API Errors"
    condition: "plaid_error_rate > 2%"
    severity: "warning"
"""


def problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigInvalid) as info:
        load_config_text(textwrap.dedent(text), "alerts.yaml", env or {})
    return [str(p) for p in info.value.problems]


def test_seed_alerting_block_loads_unchanged() -> None:
    config = load_config_text(SEED_BLOCK, "seed.yaml", {})
    assert [(r.name, r.condition_text, r.severity) for r in config.rules] == [
        ("High Sync Failure Rate", "sync_failure_rate > 5%", Severity.CRITICAL),
        ("Slow Sync Performance", "avg_sync_duration > 5s", Severity.WARNING),
        ("Plaid API Errors", "plaid_error_rate > 2%", Severity.WARNING),
    ]
    first = config.rules[0]
    assert first.window == timedelta(minutes=5)
    assert first.for_ == timedelta(0)
    assert first.min_samples is None


def test_seed_block_is_in_the_shipped_file_verbatim() -> None:
    shipped = (REPO / "alerts.yaml").read_text()
    for line in SEED_BLOCK.splitlines()[2:]:
        if line.strip():
            assert line.rstrip() in shipped


def test_shipped_alerts_yaml_is_valid_and_has_spec_rules() -> None:
    config = load_config(REPO / "alerts.yaml", {})
    conditions = {r.condition_text: r for r in config.rules}
    assert conditions["endpoints_down > 0"].severity is Severity.CRITICAL
    assert conditions["endpoints_down > 0"].for_ == timedelta(minutes=1)
    assert conditions["api_response_time > 500ms"].severity is Severity.WARNING
    assert set(config.targets) == {
        "sync_success_rate",
        "conflict_auto_resolve_rate",
        "avg_sync_duration",
        "api_response_time",
        "error_rate",
    }


def test_all_optional_fields() -> None:
    config = load_config_text(
        textwrap.dedent("""
        alerts:
          - name: x
            condition: "error_rate > 1% or endpoints_down > 0"
            severity: info
            window: 15m
            for: 2m
            keep_firing_for: 90s
            min_samples: 3
            labels: {team: mobile}
            annotations: {runbook_url: "https://runbooks/x"}
        """),
        "a.yaml",
        {},
    )
    r = config.rules[0]
    assert (r.window, r.for_, r.keep_firing_for, r.min_samples) == (
        timedelta(minutes=15),
        timedelta(minutes=2),
        timedelta(seconds=90),
        3,
    )
    assert r.labels == {"team": "mobile"}
    assert r.annotations["runbook_url"] == "https://runbooks/x"


def test_empty_file_is_a_valid_config_without_rules() -> None:
    assert load_config_text("", "a.yaml", {}).rules == ()


# -- malformed files: each problem is FILE:LINE:COLUMN: message -------------------------------

MALFORMED = [
    (
        "typo in a key",
        """
        alerts:
          - name: a
            condition: "error_rate > 1%"
            serverity: critical
        """,
        [
            "alerts.yaml:5:5: unknown key 'serverity'; did you mean 'severity'?",
            "alerts.yaml:3:5: missing required key 'severity'",
        ],
    ),
    (
        "unknown metric",
        """
        alerts:
          - name: a
            condition: "sync_falure_rate > 5%"
            severity: critical
        """,
        [
            "alerts.yaml:4:17: condition: unknown metric 'sync_falure_rate'; "
            "did you mean 'sync_failure_rate'?"
        ],
    ),
    (
        "ratio without %",
        """
        alerts:
          - {name: a, condition: "sync_failure_rate > 5", severity: critical}
        """,
        ["alerts.yaml:3:48: condition: sync_failure_rate is a ratio"],
    ),
    (
        "duration with %",
        """
        alerts:
          - name: a
            condition: avg_sync_duration > 5%
            severity: warning
        """,
        ["alerts.yaml:4:37: condition: unit '%' does not fit avg_sync_duration"],
    ),
    (
        "duplicate names",
        """
        alerts:
          - {name: same, condition: "error_rate > 1%", severity: info}
          - {name: same, condition: "error_rate > 2%", severity: info}
        """,
        ["alerts.yaml:4:12: duplicate rule name 'same' (first used at line 3)"],
    ),
    (
        "YAML syntax error",
        """
        alerts:
          - name: "unterminated
            severity: critical
        """,
        ["alerts.yaml:5:1: YAML syntax error"],
    ),
    (
        "python tag",
        """
        alerts:
          - name: !!python/object/apply:os.system ["echo pwned"]
            condition: "error_rate > 1%"
            severity: info
        """,
        ["alerts.yaml:3:11: the YAML tag !!python/object/apply:os.system is not allowed"],
    ),
    (
        "bad duration",
        """
        alerts:
          - {name: a, condition: "error_rate > 1%", severity: info, for: 5 minutes}
        """,
        ["alerts.yaml:3:66: for: invalid duration '5 minutes'"],
    ),
    (
        "zero window",
        """
        alerts:
          - {name: a, condition: "error_rate > 1%", severity: info, window: 0s}
        """,
        ["alerts.yaml:3:69: window: 0s is out of range: between 1s and 7d"],
    ),
    (
        "missing condition",
        """
        alerts:
          - name: a
            severity: info
        """,
        ["alerts.yaml:3:5: missing required key 'condition'"],
    ),
    (
        "bad severity",
        """
        alerts:
          - {name: a, condition: "error_rate > 1%", severity: page}
        """,
        ["alerts.yaml:3:55: severity: must be 'critical', 'warning' or 'info'"],
    ),
    (
        "alerts not a list",
        """
        alerts:
          name: a
        """,
        ["alerts.yaml:3:3: alerts: must be a valid list (got a mapping)"],
    ),
    (
        "duplicate key",
        """
        alerts:
          - name: a
            name: b
            condition: "error_rate > 1%"
            severity: info
        """,
        ["alerts.yaml:4:5: duplicate key 'name' (the first one is at line 3)"],
    ),
    (
        "unset environment variable",
        """
        sources:
          database:
            dsn: "${DB_URL}"
        """,
        ["alerts.yaml:4:10: environment variable DB_URL is not set"],
    ),
    (
        "bad target",
        """
        targets:
          sync_success_rate: "> 99"
        """,
        ["alerts.yaml:3:27: target for sync_success_rate: sync_success_rate is a ratio"],
    ),
    (
        "unknown top-level key",
        """
        alert:
          - {name: a, condition: "error_rate > 1%", severity: info}
        """,
        ["alerts.yaml:2:1: unknown key 'alert'; did you mean 'alerts'?"],
    ),
    (
        "negative min_samples",
        """
        alerts:
          - {name: a, condition: "error_rate > 1%", severity: info, min_samples: -1}
        """,
        ["alerts.yaml:3:74: min_samples: Input should be greater than or equal to 0"],
    ),
    (
        "bad label name",
        """
        alerts:
          - name: a
            condition: "error_rate > 1%"
            severity: info
            labels: {alertname: x}
        """,
        ["alerts.yaml:6:13: labels: label 'alertname' is set by syncmon itself"],
    ),
    (
        "unknown time zone",
        """
        sources:
          database: {timestamp_timezone: Mars/Olympus}
        """,
        ["alerts.yaml:3:34: sources.database.timestamp_timezone: unknown time zone"],
    ),
    (
        "not a mapping",
        """
        - just
        - a list
        """,
        ["alerts.yaml:2:1: the file must be a mapping"],
    ),
    (
        "trailing and",
        """
        alerts:
          - {name: a, condition: "error_rate > 1% and", severity: info}
        """,
        ["alerts.yaml:3:46: condition: expected a metric name after 'and'/'or'"],
    ),
    (
        "merge key",
        """
        base: &b {severity: info}
        alerts:
          - <<: *b
            name: a
            condition: "error_rate > 1%"
        """,
        ["alerts.yaml:4:5: keys must be plain names"],
    ),
]


@pytest.mark.parametrize(("label", "text", "expected"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_config_reports_file_line_column(
    label: str, text: str, expected: list[str]
) -> None:
    found = problems(text)
    for message in expected:
        assert any(p.startswith(message) for p in found), (message, found)


def test_all_problems_are_reported_at_once() -> None:
    found = problems("""
        alerts:
          - name: a
            condition: "sync_falure_rate > 5%"
            serverity: critical
          - name: b
            condition: "avg_sync_duration > 5"
            severity: urgent
            for: 5x
        """)
    assert len(found) == 6, found
    assert [p.split(":")[1] for p in found] == ["3", "4", "5", "7", "8", "9"]


def test_env_interpolation_with_default_and_secret_masking() -> None:
    config = load_config_text(
        textwrap.dedent("""
        sources:
          api: {base_url: "${API:-https://api.example.com}"}
          database: {dsn: "postgresql://mon:${DB_PASSWORD}@db/metrics"}
        """),
        "a.yaml",
        {"DB_PASSWORD": "hunter2-secret"},
    )
    assert config.model.sources.api.base_url == "https://api.example.com"
    dsn = config.model.sources.database.dsn
    assert dsn is not None
    assert dsn.get_secret_value() == "postgresql://mon:hunter2-secret@db/metrics"
    assert "hunter2-secret" not in repr(config)
    assert "hunter2-secret" not in redact("error near hunter2-secret")


def plain(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret else None


def test_precedence_flag_over_environment_over_file(tmp_path: Path) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text(
        "sources:\n  api: {base_url: 'http://file'}\n"
        "  database: {dsn: 'postgresql://file/db'}\n  interval: 10s\n"
    )
    env = {"SYNCMON_API_URL": "http://env", "SYNCMON_DATABASE_URL": "postgresql://env/db"}
    only_file = resolve_settings(Overrides(config=str(path)), {})
    assert (only_file.api_url, plain(only_file.dsn)) == ("http://file", "postgresql://file/db")
    assert only_file.interval == timedelta(seconds=10)
    from_env = resolve_settings(Overrides(config=str(path)), env)
    assert (from_env.api_url, plain(from_env.dsn)) == ("http://env", "postgresql://env/db")
    flags = resolve_settings(
        Overrides(
            config=str(path),
            api_url="http://flag",
            dsn=SecretStr("postgresql://flag/db"),
            interval="2s",
        ),
        env,
    )
    assert (flags.api_url, plain(flags.dsn), flags.interval) == (
        "http://flag",
        "postgresql://flag/db",
        timedelta(seconds=2),
    )


def test_config_file_from_environment_variable(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.yaml"
    path.write_text(SEED_BLOCK)
    settings = resolve_settings(Overrides(), {"SYNCMON_CONFIG": str(path)})
    assert len(settings.rules) == 3


def test_packaged_default_is_the_repository_alerts_yaml() -> None:
    from syncmon.config.settings import packaged_config

    assert Path(packaged_config()).read_text() == (REPO / "alerts.yaml").read_text()


def test_without_any_config_file_the_shipped_rules_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = resolve_settings(Overrides(), {})
    assert len(settings.rules) == 5
