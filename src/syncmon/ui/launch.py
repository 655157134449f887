"""`syncmon` / `syncmon tui`: turn parsed arguments into a running dashboard."""

from __future__ import annotations

import argparse
import sys

from syncmon.config.settings import Settings
from syncmon.core.durations import DurationError, parse_time_point
from syncmon.exit_codes import ExitCode


def run_dashboard(settings: Settings, args: argparse.Namespace) -> int:
    """Run until `q`; returns the process exit code (3 when `--at` cannot be understood)."""
    at = None
    if getattr(args, "at", None):
        try:
            at = parse_time_point(args.at)
        except DurationError as exc:
            print(f"--at: {exc}", file=sys.stderr)
            return ExitCode.UNKNOWN
    from syncmon.ui.app import create_app

    app = create_app(settings, at=at, alertmanagers=getattr(args, "alertmanager", None) or ())
    result = app.run()
    return int(result or 0)
