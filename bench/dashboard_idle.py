"""Dashboard idle CPU and memory growth, headless (`App.run_test`) against the demo backend.

Prints numbers, asserts nothing:
- idle CPU: % of one core used by this process while the dashboard sits with polling
  paused (nothing ticks: no timer is armed, nothing is redrawn);
- polling CPU: % of one core while polling every second (includes the in-process demo
  HTTP server; PostgreSQL runs in its own processes and is not counted);
- RSS growth after many polls at a 1 s interval (memory must stay flat).

Headless (`App.run_test`, no terminal); what a real terminal receives at rest, and the
dashboard's CPU then, is `bench/dashboard_bytes.py`.

Usage: python bench/dashboard_idle.py [--idle-seconds 10] [--polls 120]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from datetime import timedelta

from pydantic import SecretStr


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main(idle_seconds: float, polls: int) -> None:
    from syncmon.config.loader import load_config
    from syncmon.config.settings import Settings, packaged_config
    from syncmon.demo.backend import DemoBackend
    from syncmon.ui.launch import create_app

    async with DemoBackend(live=False, seed=1, history_hours=2) as backend:
        settings = Settings(
            config=load_config(packaged_config()),
            api_url=backend.api_url,
            api_token=None,
            dsn=SecretStr(backend.dsn),
            interval=None,
        )
        app = create_app(settings, interval=timedelta(seconds=1))
        async with app.run_test(size=(120, 40)) as pilot:
            while app.polls < 3:
                await pilot.pause(0.1)
            await pilot.press("p")  # pause: measure the dashboard doing nothing
            while app.schedule.polling_since is not None:
                await pilot.pause(0.05)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            await asyncio.sleep(idle_seconds)
            idle = (time.process_time() - cpu0) / (time.perf_counter() - wall0) * 100
            print(f"idle CPU (paused): {idle:.2f}% of one core over {idle_seconds:.0f}s")

            await pilot.press("p")
            start_polls, rss_start = app.polls, rss_mib()
            cpu0, wall0 = time.process_time(), time.perf_counter()
            marks: list[tuple[int, float]] = []
            while app.polls - start_polls < polls:
                await asyncio.sleep(1)
                done = app.polls - start_polls
                if done and done % max(1, polls // 12) == 0 and (not marks or marks[-1][0] != done):
                    marks.append((done, rss_mib()))
            wall = time.perf_counter() - wall0
            busy = (time.process_time() - cpu0) / wall * 100
            print(
                f"polling every 1s: {busy:.2f}% of one core (dashboard + demo HTTP server), "
                f"{app.polls - start_polls} polls in {wall:.0f}s"
            )
            print(
                f"RSS: {rss_start:.1f} MiB after warm-up -> {rss_mib():.1f} MiB after "
                f"{app.polls - start_polls} polls ({rss_mib() - rss_start:+.1f} MiB)"
            )
            for done, rss in marks:
                print(f"  after {done:4d} polls: {rss:.1f} MiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle-seconds", type=float, default=10)
    parser.add_argument("--polls", type=int, default=120)
    options = parser.parse_args()
    asyncio.run(main(options.idle_seconds, options.polls))
    sys.exit(0)
