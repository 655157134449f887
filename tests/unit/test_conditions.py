"""The condition language (SPEC §3): every operator, unit, conjunction and malformed form."""

from __future__ import annotations

import pytest

from syncmon.core.conditions import (
    AllOf,
    AnyOf,
    Comparison,
    ConditionError,
    comparisons,
    evaluate,
    parse_condition,
)


def test_seed_condition_parses_to_a_ratio_threshold() -> None:
    condition = parse_condition("sync_failure_rate > 5%")
    assert isinstance(condition, Comparison)
    assert condition.metric.name == "sync_failure_rate"
    assert condition.op == ">"
    assert condition.threshold == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("avg_sync_duration > 5s", 5000),
        ("avg_sync_duration > 250ms", 250),
        ("p95_sync_duration > 2m", 120_000),
        ("api_response_time > 0.5s", 500),
    ],
)
def test_duration_units_convert_to_milliseconds(text: str, ms: float) -> None:
    condition = parse_condition(text)
    assert isinstance(condition, Comparison)
    assert condition.threshold == pytest.approx(ms)


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        (">", 0.06, True),
        (">", 0.05, False),
        (">=", 0.05, True),
        (">=", 0.049, False),
        ("<", 0.04, True),
        ("<", 0.05, False),
        ("<=", 0.05, True),
        ("<=", 0.051, False),
        ("==", 0.05, True),
        ("==", 0.0500001, False),
        ("!=", 0.05, False),
        ("!=", 0.06, True),
    ],
)
def test_every_operator(op: str, value: float, expected: bool) -> None:
    condition = parse_condition(f"error_rate {op} 5%")
    assert evaluate(condition, {"error_rate": value}) is expected


def test_equality_tolerates_float_representation() -> None:
    # 3 failures of 100 is 0.03 computed as 3/100; "3%" parses to 3*0.01.
    assert evaluate(parse_condition("error_rate == 3%"), {"error_rate": 3 / 100})


def test_and_binds_tighter_than_or() -> None:
    condition = parse_condition(
        "endpoints_down > 0 or sync_failure_rate > 5% and sync_throughput > 10"
    )
    assert isinstance(condition, AnyOf)
    assert isinstance(condition.parts[1], AllOf)
    values = {"endpoints_down": 0, "sync_failure_rate": 0.5, "sync_throughput": 5}
    assert evaluate(condition, values) is False
    values["sync_throughput"] = 50
    assert evaluate(condition, values) is True
    assert [c.metric.name for c in comparisons(condition)] == [
        "endpoints_down",
        "sync_failure_rate",
        "sync_throughput",
    ]


def test_keywords_are_case_insensitive() -> None:
    condition = parse_condition("error_rate > 1% AND endpoints_down >= 1")
    assert isinstance(condition, AllOf)


def comparison(text: str) -> Comparison:
    condition = parse_condition(text)
    assert isinstance(condition, Comparison), condition
    return condition


def test_counts_and_health_readings_take_plain_numbers() -> None:
    assert comparison("endpoints_insecure >= 2").threshold == 2
    health = parse_condition("health.offline_queue_size > 1000")
    assert isinstance(health, Comparison)
    assert health.metric.name == "health.offline_queue_size"
    assert comparison("sync_throughput < 1").threshold == 1
    assert comparison("health.temp > -5.5").threshold == -5.5


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("", "empty condition", 0),
        ("sync_falure_rate > 5%", "did you mean 'sync_failure_rate'", 0),
        ("bogus > 5", "unknown metric 'bogus'", 0),
        ("sync_failure_rate > 5", "needs a unit (%)", 21),
        ("sync_failure_rate > 5ms", "unit 'ms' does not fit sync_failure_rate", 21),
        ("avg_sync_duration > 5", "needs a unit (ms, s, m)", 21),
        ("avg_sync_duration > 5%", "unit '%' does not fit", 21),
        ("avg_sync_duration > 5h", "unit 'h' does not fit", 21),
        ("avg_sync_duration > 5min", "unit 'min' does not fit", 21),
        ("endpoints_down > 1%", "write a plain number", 18),
        ("sync_failure_rate = 5%", "use == for equality", 18),
        ("sync_failure_rate 5%", "expected an operator", 18),
        ("sync_failure_rate >", "expected a number after '>'", 19),
        ("sync_failure_rate > high", "expected a number, found 'high'", 20),
        ("sync_failure_rate > 5% and", "expected a metric name", 26),
        ("sync_failure_rate > 5% error_rate > 1%", "join comparisons with 'and' or 'or'", 23),
        ("> 5%", "expected a metric name, found '>'", 0),
        ("(sync_failure_rate > 5%)", "expected a metric name, found '('", 0),
        ("sync_failure_rate >> 5%", "expected a number, found '>'", 19),
        ("health. > 3", "unknown metric 'health'", 0),
    ],
)
def test_malformed_conditions_say_what_and_where(text: str, message: str, offset: int) -> None:
    with pytest.raises(ConditionError) as info:
        parse_condition(text)
    assert message in info.value.message
    assert info.value.offset == offset


def test_comparison_keeps_its_source_text() -> None:
    condition = parse_condition("  sync_failure_rate>5%   or error_rate > 1%")
    assert [c.text for c in comparisons(condition)] == ["sync_failure_rate>5%", "error_rate > 1%"]
