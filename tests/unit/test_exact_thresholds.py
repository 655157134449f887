"""A value equal to its threshold is on the side the operator wrote (SPEC §15), for every whole
and two-decimal percentage and every millisecond value: thresholds are rationals from their
text, ratios come from counts, the mean from an exact sum, p95 from its 1/20 ms grid."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from syncmon.core.alerts import Verdict, observe
from syncmon.core.conditions import Comparison, evaluate_within, parse_condition
from syncmon.core.metrics import (
    ConflictAggregates,
    MetricValue,
    PerformanceAggregates,
    Unit,
    conflict_metrics,
    exact_p95,
    performance_metrics,
)
from syncmon.core.rules import AlertRule, Severity

WINDOW = 300


def rule(condition: str) -> AlertRule:
    return AlertRule(
        "r",
        condition,
        parse_condition(condition),
        Severity.CRITICAL,
        timedelta(seconds=WINDOW),
        min_samples=1,
    )


def holds(condition: str, metrics: list[MetricValue]) -> bool:
    """The whole path of a poll: parse the condition, observe the rule on the metrics."""
    observation = observe(rule(condition), {m.name: m for m in metrics})
    assert observation.verdict in (Verdict.TRUE, Verdict.FALSE), observation.reason
    return observation.verdict is Verdict.TRUE


def sides(condition: str, metrics: list[MetricValue], ops: str) -> dict[str, bool]:
    """`condition` parsed once, then compared with each of `ops` (space-separated) as
    `observe` compares it: the metric's exact value against the threshold's."""
    comparison = parse_condition(condition)
    assert isinstance(comparison, Comparison)
    value = {m.name: m for m in metrics}[comparison.metric.name].comparable
    assert value is not None
    return {op: replace(comparison, op=op).holds(value) for op in ops.split()}


def performance(total: int, failed: int, sum_ms: int = 0, p95_ms: float = 0.0) -> list[MetricValue]:
    agg = PerformanceAggregates(
        sync_total=total,
        sync_failed=failed,
        sync_avg_ms=sum_ms / total,
        sync_p95_ms=p95_ms,
        sync_sum_ms=sum_ms,
    )
    return performance_metrics(agg, WINDOW)


def percent_text(hundredths: int) -> str:
    """0 → '0', 3500 → '35', 1 → '0.01', 9550 → '95.5', as an operator writes it."""
    whole, cents = divmod(hundredths, 100)
    return str(whole) if not cents else f"{whole}.{cents:02d}".rstrip("0")


# Every two-decimal percentage from 0% to 100%, whole ones included: 10,001 thresholds.
EVERY_PERCENT = range(0, 10_001)


def test_every_percentage_equal_to_its_failure_rate_is_on_the_written_side() -> None:
    wrong: list[str] = []
    for hundredths in EVERY_PERCENT:
        # the fewest operations that give exactly this rate: 7 of 20 for 35%
        ratio = Fraction(hundredths, 10_000)
        total, failed = ratio.denominator, ratio.numerator
        text = percent_text(hundredths)
        found = sides(f"sync_failure_rate > {text}%", performance(total, failed), ">= <= == > <")
        if found != {">=": True, "<=": True, "==": True, ">": False, "<": False}:
            wrong.append(f"{failed}/{total} vs {text}%: {found}")
    assert wrong == []


def test_every_percentage_equal_to_its_success_rate_is_on_the_written_side() -> None:
    """Successes / total, not 1 − failure rate: 95 of 100 is not below 95%."""
    wrong: list[str] = []
    for hundredths in EVERY_PERCENT:
        ratio = Fraction(hundredths, 10_000)
        total, successes = ratio.denominator, ratio.numerator
        text = percent_text(hundredths)
        metrics = performance(total, total - successes)
        found = sides(f"sync_success_rate < {text}%", metrics, "< > >= !=")
        if found != {"<": False, ">": False, ">=": True, "!=": False}:
            wrong.append(f"{successes}/{total} vs {text}%: {found}")
    assert wrong == []


def test_rates_one_operation_off_the_threshold_are_on_the_other_side() -> None:
    for hundredths in range(1, 10_000):
        condition = f"sync_failure_rate > {percent_text(hundredths)}%"
        # 10,000 operations: one failure more than the threshold, and one fewer
        assert sides(condition, performance(10_000, hundredths + 1), ">") == {">": True}
        assert sides(condition, performance(10_000, hundredths - 1), "<") == {"<": True}


def test_the_issues_examples() -> None:
    assert holds("sync_failure_rate >= 35%", performance(20, 7))
    assert not holds("sync_success_rate < 95%", performance(100, 5))
    assert not holds("avg_sync_duration > 2.01s", performance(10, 0, sum_ms=20_100))
    assert holds("avg_sync_duration >= 2.01s", performance(10, 0, sum_ms=20_100))
    auto = {m.name: m for m in conflict_metrics(ConflictAggregates(10, 8), WINDOW)}
    assert observe(rule("conflict_auto_resolve_rate >= 80%"), auto).verdict is Verdict.TRUE


@pytest.mark.parametrize("unit", ["s", "ms", "m"])
def test_every_millisecond_mean_equal_to_its_threshold_is_on_the_written_side(unit: str) -> None:
    """Every millisecond from 0 to 10 s, written in seconds with three decimals, in
    milliseconds, and in minutes wherever that is a finite decimal."""
    wrong: list[str] = []
    for ms in range(0, 10_001):
        if unit == "s":
            text = f"{ms // 1000}.{ms % 1000:03d}s"
        elif unit == "ms":
            text = f"{ms}ms"
        elif ms % 3:  # a whole millisecond is a finite decimal of minutes when 3 divides it
            continue
        else:
            text = f"{Decimal(ms) / Decimal(60_000):f}m"  # 2010 ms is 0.0335m
        # a mean of exactly `ms` over 7 operations whose sum is exact
        found = sides(f"avg_sync_duration > {text}", performance(7, 0, sum_ms=7 * ms), "> >= < ==")
        if found != {">": False, ">=": True, "<": False, "==": True}:
            wrong.append(f"{ms} ms vs {text}: {found}")
    assert wrong == []


def postgres_percentile_cont(values: list[int], fraction: float = 0.95) -> float:
    """PostgreSQL's percentile_cont in float8, step by step as its source computes it."""
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    first, second = math.floor(rank), math.ceil(rank)
    low, high = float(ordered[first]), float(ordered[second])
    return low + (rank - first) * (high - low)


