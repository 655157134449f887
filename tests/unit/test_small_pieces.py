"""Durations and `--at`, secret masking, control-character sanitising, metric arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncmon.config.redaction import mask_dsn, redact, register_secret
from syncmon.core.durations import DurationError, format_duration, parse_duration, parse_time_point
from syncmon.core.metrics import (
    ConflictAggregates,
    EndpointAggregates,
    HealthReading,
    PerformanceAggregates,
    conflict_metrics,
    endpoint_metrics,
    health_table_metrics,
    performance_metrics,
)
from syncmon.core.text import sanitize

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("30s", 30),
        ("5m", 300),
        ("1.5h", 5400),
        ("2d", 172800),
        (" 5m ", 300),
        ("2h30m", 9000),
        ("1m30s", 90),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["5", "m", "5 minutes", "-5m", "5mm", "", "1e3s"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)


def test_format_duration() -> None:
    assert [format_duration(timedelta(seconds=s)) for s in (0.2, 45, 300, 5400, 90061)] == [
        "200ms",
        "45s",
        "5m",
        "1h30m",
        "1d1h",
    ]


def test_time_points_relative_and_rfc3339() -> None:
    assert parse_time_point("-2h", now=NOW) == NOW - timedelta(hours=2)
    assert parse_time_point("-2h50m", now=NOW) == NOW - timedelta(hours=2, minutes=50)
    assert parse_time_point("now", now=NOW) == NOW
    moment = parse_time_point("2026-11-27T03:12:00+01:00", now=NOW)
    assert moment == datetime(2026, 11, 27, 2, 12, tzinfo=UTC)
    assert parse_time_point("2026-11-27T03:12:00Z", now=NOW).utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2026-11-27T03:12:00", "UTC offset"),
        ("yesterday", "RFC 3339"),
        ("-2x", "relative"),
        ("2030-01-01T00:00:00Z", "future"),
    ],
)
def test_time_points_rejected_with_reason(text: str, why: str) -> None:
    with pytest.raises(DurationError, match=why):
        parse_time_point(text, now=NOW)


def test_a_time_point_may_be_seconds_ahead_of_our_clock_but_not_a_minute() -> None:
    """Another machine's clock may run a little ahead; an hour ahead is a typo."""
    soon = (NOW + timedelta(seconds=4)).isoformat()
    assert parse_time_point(soon, now=NOW) == NOW + timedelta(seconds=4)
    with pytest.raises(DurationError, match="future"):
        parse_time_point((NOW + timedelta(minutes=1)).isoformat(), now=NOW)


@pytest.mark.parametrize(
    ("dsn", "masked"),
    [
        (
            "postgresql://mon:s3cr3t@db.example:5432/metrics",
            "postgresql://mon:***@db.example:5432/metrics",
        ),
        ("postgres://mon@db/metrics", "postgres://mon@db/metrics"),
        ("host=db user=mon password=s3cr3t dbname=m", "host=db user=mon password=*** dbname=m"),
        ("postgresql://db/m?user=mon&password=s3cr3t", "postgresql://db/m?user=mon&password=***"),
        (  # an unescaped @ in the password: the host is after the last @ of the authority
            "postgresql://mon:p@ss:w0rd@db:5432/m?application_name=a@b",
            "postgresql://mon:***@db:5432/m?application_name=a@b",
        ),
    ],
)
def test_mask_dsn(dsn: str, masked: str) -> None:
    assert mask_dsn(dsn) == masked


def test_redact_removes_registered_secrets_and_password_shapes() -> None:
    register_secret("tok-abcdef-123")
    text = (
        "GET with Authorization: Bearer tok-abcdef-123 failed; "
        "ConnectionParameters(user='mon', password='pw-in-repr', database='m') "
        "dsn=postgresql://mon:pw2@h/db"
    )
    cleaned = redact(text)
    for secret in ("tok-abcdef-123", "pw-in-repr", "pw2"):
        assert secret not in cleaned
    assert "postgresql://mon:***@h/db" in cleaned


def test_redact_masks_a_url_password_holding_an_at_sign_whole() -> None:
    """An error quoting an unregistered DSN: no part of its password is left."""
    text = "connect to postgresql://mon:p@ss@w0rd@db:5432/m?application_name=a@b failed"
    assert redact(text) == ("connect to postgresql://mon:***@db:5432/m?application_name=a@b failed")


def test_sanitize_replaces_control_characters_visibly() -> None:
    hostile = "a\x1b]0;pwned\x07b\x1b[2Jc\x9bd\x00e\u202ef"
    cleaned = sanitize(hostile)
    assert "\x1b" not in cleaned and "\x07" not in cleaned and "\x9b" not in cleaned
    assert cleaned.startswith("a␛]0;pwned\\x07b␛[2Jc\\x9bd\\x00e")
    assert "\u202e" not in cleaned
    assert sanitize("line1\nline2\ttab", single_line=True) == "line1 line2 tab"
    assert sanitize("x" * 10, limit=5) == "xxxx…"


