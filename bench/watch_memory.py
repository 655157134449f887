"""Memory and descriptors of `watch` over many evaluation cycles (SPEC §11: flat over days).

Runs N cycles (default 10,000) at a tiny interval against an embedded PostgreSQL holding
sync rows and a local HTTP server (another process) whose health endpoints flip between up
and down on every poll, so a rule fires and resolves every cycle and every event goes to
stdout (/dev/null here), a webhook and the Prometheus registry. Prints RSS and open file
descriptors after a warm-up and at the end; the goal is growth < 5 MB and 0 descriptors.

    python bench/watch_memory.py [--cycles 10000] [--interval 1ms]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import asyncpg
from pydantic import SecretStr

from syncmon.config.settings import Overrides, resolve_settings
from syncmon.core.durations import parse_duration
from syncmon.embedded import schema_sql
from syncmon.embedded.postgres import EmbeddedPostgres, free_port
from syncmon.engine.poll import Engine
from syncmon.headless.watch import Watcher, WatchOptions

SCHEMA_SQL = schema_sql()
CONFIG = """
alerts:
  - name: "High Sync Failure Rate"
    condition: "sync_failure_rate > 5%"
    severity: "critical"
  - name: "Health Endpoint Down"
    condition: "endpoints_down > 0"
    severity: "critical"
"""
# Health endpoints that alternate up/down, and a webhook that accepts everything.
SERVER = r"""
import itertools, json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
flip = itertools.count()
HEADERS = {"Content-Security-Policy": "default-src 'none'", "X-Content-Type-Options": "nosniff",
           "X-Frame-Options": "DENY", "X-XSS-Protection": "1; mode=block"}
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def _send(self, code, body):
        self.send_response(code)
        for k, v in HEADERS.items(): self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        status = "UP" if (next(flip) // 4) % 2 == 0 else "DOWN"
        self._send(200, json.dumps({"status": status}).encode())
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._send(200, b"{}")
    def log_message(self, *a): pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def seed(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(SCHEMA_SQL)
        await conn.executemany(
            "INSERT INTO sync_performance_metrics (user_id, operation_type, duration_ms, success)"
            " VALUES ($1, 'sync_data', $2, $3)",
            [(uuid.uuid4(), 100 + i, i % 10 != 0) for i in range(500)],
        )
    finally:
        await conn.close()


async def run(
    cycles: int, interval: timedelta, warmup: int, settings_env: dict[str, str], config: Path
) -> None:
    settings = resolve_settings(
        Overrides(str(config), settings_env["api"], SecretStr(settings_env["dsn"]), None), env={}
    )
    options = WatchOptions(
        interval=interval, webhooks=[settings_env["webhook"]], source_timeout=2.0
    )
    with open(os.devnull, "w") as devnull:
        engine = Engine(settings)
        watcher = Watcher(engine, options, out=devnull)
        watcher.start()
        stop = asyncio.Event()
        await watcher.evaluate_until(stop, warmup)
        start_rss, start_fds, started = rss_mb(), open_fds(), time.perf_counter()
        await watcher.evaluate_until(stop, warmup + cycles)
        elapsed = time.perf_counter() - started
        await asyncio.sleep(0.5)  # let the webhook drain what is left
        end_rss, end_fds = rss_mb(), open_fds()
        webhook = watcher.webhooks[0]
        events = int(sum(v for k, v in _events(watcher).items()))
        latency_log = len(engine._latencies)
        await watcher.shutdown()
    print(
        f"cycles           {cycles} in {elapsed:.1f}s ({elapsed / cycles * 1000:.2f} ms/cycle, "
        f"interval {interval.total_seconds() * 1000:g} ms, after {warmup} warm-up cycles)"
    )
    print(
        f"events           {events} emitted; webhook sent {webhook.sent}, "
        f"queue {webhook.queue_depth}, dropped {webhook.dropped}"
    )
    print(
        f"RSS              start {start_rss:.1f} MB, end {end_rss:.1f} MB, "
        f"growth {end_rss - start_rss:+.2f} MB"
    )
    print(f"engine latency log {latency_log} ten-second buckets (at most 8,640: 24 h)")
    print(f"open descriptors start {start_fds}, end {end_fds}, growth {end_fds - start_fds:+d}")


def _events(watcher: Watcher) -> dict[str, float]:
    counts: dict[str, float] = {}
    for metric in watcher.metrics.events.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                counts[sample.labels["event"]] = sample.value
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--interval", default="1ms")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # one line per state change would swamp the numbers
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    with tempfile.TemporaryDirectory() as tmp, EmbeddedPostgres(timezone="UTC") as pg:
        config = Path(tmp) / "alerts.yaml"
        config.write_text(CONFIG)
        pg.psql("CREATE DATABASE bench")
        asyncio.run(seed(pg.dsn_for("bench")))
        try:
            asyncio.run(
                run(
                    args.cycles,
                    parse_duration(args.interval),
                    args.warmup,
                    {
                        "api": f"http://127.0.0.1:{port}",
                        "dsn": pg.dsn_for("bench"),
                        "webhook": f"http://127.0.0.1:{port}/hook",
                    },
                    config,
                )
            )
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
