"""What `syncmon test` accepts as an expectation matches what the README documents: a since is
never after `at` (SPEC §15: not even in an episode's first step, for any rule); an `at` past
the end of the case's series is an error at its position."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from syncmon.ruletest.parse import load_test_file
from syncmon.ruletest.runner import run_tests
from tests.unit.test_rule_test_file import problems, write

CASE = """\
rule_files: [alerts.yaml]
evaluation_interval: 30s
tests:
  - name: reach
    interval: 1m
    input:
      sync_performance_metrics:
        - operation_type: sync
          count: "30x9"
    expect:
      - at: {at}
        pending: [{pending}]
        firing: [{firing}]
"""


def test_a_since_at_at_is_accepted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        CASE.format(at="5m", pending="", firing="{name: High Sync Failure Rate, since: 5m}"),
    )
    [case] = load_test_file(path).cases
    [expectation] = case.expectations
    assert [(a.name, a.since) for a in expectation.firing] == [
        ("High Sync Failure Rate", timedelta(minutes=5))
    ]


def test_a_database_rules_since_after_at_cannot_be_true(tmp_path: Path) -> None:
    # High Sync Failure Rate's grid is 30 s: within one step after `at` is no longer accepted
    # (a first-step since is the evaluation that saw it, README "Since when")
    found = problems(
        tmp_path,
        CASE.format(at="5m", pending="", firing="{name: High Sync Failure Rate, since: 5m1s}"),
    )
    assert found == ["13:56: since: later than `at`, so it cannot be true"]


def test_an_endpoint_rules_since_is_never_after_at(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        CASE.format(at="5m", pending="{name: Health Endpoint Down, since: 5m1s}", firing=""),
    )
    assert found == ["12:55: since: later than `at`, so it cannot be true"]


def test_an_at_past_the_end_of_every_series_is_an_error_at_its_position(tmp_path: Path) -> None:
    found = problems(tmp_path, CASE.format(at="10m1s", pending="", firing=""))
    assert found == [
        "11:13: at: 10m1s is past the end of the case's series (10m): nothing is written there, "
        "so every rule would be nodata; extend the series (with _ for intervals without rows)"
    ]
    # the command says the same and runs nothing: exit 3
    out, err = io.StringIO(), io.StringIO()
    code = run_tests([str(tmp_path / "rules.test.yaml")], "text", out=out, err=err)
    assert code == 3
    assert (
        f"{tmp_path / 'rules.test.yaml'}:11:13: at: 10m1s is past the end"
        in out.getvalue() + err.getvalue()
    )


def test_an_at_at_the_end_of_the_series_is_the_last_full_window(tmp_path: Path) -> None:
    path = write(tmp_path, CASE.format(at="10m", pending="", firing=""))
    assert len(load_test_file(path).cases) == 1
