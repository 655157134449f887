"""`syncmon` / `syncmon tui`: turn parsed arguments into a running dashboard.

Everything that can fail at start-up (the engine, its HTTP clients and their TLS context)
is built here, before the app runs, so such a failure is a plain message and exit 3 like
every other command's. A crash inside the running app leaves by the same redacted path:
Textual's own traceback prints every frame's locals (a DSN password, the API token), so it
is swallowed and the exception re-raised to `cli.entry`, which prints it redacted.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from rich.console import Console

from syncmon.config.redaction import redact
from syncmon.config.settings import Settings
from syncmon.core.clock import Clock, wall_clock
from syncmon.core.durations import DurationError, parse_time_point
from syncmon.core.exit_codes import ExitCode

if TYPE_CHECKING:
    from textual.app import App

    from syncmon.ui.app import SyncmonApp
    from syncmon.ui.ports import ConflictsPort, DashboardEngine, SilencesPort
    from syncmon.ui.remote_feed import RemoteFeed


def run_dashboard(settings: Settings, args: argparse.Namespace) -> int:
    """Run until `q`; returns the app's return code (3 when it cannot start)."""
    at = None
    if getattr(args, "at", None):
        try:
            at = parse_time_point(args.at, now=wall_clock())
        except DurationError as exc:
            print(f"--at: {exc}", file=sys.stderr)
            return ExitCode.UNKNOWN
    from syncmon.transport.net import ClientSetupError

    feed = None
    if getattr(args, "from_", None):
        from syncmon.feed.client import parse_urls, watch_token
        from syncmon.ui.remote_feed import RemoteFeed

        if at is not None:
            print("--at reads the database as of a moment: use it without --from", file=sys.stderr)
            return ExitCode.UNKNOWN
        try:
            feed = RemoteFeed(parse_urls(args.from_), watch_token())
        except ValueError as exc:
            print(f"syncmon: {redact(str(exc))}", file=sys.stderr)
            return ExitCode.UNKNOWN
    try:
        app = create_app(
            settings, at=at, feed=feed, alertmanagers=getattr(args, "alertmanager", None) or ()
        )
    except ClientSetupError as exc:
        print(f"syncmon: {redact(str(exc))}", file=sys.stderr)
        return ExitCode.UNKNOWN
    return run_app(app)


def create_app(
    settings: Settings,
    *,
    engine: DashboardEngine | None = None,
    conflicts: ConflictsPort | None = None,
    silences: SilencesPort | None = None,
    feed: RemoteFeed | None = None,
    alertmanagers: Iterable[str] = (),
    at: datetime | None = None,
    interval: timedelta | None = None,
    clock: Clock = wall_clock,
) -> SyncmonApp:
    """The one place the dashboard's parts are built (the CLI, the demo, the tests): what the
    caller does not bring is made from the settings, before the app runs, so a part that
    cannot be built (a TLS file) is a plain error. Under `--from` the engine is `NoDatabase`:
    a viewer never reads the database. Raises `ClientSetupError`."""
    from syncmon.engine.poll import Engine
    from syncmon.sinks.silences import SilenceKeeper
    from syncmon.ui.app import SyncmonApp
    from syncmon.ui.conflicts_service import ConflictsService
    from syncmon.ui.remote_feed import NoDatabase

    if engine is None:
        engine = NoDatabase() if feed is not None else Engine(settings, clock=clock)
    return SyncmonApp(
        settings,
        engine=engine,
        conflicts=conflicts or ConflictsService.from_settings(settings),
        silences=silences or SilenceKeeper(list(alertmanagers), clock=clock),
        feed=feed,
        at=at,
        interval=interval,
        clock=clock,
    )


def run_app(app: App[Any]) -> int:
    """`app.run()` with syncmon's crash path; the app's return code otherwise."""
    _silence_textual_traceback(app)
    result = app.run()
    return _outcome(app, result)


async def run_app_async(app: App[Any]) -> int:
    """The same for an app that shares an event loop (the demo's backend runs beside it)."""
    _silence_textual_traceback(app)
    result = await app.run_async()
    return _outcome(app, result)


def _silence_textual_traceback(app: App[Any]) -> None:
    app.error_console = Console(file=io.StringIO(), markup=False, highlight=False)


def _outcome(app: App[Any], result: object) -> int:
    # Textual keeps the first unhandled exception here (it re-raises it itself under
    # `run_test`); there is no public accessor.
    crash: BaseException | None = getattr(app, "_exception", None)
    if crash is not None:
        raise crash
    if app.return_code:
        return int(app.return_code)
    return int(result) if isinstance(result, int) else int(ExitCode.OK)
