"""What the dashboard costs at rest over SSH: bytes written to a real terminal per minute, and CPU.

The dashboard (`syncmon tui`, a separate process) runs in a real tmux pane of a given size;
`tmux pipe-pane` copies every byte it writes to a file. After a warm-up, the bench counts
the bytes written during `--seconds` and the dashboard's CPU time (utime + stime from
/proc/PID/stat), as % of one core.

"At rest" means 5 s polls over data that does not change. The demo's live traffic changes
the numbers every second, so this bench serves the demo backend (real PostgreSQL, real
HTTP) with its traffic generator off, over a still dataset: rows at whole seconds from two
hours before the start to two hours after it, in patterns whose periods (5, 10, 20, 30 s)
divide a minute. Any 5-minute window and any one-minute chart bucket then holds the same
mix of rows, so every metric, every chart bucket and the top errors are the same on every
poll. The health endpoints answer with the demo's small random delay
(about 9 ms), so their latency is the one number that still moves; `--endpoint-latency MS`
pins the delay (the measured latency still jitters by a millisecond or two).

`--live` measures the demo as it runs instead (traffic, incidents), for comparison.
`--from` measures a viewer (`tui --from`, SPEC §16) fed by a `syncmon watch --interval 5s`
process over the same data, instead of a dashboard that polls.

Usage: python bench/dashboard_bytes.py [--seconds 60] [--warmup 20] [--sizes 120x40,80x24]
Needs tmux. Prints one line per size; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOCKET = "syncmon-bench-bytes"
STILL_ROWS = """
WITH seconds AS (
    SELECT date_trunc('second', localtimestamp) + make_interval(secs => s) AS ts, s
    FROM generate_series(-7200, 7200) AS s
)
INSERT INTO sync_performance_metrics
    (user_id, operation_type, duration_ms, success, error_message, timestamp)
SELECT '00000000-0000-4000-8000-000000000001', kind, duration, ok, error, ts
FROM seconds, LATERAL (VALUES
    ('sync_transactions', 640, true, NULL),
    ('sync_accounts', 910, true, NULL),
    ('sync_transactions', 2300, s % 20 <> 0, CASE WHEN s % 20 = 0
        THEN 'network timeout after 30000ms' END),
    ('plaid_transactions_get', 420, s % 30 <> 0, CASE WHEN s % 30 = 0
        THEN 'Plaid RATE_LIMIT_EXCEEDED: too many requests for this item' END)
) AS ops(kind, duration, ok, error);

INSERT INTO conflict_resolution_history
    (user_id, conflict_id, resolution_type, resolution_data, auto_resolved, timestamp)
SELECT '00000000-0000-4000-8000-000000000001', gen_random_uuid(),
       CASE WHEN s % 30 = 0 THEN 'manual_keep_local' ELSE 'auto_last_write_wins' END,
       '{}'::jsonb, s % 30 <> 0, date_trunc('second', localtimestamp) + make_interval(secs => s)
FROM generate_series(-7200, 7200, 5) AS s;

INSERT INTO sync_health_metrics
    (user_id, sync_session_id, metric_type, metric_value, timestamp)
SELECT '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002',
       'sync_lag_ms', '{"value": 120}'::jsonb,
       date_trunc('second', localtimestamp) + make_interval(secs => s)
