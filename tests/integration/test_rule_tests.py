"""`syncmon test` (SPEC §13) on real PostgreSQL with the real engine: the shipped rules pass their
tests, a wrong expectation fails with a readable diff, and the command never touches a database
the user names."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from syncmon.ruletest.parse import load_test_file
from syncmon.ruletest.runner import run_tests
from tests.conftest import PgServer

REPO = Path(__file__).resolve().parents[2]
SHIPPED_TESTS = REPO / "tests" / "rules" / "alerts.test.yaml"

pytestmark = pytest.mark.database

SPEC_EXAMPLE = f"""\
rule_files: [{REPO / "alerts.yaml"}]
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
    endpoints:
      sync: "upx29 downx29"
    expect:
      - at: 29m
        firing: []
        pending: []
      - at: 35m
        firing: [{{name: High Sync Failure Rate, since: 31m}}]
"""


def run(paths: list[Path], server: PgServer, output_format: str = "text") -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_tests(
        [str(p) for p in paths], output_format, out=out, err=err, admin_dsn=server.admin_dsn
    )
    assert err.getvalue() == ""
    return code, out.getvalue()


def test_the_shipped_rules_pass_their_tests(pg_server: PgServer) -> None:
    code, out = run([SHIPPED_TESTS], pg_server)
    assert code == 0, out
    assert out.splitlines()[-1] == f"{len(load_test_file(SHIPPED_TESTS).cases)} passed, 0 failed"


def test_every_shipped_rule_is_shown_to_fire() -> None:
    parsed = load_test_file(SHIPPED_TESTS)
    fired = {
        alert.name.removesuffix(" (sync)")  # a rule over endpoints fires per endpoint
        for case in parsed.cases
        for expectation in case.expectations
        for alert in expectation.firing
    }
    assert fired == {rule.name for rule in parsed.rules}


def test_a_wrong_expectation_fails_with_a_readable_diff(
    pg_server: PgServer, tmp_path: Path
) -> None:
    path = tmp_path / "wrong.test.yaml"
    path.write_text(SPEC_EXAMPLE)
    code, out = run([path], pg_server)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(
        f"{path}:4: sync failures page once the 5-minute rate passes 5% ... FAILED"
    )
    assert lines[1] == f"    at 35m ({path}:18):"
    # The case expected the wrong `since` and forgot the endpoint rule; both show.
    assert "      - firing   High Sync Failure Rate       since 31m" in lines
    assert "      + firing   High Sync Failure Rate       since 31m30s" in lines
    assert "      + firing   Health Endpoint Down (sync)  since 30m" in lines
    assert (
        "        High Sync Failure Rate       firing    sync_failure_rate > 5%: 20.00%, "
        "150 samples, since 31m30s"
    ) in lines
    assert any(
        line.startswith(
            "        Plaid API Errors             nodata    plaid_error_rate > 2%: no data"
        )
        and "0 samples, 10 needed" in line
        for line in lines
    )
    assert lines[-1] == "0 passed, 1 failed"


def test_json_for_ci(pg_server: PgServer, tmp_path: Path) -> None:
    path = tmp_path / "wrong.test.yaml"
    path.write_text(SPEC_EXAMPLE)
    code, out = run([path], pg_server, "json")
    document = json.loads(out)
    assert code == 1
    assert (document["status"], document["exit_code"], document["passed"], document["failed"]) == (
        "failed",
        1,
        0,
        1,
    )
    assert document["origin"] == "2000-01-01T00:00:00Z"
    (case,) = document["cases"]
    assert (case["line"], case["status"]) == (4, "failed")
    (failure,) = case["failures"]
    assert (failure["at"], failure["at_seconds"], failure["line"]) == ("35m", 2100.0, 18)
    assert failure["expected"]["firing"] == [
        {"name": "High Sync Failure Rate", "since_seconds": 1860.0}
    ]
    assert failure["actual"]["firing"] == [
        {"name": "High Sync Failure Rate", "since_seconds": 1890.0},
        {"name": "Health Endpoint Down (sync)", "since_seconds": 1800.0},
    ]
    first = failure["rules"][0]
    assert (first["value"], first["threshold"], first["unit"], first["samples"]) == (
        0.2,
        0.05,
        "ratio",
        150,
    )


RULES_WITH_EVERY_SOURCE = """\
alerts:
  - name: Failures linger
    condition: "sync_failure_rate > 5%"
    severity: warning
    keep_firing_for: 2m
  - name: Conflicts need people
    condition: "conflict_auto_resolve_rate < 80%"
    severity: warning
    window: 2m
    min_samples: 20
  - name: Queue backs up
    condition: "health.queue_depth > 100"
    severity: info
    window: 1m
    min_samples: 1
