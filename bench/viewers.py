"""One poller, many viewers (SPEC §16): what 50 `tui --from` viewers cost the database.

Real processes against `syncmon demo --serve-only` (embedded PostgreSQL, live traffic):
  A. two watchers alone (`watch --interval 2s --metrics-port`), for `--seconds`;
  B. the same two plus 50 `syncmon tui --from W1,W2` viewers, each in its own 120×40 tmux
     pane, for `--seconds` once every viewer shows data.
Per phase: PostgreSQL connections held by syncmon (pg_stat_activity, application_name
'syncmon', the most seen at any sample) and by anyone, and the scans of the three metrics
tables per minute (pg_stat_user_tables: the demo's traffic only inserts, so every scan is a
reader's statement). During B, two stream followers in this process time each change from
the watcher's evaluation to its arrival (p50/p95 over `--changes` changes), and the
viewers' CPU is summed. Last, `check --from` as a whole process (median of 20) beside the
Nagios sequence `check_http` ×4 + `check_pgsql` when the plugins are installed.

Usage: python bench/viewers.py [--viewers 50] [--seconds 60] [--changes 100]
Needs tmux. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dashboard_bytes import cpu_seconds

from syncmon.feed.stream import FeedStatus, follow
from syncmon.feed.wire import WatcherState

SOCKET = "syncmon-bench-viewers"
SYNCMON = shutil.which("syncmon") or f"{sys.executable} -m syncmon"
TABLES = ("sync_performance_metrics", "conflict_resolution_history", "sync_health_metrics")
SCANS = (
    "SELECT coalesce(sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0)), 0) "
    "FROM pg_stat_user_tables WHERE relname = ANY($1::text[])"
)
CONNECTIONS = (
    "SELECT count(*) FILTER (WHERE application_name = 'syncmon'), count(*) "
    "FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
)


def tmux(*args: str) -> str:
    done = subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True)
    return done.stdout


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_demo() -> tuple[subprocess.Popen[str], str, str]:
    demo = subprocess.Popen(
        [*SYNCMON.split(), "demo", "--serve-only"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    api = dsn = None
    assert demo.stdout is not None
    while api is None or dsn is None:
        line = await asyncio.to_thread(demo.stdout.readline)
        if not line:
            raise RuntimeError("the demo backend did not start")
        if m := re.match(r"API URL:\s+(\S+)", line):
            api = m.group(1)
        if m := re.match(r"DSN:\s+(\S+)", line):
            dsn = m.group(1)
    return demo, api, dsn


def start_watcher(api: str, dsn: str, port: int, interval: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SYNCMON_API_URL": api, "SYNCMON_DATABASE_URL": dsn}
    command = [*SYNCMON.split(), "watch", "--interval", interval, "--metrics-port", str(port)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def sample_database(dsn: str, seconds: float) -> tuple[int, int, float]:
    """(most syncmon connections, most connections, metrics-table scans per minute)."""
    conn = await asyncpg.connect(dsn)
    try:
        start = await conn.fetchval(SCANS, list(TABLES))
        began = time.monotonic()
        most_syncmon = most_all = 0
        while time.monotonic() - began < seconds:
            counted = await conn.fetchrow(CONNECTIONS)
            assert counted is not None  # counts: always one row
            mine, everyone = counted
            most_syncmon, most_all = max(most_syncmon, mine), max(most_all, everyone)
            await asyncio.sleep(0.5)
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        scans = int(await conn.fetchval(SCANS, list(TABLES)) - start)
        return most_syncmon, most_all, scans * 60 / (time.monotonic() - began)
    finally:
        await conn.close()


def start_viewers(count: int, urls: str, api: str) -> list[int]:
    pids = []
    for i in range(count):
        command = f"exec env SYNCMON_API_URL={api} {SYNCMON} tui --from {urls}"
        tmux("new-session", "-d", "-s", f"v{i}", "-x", "120", "-y", "40", command)
        pids.append(int(tmux("display-message", "-p", "-t", f"v{i}", "#{pane_pid}").strip()))
    return pids


async def wait_for_viewers(count: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    showing = 0
    while time.monotonic() < deadline:
        showing = sum(
            "API watcher" in tmux("capture-pane", "-p", "-t", f"v{i}") for i in range(count)
        )
        if showing == count:
            break
        await asyncio.sleep(2)
    return showing


async def change_latencies(urls: list[str], changes: int) -> tuple[list[float], list[float]]:
    """Seconds from each watcher's poll to the state's arrival here, `changes` of them: from
    the poll's start (`evaluated_at`), and from its end (the poll's own time taken off)."""
    seen: list[float] = []
    after_poll: list[float] = []
    done = asyncio.Event()

    def on_state(url: str, state: WatcherState) -> None:
        age = (datetime.now(UTC) - state.evaluated_at).total_seconds()
        seen.append(age)
        after_poll.append(age - state.poll_seconds)
        if len(seen) >= changes + 2:
            done.set()

    def on_status(status: FeedStatus) -> None:
        pass

    followers = [asyncio.ensure_future(follow([url], None, on_state, on_status)) for url in urls]
    try:
        await done.wait()
    finally:
        for task in followers:
            task.cancel()
    # the first of each follower is the state as the stream opened, not a change
    return seen[2 : changes + 2], after_poll[2 : changes + 2]


def process_times(command: list[str], runs: int) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds) of each run of `command` as a fresh process. On a loaded
    machine the wall time is mostly waiting for a core; the CPU time is what it costs."""
    import resource

    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def plugin_times(dsn: str, runs: int) -> list[float] | None:
    from measure_commands import HealthServer, missing_plugins, run_plugins

    if missing_plugins():
        return None
    m = re.match(r"postgresql://([^:@/]+)(?::[^@]*)?@([^:/]+):(\d+)/(\w+)", dsn)
    assert m is not None
    with HealthServer(delay=0.25) as server:  # as bench/run.py's comparison: 250 ms endpoints
        return [
            run_plugins(server.url, m.group(2), int(m.group(3)), m.group(4)) for _ in range(runs)
        ]


