"""What one alert per endpoint (SPEC §15) costs the evaluation, in process time.

    python bench/per_endpoint_alerts.py [--rules N] [--endpoints E] [--repeat R]

Builds N rules over endpoints and N over the tables, a snapshot of E endpoints (a quarter
of them down), and times `LiveAlerts.update` (every alert's observation and state machine)
and `check_verdicts` (the stateless verdicts) over R evaluations; prints the median per
evaluation and per alert. No database and no HTTP: this is the pure part that grew from one
tracker per rule to one per endpoint; the polls themselves do not change.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from syncmon.config.loader import load_config_text
from syncmon.core.episodes import Since
from syncmon.core.metrics import (
    EndpointAggregates,
    PerformanceAggregates,
    endpoint_metrics,
    performance_metrics,
)
from syncmon.core.rules import AlertRule
from syncmon.engine.evaluation import LiveAlerts, check_verdicts
from syncmon.engine.poll import Snapshot, window_key

W = timedelta(minutes=5)


def config_text(rules: int) -> str:
    lines = ["alerts:"]
    for i in range(rules):
        lines.append(f"  - {{name: e{i}, condition: 'endpoints_down > 0', severity: critical}}")
        lines.append(f"  - {{name: t{i}, condition: 'sync_failure_rate > 5%', severity: warning}}")
    return "\n".join(lines) + "\n"


def snapshot(at: datetime, endpoints: int) -> Snapshot:
    snap = Snapshot(at, True, W)
    names = [f"ep{i}" for i in range(endpoints)]
    down = set(names[: endpoints // 4])
    total = EndpointAggregates(endpoints, len(down), 0)
    perf = PerformanceAggregates(sync_total=100, sync_failed=10)
    values = performance_metrics(perf, 300) + endpoint_metrics(total, 300)
    snap.metrics[window_key(W)] = {m.name: m for m in values}
    snap.series[window_key(W)] = {
        (("endpoint", n),): {
            m.name: m for m in endpoint_metrics(EndpointAggregates(1, int(n in down), 0), 300)
        }
        for n in names
    }
    return snap


class NoHistory:
    """A `SinceFinder` with no past: rules hold from the moment they are seen."""

    async def find_since(
        self, rules: Iterable[AlertRule], at: datetime, *, timeout: float | None = None
    ) -> dict[str, Since | str]:
        return {}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--endpoints", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    rules = load_config_text(config_text(args.rules), "bench.yaml", {}).rules
    live = LiveAlerts(rules)
    start = datetime.now(UTC)
    snaps = [snapshot(start + i * timedelta(seconds=30), args.endpoints) for i in range(3)]
    live.update(snaps[0])
    alerts = len(live.trackers)
    update_times, check_times = [], []
    for i in range(args.repeat):
        snap = snaps[i % 3]
        t = time.perf_counter()
        live.update(snap)
        update_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        await check_verdicts(NoHistory(), rules, snap)
        check_times.append(time.perf_counter() - t)
    for what, times in (("LiveAlerts.update", update_times), ("check_verdicts", check_times)):
        median = statistics.median(times)
        print(
            f"{what:<18} {len(rules)} rules, {alerts} alerts ({args.endpoints} endpoints): "
            f"{median * 1000:.2f} ms per evaluation, {median / alerts * 1e6:.1f} µs per alert"
        )


if __name__ == "__main__":
    asyncio.run(main())