def test_performance_metrics_from_aggregates() -> None:
    agg = PerformanceAggregates(
        sync_total=200,
        sync_failed=12,
        plaid_total=50,
        plaid_failed=2,
        sync_avg_ms=850.0,
        sync_p95_ms=2400.0,
    )
    m = {v.name: v for v in performance_metrics(agg, 300)}
    assert m["sync_failure_rate"].value == pytest.approx(0.06)
    assert m["sync_success_rate"].value == pytest.approx(0.94)
    assert m["plaid_error_rate"].value == pytest.approx(0.04)
    assert m["error_rate"].value == pytest.approx(14 / 250)
    assert m["error_rate"].samples == 250
    assert m["sync_throughput"].value == pytest.approx(40.0)
    assert m["avg_sync_duration"].value == 850.0
    assert m["p95_sync_duration"].samples == 200


def test_zero_samples_give_null_never_zero() -> None:
    m = {v.name: v for v in performance_metrics(PerformanceAggregates(), 300)}
    for name in (
        "sync_failure_rate",
        "sync_success_rate",
        "plaid_error_rate",
        "error_rate",
        "avg_sync_duration",
        "p95_sync_duration",
    ):
        assert m[name].value is None and m[name].samples == 0, name
    assert conflict_metrics(ConflictAggregates(), 300)[0].value is None
    assert endpoint_metrics(EndpointAggregates(0, 0, 0), 300)[0].value is None
    assert health_table_metrics([HealthReading("q", 0, None, '"text"')], 300)[0].value is None


def test_conflict_and_endpoint_metrics() -> None:
    assert conflict_metrics(ConflictAggregates(10, 9), 300)[0].value == pytest.approx(0.9)
    ep = {v.name: v for v in endpoint_metrics(EndpointAggregates(4, 1, 2, 400.0, 2), 300)}
    assert (ep["api_response_time"].value, ep["api_response_time"].samples) == (200.0, 2)
    assert (ep["endpoints_down"].value, ep["endpoints_insecure"].value) == (1, 2)


def test_uncaught_traceback_is_redacted(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = tmp_path / "boom.py"
    script.write_text(
        "import asyncpg.connect_utils as cu\n"
        "from syncmon.config.redaction import install_excepthook, register_secret\n"
        "install_excepthook()\n"
        "register_secret('pw-registered-1')\n"
        "fields = cu._ConnectionParameters._fields\n"
        "params = cu._ConnectionParameters(*[None] * len(fields))._replace("
        "user='mon', password='pw-in-params-2', database='m')\n"
        "raise RuntimeError(f'cannot connect with {params!r} using pw-registered-1')\n"
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "RuntimeError: cannot connect" in result.stderr
    assert "pw-in-params-2" not in result.stderr
    assert "pw-registered-1" not in result.stderr


def test_log_lines_are_redacted() -> None:
    import logging

    from syncmon.config.redaction import RedactingFormatter

    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "db postgresql://mon:pw-log-3@h/db failed", None, None
    )
    assert "pw-log-3" not in RedactingFormatter("%(message)s").format(record)


def test_latency_log_is_bounded_and_windowed() -> None:
    from syncmon.core.latency import LatencyLog

    log = LatencyLog(bucket=timedelta(seconds=10), horizon=timedelta(minutes=10))
    for second in range(0, 3600):  # an hour of one poll a second
        log.add(NOW + timedelta(seconds=second), 100.0 if second < 3300 else 700.0)
    assert len(log) <= 61
    end = NOW + timedelta(seconds=3600)  # windows aligned to buckets are exact
    total, count = log.since(end - timedelta(minutes=5))
    assert count == 300 and total / count == pytest.approx(700.0)
    total, count = log.since(end - timedelta(minutes=10))
    assert count == 600 and total / count == pytest.approx(400.0)


def test_a_conflict_detected_at_without_an_offset_is_read_as_utc_and_sorts() -> None:
    from datetime import UTC, datetime

    from syncmon.core.conflicts import Conflict

    base = {"version": 1, "local": {}, "remote": {}, "base": None}
    naive = Conflict.from_json(
        {**base, "id": "0b6f1c1e-0000-4000-8000-000000000001", "detected_at": "2020-01-01"}
    )
    aware = Conflict.from_json(
        {**base, "id": "0b6f1c1e-0000-4000-8000-000000000002", "detected_at": "2021-01-01T00:00Z"}
    )
    assert naive.detected_at == datetime(2020, 1, 1, tzinfo=UTC)
    assert sorted(
        [aware, naive], key=lambda c: c.detected_at or datetime.min.replace(tzinfo=UTC)
    ) == [naive, aware]
