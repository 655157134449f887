"""The `syncmon watch` command: flags to options, logging, signals, and the loop's lifetime."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from datetime import timedelta
from typing import TextIO

from syncmon.config.checks import api_url_problem
from syncmon.config.redaction import RedactingFormatter, describe_error, redact, register_secret
from syncmon.config.settings import Settings
from syncmon.core.durations import DurationError, format_duration, parse_duration
from syncmon.core.exit_codes import ExitCode
from syncmon.core.text import plural
from syncmon.engine.poll import Engine
from syncmon.feed.client import TOKEN_VARIABLE
from syncmon.headless.receivers import display_url
from syncmon.headless.serve import token_problem
from syncmon.headless.watch import DEFAULT_INTERVAL, Watcher, WatchOptions

log = logging.getLogger("syncmon.watch")


def configure_logging(stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger("syncmon")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False


def options_from_args(settings: Settings, args: argparse.Namespace) -> WatchOptions:
    """Raises ValueError with a message naming the flag."""
    try:
        resend = parse_duration(args.resend)
    except DurationError as exc:
        raise ValueError(f"--resend: {exc}") from None
    if resend <= timedelta(0):
        raise ValueError("--resend: must be more than 0s")
    for flag, urls in (("--alertmanager", args.alertmanager), ("--webhook", args.webhook)):
        for url in urls:
            problem = api_url_problem(url)
            if problem:  # a port of 99999 would fail every send, forever
                raise ValueError(f"{flag}: {display_url(url)!r}: the URL {problem}")
    port = args.metrics_port
    if port is not None and not 0 <= port <= 65535:
        raise ValueError(f"--metrics-port: {port} is not a TCP port")
    token = os.environ.get(TOKEN_VARIABLE) or None
    register_secret(token)
    problem = token_problem(args.metrics_host, token) if port is not None else None
    if problem:  # SPEC §16: never serve the state beyond loopback to anyone who asks
        raise ValueError(problem)
    return WatchOptions(
        interval=settings.interval or DEFAULT_INTERVAL,
        resend=resend,
        source_timeout=max(settings.health_timeout, settings.statement_timeout + 1.0),
        search_timeout=settings.statement_timeout + 1.0,
        alertmanagers=tuple(args.alertmanager),
        webhooks=tuple(args.webhook),
        metrics_host=args.metrics_host,
        metrics_port=port,
        token=token,
    )


def run_watch(settings: Settings, args: argparse.Namespace) -> int:
    configure_logging()
    if not settings.rules:  # a daemon that watches nothing is a silent all-clear
        log.error("no rules in %s: nothing to watch", settings.config.path or "the configuration")
        return ExitCode.UNKNOWN
    try:
        options = options_from_args(settings, args)
    except ValueError as exc:
        log.error("%s", exc)
        return ExitCode.UNKNOWN
    return asyncio.run(_main(settings, options))


async def _main(settings: Settings, options: WatchOptions) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    watcher = Watcher(Engine(settings), options)
    log.info(
        "watching %s every %s; database %s; API %s; receivers: %s",
        plural(len(settings.rules), "rule"),
        format_duration(options.interval),
        settings.database_label,
        redact(settings.api_url or "not configured"),
        ", ".join(r.name for r in watcher.receivers) or "none (stdout only)",
    )
    try:
        await watcher.run(stop)
    except OSError as exc:  # the metrics port could not be bound
        log.error(
            "cannot serve metrics on %s:%s: %s",
            options.metrics_host,
            options.metrics_port,
            describe_error(exc),
        )
        return ExitCode.UNKNOWN
    log.info("stopped")
    return ExitCode.OK