FROM generate_series(-7200, 7200, 10) AS s;
"""


def tmux(*args: str, check: bool = True) -> str:
    import subprocess

    result = subprocess.run(
        ["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=check
    )
    return result.stdout.strip()


async def new_session(width: int, height: int, command: str) -> None:
    """Start the pane; the previous size's server may still be going away: try again."""
    for attempt in range(10):
        try:
            tmux("new-session", "-d", "-s", "bench", "-x", str(width), "-y", str(height), command)
            return
        except Exception:
            if attempt == 9:
                raise
            await asyncio.sleep(0.5)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    width: int,
    height: int,
    api_url: str,
    dsn: str,
    seconds: float,
    warmup: float,
    out: Path,
    watcher: str | None = None,
) -> tuple[float, float, int]:
    """(bytes per minute, CPU % of one core, polls seen) for one terminal size."""
    syncmon = shutil.which("syncmon") or f"{sys.executable} -m syncmon"
    command = f"exec env COLORTERM=truecolor {syncmon} tui --api-url {api_url} --dsn {dsn}"
    if watcher is not None:  # a viewer: the watcher polls, the conflicts count is the API's
        command = (
            f"exec env COLORTERM=truecolor SYNCMON_API_URL={api_url} {syncmon} tui --from {watcher}"
        )
    await new_session(width, height, command)
    try:
        pid = int(tmux("display-message", "-p", "-t", "bench", "#{pane_pid}"))
        await asyncio.sleep(warmup)  # first polls, first chart, every tile drawn
        out.write_bytes(b"")
        tmux("pipe-pane", "-t", "bench", "-o", f"cat >> {out}")
        cpu0, wall0 = cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(seconds)
        cpu1, wall1 = cpu_seconds(pid), time.monotonic()
        tmux("pipe-pane", "-t", "bench")  # stop copying
        await asyncio.sleep(0.5)
        written = out.stat().st_size
    finally:
        tmux("kill-server", check=False)
    elapsed = wall1 - wall0
    return written * 60 / elapsed, (cpu1 - cpu0) / elapsed * 100, int(seconds // 5)


async def main(options: argparse.Namespace) -> None:
    import asyncpg

    from syncmon.demo.backend import DemoBackend

    if shutil.which("tmux") is None:
        sys.exit("tmux is needed: apt-get install tmux")
    live = options.live
    backend = DemoBackend(live=live, seed=1, history_hours=24 if live else 0, initial_conflicts=4)
    async with backend:
        if not live:
            conn = await asyncpg.connect(backend.dsn)
            try:
                await conn.execute(STILL_ROWS)
            finally:
                await conn.close()
            for name in ("sync", "plaid", "database", "redis"):
                backend.set_endpoint(name, "up", options.endpoint_latency)
        watcher = start_watcher(backend.api_url, backend.dsn) if options.from_ else None
        load = os.getloadavg()[0]
        print(
            f"{'viewer (tui --from a watcher)' if watcher else 'dashboard'} at rest, "
            f"{'LIVE demo traffic' if live else 'still data'}, 5 s polls, "
            f"{options.seconds:.0f} s measured after {options.warmup:.0f} s; "
            f"load average {load:.2f} on {os.cpu_count()} cores"
        )
        with tempfile.TemporaryDirectory(prefix="syncmon-bytes-") as tmp_dir:
            tmp = options.keep or tmp_dir
            for size in options.sizes.split(","):
                width, height = (int(v) for v in size.lower().split("x"))
                per_minute, cpu, _ = await measure(
                    width,
                    height,
                    backend.api_url,
                    backend.dsn,
                    options.seconds,
                    options.warmup,
                    Path(tmp) / f"{size}.out",
                    watcher[1] if watcher else None,
                )
                print(
                    f"  {width}x{height}: {per_minute / 1024:6.1f} KB/min written to the "
                    f"terminal, CPU {cpu:4.2f}% of one core"
                )


def start_watcher(api_url: str, dsn: str) -> tuple[subprocess.Popen[bytes], str]:
    """`syncmon watch --interval 5s --metrics-port P`, stopped when this process exits."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {**os.environ, "SYNCMON_API_URL": api_url, "SYNCMON_DATABASE_URL": dsn}
    process = subprocess.Popen(
        [sys.executable, "-m", "syncmon", "watch", "--interval", "5s", "--metrics-port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    atexit.register(process.terminate)
    return process, f"http://127.0.0.1:{port}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=20)
    parser.add_argument("--sizes", default="120x40,80x24")
    parser.add_argument("--live", action="store_true", help="the demo's live traffic on")
    parser.add_argument(
        "--from", dest="from_", action="store_true", help="a viewer fed by a watcher"
    )
    parser.add_argument("--keep", metavar="DIR", help="keep what was written (SIZE.out) here")
    parser.add_argument(
        "--endpoint-latency", type=float, default=None, help="pin the health endpoints' delay"
    )
    asyncio.run(main(parser.parse_args()))