"""


def test_keep_firing_for_conflicts_and_health_readings(pg_server: PgServer, tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(RULES_WITH_EVERY_SOURCE)
    path = tmp_path / "sources.test.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            rule_files: [rules.yaml]
            evaluation_interval: 1m
            tests:
              - name: keep_firing_for holds an alert after the condition stops holding
                interval: 1m
                input:
                  sync_performance_metrics:
                    - operation_type: sync
                      count: "30x19"
                      failures: "6x4 0x14"     # 20% for five minutes
                expect:
                  - at: 5m                     # since is found in the rows on a 30 s grid
                    firing: [{name: Failures linger, since: 30s}]   # first evaluated at 1m
                  - at: 9m                     # 4%: false, but held by keep_firing_for
                    firing: [Failures linger]
                  - at: 11m
                    firing: []
                    nodata: [Conflicts need people, Queue backs up]
              - name: auto-resolve rate and health readings come from their own tables
                interval: 1m
                input:
                  conflict_resolution_history:
                    - count: "10x9"
                      auto_resolved: "9x4 5x4"
                  sync_health_metrics:
                    - metric_type: queue_depth
                      value: "50+25x9"          # 50, 75, … 275
                expect:
                  - at: 1m                      # 10 conflicts, 20 needed; one reading of 50
                    firing: []
                    nodata: [Failures linger, Conflicts need people]
                  - at: 3m10s                   # answered by 3m: a reading of 100 is not above
                    firing: []
                    nodata: [Failures linger]
                  - at: 4m
                    firing: [{name: Queue backs up, since: 4m}]
                  - at: 6m                      # 9, 5 of 10 in the last two minutes: 70%
                    firing: [Queue backs up, {name: Conflicts need people, since: 6m}]
            """
        )
    )
    code, out = run([path], pg_server)
    assert code == 0, out
    assert out.splitlines()[-1] == "2 passed, 0 failed"


def test_the_command_runs_its_own_cluster_and_never_the_users_database(tmp_path: Path) -> None:
    """The real CLI: an embedded cluster of its own, whatever the environment names."""
    path = tmp_path / "mixed.test.yaml"
    passing = SPEC_EXAMPLE.replace(
        "firing: [{name: High Sync Failure Rate, since: 31m}]",
        "firing: [{name: High Sync Failure Rate, since: 31m30s}, Health Endpoint Down (sync)]",
    )
    case = passing.split("tests:\n", 1)[1]
    path.write_text(passing + case.replace("since: 31m30s}", "since: 32m}"))
    env = {
        **os.environ,
        "SYNCMON_DATABASE_URL": "postgresql://owner:secret@127.0.0.1:9/production",
        "SYNCMON_CONFIG": str(tmp_path / "nowhere.yaml"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "syncmon", "test", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith(")") and " ... passed (" in lines[0]
    assert " ... FAILED (" in lines[1]
    assert lines[-1] == "1 passed, 1 failed"
    assert "secret" not in result.stdout + result.stderr


def readme_blocks() -> tuple[str, str, str]:
    """The worked example of the README's "Testing your rules", and the two outputs it shows."""
    section = (REPO / "README.md").read_text().split("## Testing your rules", 1)[1]
    blocks = [b.split("\n", 1)[1] for b in section.split("```")[1::2]]
    return blocks[0], blocks[1], blocks[2]


def without_times(text: str) -> list[str]:
    return [re.sub(r"\(\d+\.\d+s\)|\d+\.\ds \(", "", line) for line in text.splitlines()]


def test_the_readme_example_passes_and_its_failure_reads_as_shown(
    pg_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example, passed, failed = readme_blocks()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "alerts.yaml").write_text((REPO / "alerts.yaml").read_text())
    Path("sync-failures.test.yaml").write_text(example)
    code, out = run([Path("sync-failures.test.yaml")], pg_server)
    assert code == 0, out
    assert without_times(out)[0] == without_times(passed)[1]

    wrong = example.replace("since: 31m30s}", "since: 31m}").replace(
        "          - {name: Health Endpoint Down (sync), since: 30m}\n", ""
    )
    Path("sync-failures.test.yaml").write_text(wrong)
    code, out = run([Path("sync-failures.test.yaml")], pg_server)
    assert code == 1
    assert without_times(out)[: len(failed.splitlines())] == without_times(failed)
