"""How long `syncmon test` takes: the shipped test file, and ten heavier generated cases.

    python bench/rule_tests.py [--runs 3]

Each run is the real command as a process (`python -m syncmon test …`), so the figures
include starting Python and the embedded PostgreSQL cluster, which every run of the command
pays once. The heavy file has ten cases of two hours each: 1-minute intervals with 60 sync
and 20 Plaid operations per minute, four endpoints, and an expectation at 1h59m30s, so
every case is 240 evaluations of every shipped rule over 9,600 rows.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "tests" / "rules" / "alerts.test.yaml"

HEAVY_CASE = """\
  - name: heavy case {n}
    interval: 1m
    input:
      sync_performance_metrics:
        - operation_type: sync_transactions
          count: "60x119"
          failures: "0x59 6x59"
          duration_ms: "1200+10x119"
        - operation_type: plaid_transactions
          count: "20x119"
          failures: "0x119"
          duration_ms: "300x119"
    endpoints:
      sync: {{status: "upx119", latency_ms: "100x119"}}
      plaid: {{status: "upx119", latency_ms: "120x119"}}
      database: "upx119"
      redis: "upx119"
    expect:
      - at: 1h2m30s                 # 15 of 300 failed: exactly 5%
        firing: []
      - at: 1h59m30s
        firing: [{{name: High Sync Failure Rate, since: 1h3m}}]
"""


def heavy_file(directory: Path) -> Path:
    path = directory / "heavy.test.yaml"
    cases = "".join(HEAVY_CASE.format(n=n) for n in range(10))
    path.write_text(
        f"rule_files: [{REPO / 'alerts.yaml'}]\nevaluation_interval: 30s\ntests:\n{cases}"
    )
    return path


def timed(path: Path) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "syncmon", "test", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr
    if result.returncode != 0:
        raise SystemExit(f"{path} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return seconds, last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        files = {"shipped (10 cases)": SHIPPED, "heavy (10 × 2h)": heavy_file(Path(directory))}
        print(f"{'file':<20} {'median':>8} {'min':>8} {'max':>8}   result")
        for label, path in files.items():
            samples = [timed(path) for _ in range(args.runs)]
            seconds = [s for s, _ in samples]
            print(
                f"{label:<20} {statistics.median(seconds):>7.2f}s {min(seconds):>7.2f}s "
                f"{max(seconds):>7.2f}s   {samples[-1][1]}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