def test_p95_from_postgresql_is_its_exact_interpolation() -> None:
    """For 1 to 400 operations and neighbours up to 100 s apart, the float8 p95 snapped to
    1/20 ms is exactly low + frac·(high − low), frac = 19·(n−1)/20 − floor(…)."""
    for n in range(1, 401):
        rank = Fraction(19 * (n - 1), 20)
        frac = rank - math.floor(rank)
        for low, high in ((0, 1), (1999, 2011), (1000, 3000), (2010, 2010), (7, 99_991)):
            values = [low] * (math.floor(rank) + 1) + [high] * (n - math.floor(rank) - 1)
            exact = low + frac * (high - low)
            assert exact_p95(postgres_percentile_cont(values)) == exact, (n, low, high)


def test_a_p95_equal_to_its_threshold_is_on_the_written_side() -> None:
    for ms in range(0, 10_001):
        metrics = performance(20, 0, sum_ms=20 * ms, p95_ms=float(ms))
        found = sides(f"p95_sync_duration > {ms / 1000:.3f}s", metrics, "> >=")
        assert found == {">": False, ">=": True}, ms


def test_exact_values_print_as_the_float_nearest_them() -> None:
    success = {m.name: m for m in performance(100, 5)}["sync_success_rate"]
    assert success.value == 0.95 and success.exact == Fraction(95, 100)


def test_health_readings_are_floats_compared_with_the_nearest_float() -> None:
    reading = MetricValue("health.cpu", 0.1 + 0.2, Unit.NUMBER, 1, 60)
    assert observe(rule("health.cpu == 0.3"), {"health.cpu": reading}).verdict is Verdict.TRUE


def test_bounds_decide_only_what_every_value_within_them_decides() -> None:
    p95 = "p95_sync_duration"
    cases = [
        ("p95_sync_duration > 2s", (1900.0, 1990.0), False),
        ("p95_sync_duration > 2s", (2001.0, 2100.0), True),
        ("p95_sync_duration > 2s", (1990.0, 2010.0), None),
        ("p95_sync_duration > 2s", (1990.0, 2000.0), False),
        ("p95_sync_duration >= 2s", (2000.0, 2010.0), True),
        ("p95_sync_duration == 2s", (1990.0, 2010.0), None),
        ("p95_sync_duration == 2s", (2001.0, 2010.0), False),
        ("p95_sync_duration != 2s", (2001.0, 2010.0), True),
        ("p95_sync_duration < 2s", (-math.inf, 1000.0), True),
        # Kleene: an undecided part is settled by a decided `or`, not by a decided `and`
        ("p95_sync_duration > 2s or sync_failure_rate > 5%", (1990.0, 2010.0), True),
        ("p95_sync_duration > 2s and sync_failure_rate > 5%", (1990.0, 2010.0), None),
        ("p95_sync_duration > 2s and sync_failure_rate > 50%", (1990.0, 2010.0), False),
    ]
    values = {"sync_failure_rate": Fraction(1, 10)}
    for text, bounds, expected in cases:
        found = evaluate_within(parse_condition(text), values, {p95: bounds})
        assert found is expected, (text, bounds)
