"""How long `syncmon watch` takes to stop on SIGTERM and SIGINT (SPEC §7: within 2 s), with
its receivers down and retrying and a webhook that hangs: the figure the tests no longer
assert. Prints one line per case; no assertions.

    python bench/watch_stop.py [--runs N]

Starts its own embedded PostgreSQL (pgserver) and its own hanging webhook on 127.0.0.1;
stops only the processes it started.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import asyncpg

from syncmon.embedded import schema_sql
from syncmon.embedded.postgres import EmbeddedPostgres

CONFIG = """alerts:
  - {name: High Sync Failure Rate, condition: "sync_failure_rate > 5%", severity: critical,
     min_samples: 1}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HangingWebhook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        time.sleep(30)

    def log_message(self, *args: object) -> None:
        pass


async def prepare(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(schema_sql())
        await conn.execute(
            "INSERT INTO sync_performance_metrics (user_id, operation_type, duration_ms, success)"
            " SELECT gen_random_uuid(), 'sync_push', 100, i % 2 = 0"
            " FROM generate_series(1, 40) AS i"
        )
    finally:
        await conn.close()


def one_stop(config: Path, dsn: str, webhook: str, signum: int) -> float:
    """Seconds from the signal to the exit of a watcher that has fired and is delivering."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "syncmon",
            "watch",
            "--config",
            str(config),
            "--dsn",
            dsn,
            "--interval",
            "1s",
            "--webhook",
            webhook,
            "--alertmanager",
            f"http://127.0.0.1:{free_port()}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.readline()  # the first event: the webhook now holds a request
    started = time.monotonic()
    process.send_signal(signum)
    process.wait(timeout=30)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), HangingWebhook)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    webhook = f"http://127.0.0.1:{server.server_address[1]}/hook"
    with EmbeddedPostgres() as pg, tempfile.TemporaryDirectory() as tmp:
        asyncio.run(prepare(pg.dsn))
        config = Path(tmp) / "alerts.yaml"
        config.write_text(CONFIG)
        for name, signum in (("SIGTERM", signal.SIGTERM), ("SIGINT", signal.SIGINT)):
            times = [one_stop(config, pg.dsn, webhook, signum) for _ in range(args.runs)]
            print(
                f"watch stop on {name}, receivers down, webhook hanging: median "
                f"{statistics.median(times):.2f}s, max {max(times):.2f}s over {args.runs} "
                "(SPEC: within 2 s)"
            )
    server.shutdown()


if __name__ == "__main__":
    main()
