"""`syncmon demo --serve-only`: the demo backend in the foreground until Ctrl+C or SIGTERM.

The event loop and signal handling live here so that `cli.py` only calls `serve_only`;
whatever happens, the embedded cluster and its directory are gone when this returns.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import TextIO

from pydantic import SecretStr

from syncmon.demo.backend import DemoBackend
from syncmon.demo.incidents import CYCLE_S, SCHEDULE


def serve_only(
    *, timezone: str = "UTC", port: int = 0, token: SecretStr | None = None, seed: int | None = None
) -> int:
    """Run until interrupted; 0 after a clean stop, 1 if the backend could not start."""
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
    )
    try:
        return asyncio.run(_serve(timezone=timezone, port=port, token=token, seed=seed))
    except KeyboardInterrupt:  # a second Ctrl+C during shutdown
        return 130


async def _serve(*, timezone: str, port: int, token: SecretStr | None, seed: int | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    backend = DemoBackend(timezone=timezone, port=port, token=token, seed=seed)
    try:
        try:
            await backend.start()
        except Exception as exc:
            print(f"syncmon demo: could not start the demo backend: {exc}", file=sys.stderr)
            return 1
        print_banner(backend, sys.stdout)
        await stop.wait()
        print("stopping the demo backend…", file=sys.stderr)
        return 0
    finally:
        await backend.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def print_banner(backend: DemoBackend, out: TextIO) -> None:
    url, dsn = backend.api_url, backend.dsn
    flags = f"--api-url {url} --dsn {dsn}"
    token_note = "   (export SYNCMON_API_TOKEN first)" if backend.token else ""
    first = min(SCHEDULE, key=lambda i: i.start_s)
    lines = [
        "syncmon demo backend is running.",
        f"API URL: {url}",
        f"DSN:     {dsn}",
        "",
        "Try, in another terminal:" + token_note,
        f"  syncmon check {flags}",
        f"  syncmon watch {flags} --interval 10s",
        f"  syncmon tui {flags}",
        "",
        f"First incident ({first.title}) in {first.start_s} s; the schedule repeats every "
        f"{CYCLE_S // 60} min (see docs/demo.md). Ctrl+C stops everything.",
    ]
    out.write("\n".join(lines) + "\n")
    out.flush()
