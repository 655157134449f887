"""Reading `syncmon test` files (SPEC §13): every problem at once, each at FILE:LINE:COLUMN, like
`validate`; nothing is run when a file is invalid."""

from __future__ import annotations

import io
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from syncmon.config.loader import ConfigInvalid
from syncmon.ruletest.parse import load_test_file
from syncmon.ruletest.runner import run_tests

RULES = """\
alerts:
  - name: High Sync Failure Rate
    condition: "sync_failure_rate > 5%"
    severity: critical
  - name: Health Endpoint Down
    condition: "endpoints_down > 0"
    severity: critical
    for: 1m
"""


def write(tmp_path: Path, body: str, name: str = "rules.test.yaml") -> Path:
    (tmp_path / "alerts.yaml").write_text(RULES)
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def problems(tmp_path: Path, body: str) -> list[str]:
    path = write(tmp_path, body)
    with pytest.raises(ConfigInvalid) as info:
        load_test_file(path)
    return [str(p).removeprefix(f"{path}:") for p in info.value.problems]


def test_the_spec_example_parses(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        rule_files: [alerts.yaml]          # relative to the test file
        evaluation_interval: 30s
        tests:
          - name: sync failures page once the 5-minute rate passes 5%
            interval: 1m
            input:
              sync_performance_metrics:
                - operation_type: sync_transactions
                  count: "30x59"
                  failures: "0x29 6x29"
                  duration_ms: "1200x59"
              conflict_resolution_history: []
              sync_health_metrics: []
            endpoints:
              sync: "upx29 downx29"
            expect:
              - at: 29m
                firing: []
                pending: []
              - at: 35m
                firing: [{name: High Sync Failure Rate, since: 31m30s}]
        """,
    )
    parsed = load_test_file(path)
    (case,) = parsed.cases
    assert [r.name for r in parsed.rules] == ["High Sync Failure Rate", "Health Endpoint Down"]
    assert parsed.evaluation_interval == timedelta(seconds=30)
    assert (case.intervals, case.interval, case.line) == (60, timedelta(minutes=1), 4)
    (perf,) = case.performance
    assert perf.counts == (30,) * 60
    assert perf.failures == (0,) * 30 + (6,) * 30
    assert case.endpoints[0].statuses == ("up",) * 30 + ("down",) * 30
    assert case.expectations[1].firing[0].since == timedelta(minutes=31, seconds=30)
    assert case.expectations[0].nodata is None  # not given: not compared


def test_a_short_series_is_an_error_not_padding(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
        rule_files: [alerts.yaml]
        tests:
          - name: short
            input:
              sync_performance_metrics:
                - operation_type: sync
                  count: "30x59"
                  failures: "0x29 6x28"
            expect: [{at: 1m}]
        """,
    )
    assert found == [
        "8:21: failures: 59 values, but the series at line 7 has 60: every series of a case "
        "covers the same intervals (promtool's notation: 30x59 is 60 values)"
    ]


def test_every_problem_is_reported_at_once_with_its_position(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """\
        rule_files: [alerts.yaml]
        tests:
          - name: typos
            input:
              sync_performance_metrics:
                - operation_type: sync
                  count: "30x3"
                  duraton_ms: "100x3"
            expect:
              - at: 5 minutes
          - name: bad values
            input:
              sync_performance_metrics:
                - operation_type: sync
                  count: "10x2 abc"
            endpoints:
              sync: "upx3 dwn"
            expect:
              - at: 1m
                firing: [High Sync Failur Rate]
                pending: [{name: Health Endpoint Down, since: 2m}]
        """,
    )
    assert found == [
        "8:11: unknown key 'duraton_ms'; did you mean 'duration_ms'?",
        "10:13: tests.expect.at: invalid duration '5 minutes': expected a number and a unit "
        "(ms, s, m, h, d), e.g. 5m",
        "15:24: count: cannot read 'abc': expected a number such as 30, 900+10x59 or _",
        "17:19: status: cannot read 'dwn': expected degraded | down | up or _, e.g. upx29",
        "20:18: no rule named 'High Sync Failur Rate' in the rule files; "
        "did you mean 'High Sync Failure Rate'?",
        "21:55: since: later than `at`, so it cannot be true",
    ]


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        ('count: "10x3"\n          failures: "0 11 0 0"', "8:24: failures: 11 in interval 1"),
        ('count: "10 -1"', "7:22: count: -1 is not a whole number"),
        ('count: "1.5"', "7:19: count: 1.5 is not a whole number"),
        (
            'count: "2x1"\n          duration_ms: "_ 5"',
            "8:25: duration_ms: _ in an interval that has 2 rows",
        ),
        ('count: "stale"', "7:19: count: 'stale' (Prometheus' staleness marker)"),
    ],
)
def test_values_that_cannot_be_rows(tmp_path: Path, series: str, expected: str) -> None:
    found = problems(
        tmp_path,
        f"""\
rule_files: [alerts.yaml]
tests:
  - name: values
    input:
      sync_performance_metrics:
        - operation_type: sync
          {series}
    expect: [{{at: 30s}}]  # the end of a one-value series
""",
    )
    assert len(found) == 1 and found[0].startswith(expected), found


def test_rule_file_problems_point_into_the_rule_file(tmp_path: Path) -> None:
    path = write(tmp_path, "rule_files: [alerts.yaml, missing.yaml]\ntests: []\n")
    (tmp_path / "alerts.yaml").write_text("alerts:\n  - name: x\n    serverity: critical\n")
    with pytest.raises(ConfigInvalid) as info:
        load_test_file(path)
    found = [str(p) for p in info.value.problems]
    assert f"{tmp_path}/alerts.yaml:3:5: unknown key 'serverity'; did you mean 'severity'?" in found
    assert any(
        p.startswith(f"{path}:1:27: rule file {tmp_path}/missing.yaml: cannot read") for p in found
    )
    assert f"{path}:2:8: tests: List should have at least 1 item after validation, not 0" in found


def test_yaml_habits_of_validate(tmp_path: Path) -> None:
    assert problems(tmp_path, "rule_files: [alerts.yaml]\nrule_files: []\ntests: []\n") == [
        "2:1: duplicate key 'rule_files' (the first one is at line 1)",
        "3:8: tests: List should have at least 1 item after validation, not 0",
    ]
    assert any(
        p.startswith("1:13: the YAML tag !!python/object:os.system is not allowed")
        for p in problems(tmp_path, "rule_files: !!python/object:os.system x\n")
    )
    assert problems(tmp_path, "tests: [\n")[0].startswith("2:1: YAML syntax error")
    assert "1:1: unknown key 'rule_file'; did you mean 'rule_files'?" in problems(
        tmp_path, "rule_file: [alerts.yaml]\n"
    )


def test_an_invalid_file_runs_nothing_and_exits_3(tmp_path: Path) -> None:
    path = write(tmp_path, "rule_files: [alerts.yaml]\ntests:\n  - name: x\n    expect: 3\n")
    out, err = io.StringIO(), io.StringIO()
    # admin_dsn points nowhere: reaching the database would fail loudly
    code = run_tests([str(path)], out=out, err=err, admin_dsn="postgresql://nobody@127.0.0.1:9/x")
    assert code == 3
    assert f"{path}:4:13: tests.expect: must be a valid list (got int)" in err.getvalue()
    assert "nothing was run" in err.getvalue()
    assert out.getvalue() == ""