async def main(options: argparse.Namespace) -> None:
    if shutil.which("tmux") is None:
        sys.exit("tmux is needed: apt-get install tmux")
    demo, api, dsn = await start_demo()
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    watchers = [start_watcher(api, dsn, port, options.interval) for port in ports]
    print(
        f"{options.viewers} viewers + 2 watchers ({options.interval}) on the demo backend; "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    try:
        await asyncio.sleep(options.warmup)
        alone = await sample_database(dsn, options.seconds)
        print(
            f"  A. 2 watchers alone: {alone[0]} syncmon connections ({alone[1]} in all), "
            f"{alone[2]:.0f} metrics-table scans/min"
        )
        if options.viewers:
            await crowd_phase(options, dsn, urls, api)
        await check_phase(urls, dsn)
    finally:
        tmux("kill-server")
        processes: list[subprocess.Popen[Any]] = [*watchers, demo]
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


async def crowd_phase(options: argparse.Namespace, dsn: str, urls: list[str], api: str) -> None:
    pids = start_viewers(options.viewers, ",".join(urls), api)
    showing = await wait_for_viewers(options.viewers, 300)
    cpu0, wall0 = sum(cpu_seconds(p) for p in pids), time.monotonic()
    latency_task = asyncio.ensure_future(change_latencies(urls, options.changes))
    crowd = await sample_database(dsn, options.seconds)
    cpu1, wall1 = sum(cpu_seconds(p) for p in pids), time.monotonic()
    latencies, after_poll = await latency_task
    cpu = (cpu1 - cpu0) / (wall1 - wall0) * 100
    print(
        f"  B. + {showing}/{options.viewers} viewers showing data: {crowd[0]} syncmon "
        f"connections ({crowd[1]} in all), {crowd[2]:.0f} metrics-table scans/min; "
        f"viewers' CPU {cpu:.1f}% of one core in all ({cpu / max(showing, 1):.2f}% each)"
    )
    for label, values in (("poll's start", latencies), ("poll's end", after_poll)):
        p95 = statistics.quantiles(values, n=20)[18]
        print(
            f"  change to viewer ({len(values)} changes, from the {label}): "
            f"p50 {statistics.median(values) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
            f"max {max(values) * 1000:.0f} ms"
        )
    tmux("kill-server")


async def check_phase(urls: list[str], dsn: str) -> None:
    command = [*SYNCMON.split(), "check", "--from", ",".join(urls), "--format", "nagios"]
    walls, cpus = await asyncio.to_thread(process_times, command, 20)
    bare = await asyncio.to_thread(process_times, [sys.executable, "-c", "pass"], 20)
    line = (
        f"  check --from as a process: median {statistics.median(walls) * 1000:.0f} ms wall, "
        f"{statistics.median(cpus) * 1000:.0f} ms CPU (python -c pass: "
        f"{statistics.median(bare[0]) * 1000:.0f} ms wall, "
        f"{statistics.median(bare[1]) * 1000:.0f} ms CPU)"
    )
    plugins = await asyncio.to_thread(plugin_times, dsn, 5)
    if plugins:
        ratio = statistics.median(walls) / statistics.median(plugins)
        line += (
            f"; check_http x4 + check_pgsql: median {statistics.median(plugins) * 1000:.0f} "
            f"ms with 250 ms endpoints (ratio {ratio:.2f})"
        )
    else:
        line += "; Nagios plugins not installed (monitoring-plugins-standard)"
    print(line, f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=15)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--interval", default="5s", help="the watchers' (default 5s)")
    asyncio.run(main(parser.parse_args()))
