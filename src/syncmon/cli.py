"""The command line (SPEC §6). Front ends are imported lazily: `check` must start fast and
headless commands must never import Textual or plotext."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from syncmon import __version__
from syncmon.config.redaction import install_excepthook, redact
from syncmon.core.clock import wall_clock
from syncmon.core.exit_codes import ExitCode
from syncmon.core.text import plural
from syncmon.headless.pipes import guard_stdout

if TYPE_CHECKING:
    from syncmon.config.settings import Settings

COMMANDS = ("tui", "check", "watch", "validate", "demo", "doctor", "test", "schema")


def _common(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("sources (flag > environment > config file > default)")
    group.add_argument(
        "--config",
        metavar="FILE",
        help="alerts.yaml to use (default: $SYNCMON_CONFIG, else ./alerts.yaml, else the "
        "shipped rules)",
    )
    group.add_argument(
        "--api-url",
        metavar="URL",
        help="API base URL (default: $SYNCMON_API_URL, else sources.api.base_url)",
    )
    group.add_argument(
        "--dsn",
        metavar="DSN",
        help="PostgreSQL DSN (default: $SYNCMON_DATABASE_URL, else "
        "sources.database.dsn); prefer the variable: flags show in `ps`",
    )
    group.add_argument(
        "--interval", metavar="DURATION", help="poll/evaluation interval, e.g. 5s, 30s"
    )


def _from(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--from",
        dest="from_",
        metavar="URL[,URL…]",
        help=f"{what}: watchers started with --metrics-port, tried in order; "
        "SYNCMON_WATCH_TOKEN is sent as a bearer token",
    )


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 3 (UNKNOWN), not argparse's 2: to Nagios, 2 means CRITICAL."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitCode.UNKNOWN, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="syncmon",
        description="Terminal dashboard and headless alerting for the sync infrastructure.",
        epilog="Run `syncmon COMMAND --help` for a command's options. Exit codes of check: "
        "0 ok, 1 warning, 2 critical, 3 unknown.",
    )
    parser.add_argument("--version", action="version", version=f"syncmon {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    tui = commands.add_parser("tui", help="the live dashboard (the default command)")
    _common(tui)
    tui.add_argument(
        "--at", metavar="TIME", help="show the database as of TIME (RFC 3339 or relative: --at=-2h)"
    )
    _from(tui, "show what the watchers serve instead of polling (README: Team setup)")
    tui.add_argument(
        "--alertmanager",
        metavar="URL",
        action="append",
        default=[],
        help="Alertmanager to silence acknowledged alerts in (repeatable)",
    )

    check = commands.add_parser("check", help="evaluate every rule once; Nagios exit code")
    _common(check)
    check.add_argument("--format", choices=("text", "json", "nagios"), default="text")
    check.add_argument(
        "--at", metavar="TIME", help="evaluate as of TIME for post-mortems (RFC 3339 or --at=-2h)"
    )
    _from(check, "answer from a watcher's state: its rules, its history (README: Team setup)")

    watch = commands.add_parser("watch", help="headless alerting daemon")
    _common(watch)
    watch.add_argument(
        "--alertmanager",
        metavar="URL",
        action="append",
        default=[],
        help="post alerts to this Alertmanager (repeatable)",
    )
    watch.add_argument(
        "--webhook",
        metavar="URL",
        action="append",
        default=[],
        help="post every event as JSON to this URL (repeatable)",
    )
    watch.add_argument(
        "--resend",
        metavar="DURATION",
        default="1m",
        help="re-send firing alerts to Alertmanager this often (default 1m)",
    )
    watch.add_argument(
        "--metrics-port",
        metavar="PORT",
        type=int,
        help="serve Prometheus metrics (/metrics) and the state for viewers (/api/v1/state, "
        "/api/v1/stream) on 127.0.0.1:PORT",
    )
    watch.add_argument(
        "--metrics-host",
        metavar="HOST",
        default="127.0.0.1",
        help="address for --metrics-port (default 127.0.0.1); beyond loopback "
        "SYNCMON_WATCH_TOKEN must be set",
    )

    validate = commands.add_parser("validate", help="validate a config file; exit 0 or 3")
    validate.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="config to check (default: $SYNCMON_CONFIG, else ./alerts.yaml)",
    )

    demo = commands.add_parser("demo", help="the dashboard on an embedded demo backend")
    demo.add_argument(
        "--serve-only",
        action="store_true",
        help="run only the demo backend and print its API URL and DSN",
    )
    demo.add_argument(
        "--timezone", default="UTC", help="TimeZone of the demo database (default UTC)"
    )

    doctor = commands.add_parser(
        "doctor", help="check the database: tables, indexes, privileges, time zone"
    )
    _common(doctor)

    test = commands.add_parser(
        "test",
        help="prove alert rules on synthetic rows, as promtool test rules does; exit 0, 1 or 3",
        description="Run rule test files on an embedded PostgreSQL of their own; "
        "never on a database named by --dsn or SYNCMON_DATABASE_URL. Exit 0 all passed, "
        "1 a case failed, 3 a file is invalid.",
    )
    test.add_argument("files", nargs="+", metavar="FILE", help="test files (*.test.yaml)")
    test.add_argument("--format", choices=("text", "json"), default="text")

    schema = commands.add_parser(
        "schema", help="print the JSON Schema of alerts.yaml (for editors)"
    )
    schema.add_argument(
        "--path",
        action="store_true",
        help="print where the installed schema file is, for `# yaml-language-server: $schema=`",
    )

    return parser


def entry() -> None:
    """The console script. `check` and `validate` skip interpreter teardown once their output
    is flushed: module cleanup after pydantic, httpx and asyncio costs ~60 ms, a tenth of a
    `check` run that cron or Nagios starts every minute. They hold nothing that needs it."""
    command = next((a for a in sys.argv[1:] if not a.startswith("-")), None)
    guard_stdout()  # `check | head -c1`: the reader leaving must not change the exit code
    try:
        code = main()
    except Exception:  # a bug: say so (redacted) and exit UNKNOWN, never Nagios' WARNING (1)
        import traceback

        sys.stderr.write(redact(traceback.format_exc()))
        code = ExitCode.UNKNOWN
    if command in ("check", "validate"):
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:  # a closed pipe: nothing more to say
            pass
        os._exit(code)
    raise SystemExit(code)


def join_negative_values(arguments: list[str]) -> list[str]:
    """`--at -2h` as `--at=-2h`: argparse would read a value starting with '-' as a flag."""
    joined: list[str] = []
    values = iter(arguments)
    for argument in values:
        if argument == "--at":
            value = next(values, None)
            if value is not None and value.startswith("-"):
                joined.append(f"--at={value}")
                continue
            joined.extend([argument] if value is None else [argument, value])
        else:
            joined.append(argument)
    return joined


NO_TERMINAL = (
    "syncmon: the dashboard needs a terminal (stdin and stdout must be a TTY).\n"
    "For scripts, cron and monitoring use `syncmon check` (one evaluation, Nagios exit code);\n"
    "for a daemon that alerts, `syncmon watch`."
)


def _terminal_missing(args: argparse.Namespace) -> bool:
    """The dashboard (tui, demo) needs stdin and stdout to be a terminal."""
    needs = args.command == "tui" or (args.command == "demo" and not args.serve_only)
    return needs and not (sys.stdin.isatty() and sys.stdout.isatty())


def main(argv: Sequence[str] | None = None) -> int:
    install_excepthook()
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] not in (*COMMANDS, "-h", "--help", "--version"):
        arguments = ["tui", *arguments]  # plain `syncmon [flags]` is the dashboard
    args = parser.parse_args(join_negative_values(arguments))
    command = args.command
    try:
        if command == "validate":
            return _validate(args)
        if command == "demo":
            return _no_terminal() if _terminal_missing(args) else _demo(args)
        if command == "test":
            from syncmon.ruletest.runner import run_tests

            return run_tests(args.files, args.format)
        if command == "schema":
            return _schema(args)
        if command == "check" and args.from_:  # no config, no sources: the watcher's state
            from syncmon.headless.check_from import run_check_from

            return run_check_from(args.from_, output_format=args.format)
        settings = _settings(args)
        if isinstance(settings, int):
            return settings
        problem = _client_setup_problem(settings) if command != "doctor" else None
        if problem:
            _report_invalid(args, [problem])
            return ExitCode.UNKNOWN
        if command == "check":
            return _check(args, settings)
        if command == "watch":
            from syncmon.headless.watch_command import run_watch

            return run_watch(settings, args)
        if command == "doctor":
            from syncmon.headless.doctor import run_doctor

            return run_doctor(settings)
        if _terminal_missing(args):  # after the settings: a bad one is the clearer message
            return _no_terminal()
        from syncmon.ui.launch import run_dashboard

        return run_dashboard(settings, args)
    except KeyboardInterrupt:
        return 130


def _no_terminal() -> int:
    print(NO_TERMINAL, file=sys.stderr)  # never draw escape codes into a pipe
    return ExitCode.UNKNOWN


def _settings(args: argparse.Namespace) -> Settings | int:
    from pydantic import SecretStr

    from syncmon.config.loader import ConfigInvalid
    from syncmon.config.settings import Overrides, SettingsInvalid, resolve_settings

    try:
        dsn = SecretStr(args.dsn) if args.dsn else None
        return resolve_settings(Overrides(args.config, args.api_url, dsn, args.interval))
    except ConfigInvalid as exc:
        _report_invalid(args, [str(p) for p in exc.problems])
    except SettingsInvalid as exc:
        _report_invalid(args, [redact(p) for p in exc.problems])
    except OSError as exc:
        _report_invalid(args, [redact(f"cannot read config {exc.filename}: {exc.strerror}")])
    return ExitCode.UNKNOWN


def _client_setup_problem(settings: Settings) -> str | None:
    """Build the API's TLS context now (it is cached for the clients): a CA bundle that
    cannot be read stops every command that talks to the API before anything starts."""
    from syncmon.transport import net

    if not settings.api_url:
        return None
    try:
        net.tls_context(settings.api_url, settings.verify_tls)
    except net.ClientSetupError as exc:
        return redact(str(exc))
    return None


def _report_invalid(args: argparse.Namespace, problems: list[str]) -> None:
    from syncmon.core.timefmt import iso_local

    output_format = getattr(args, "format", "text")
    if output_format == "json":
        print(
            json.dumps(
                {
                    "status": "unknown",
                    "exit_code": int(ExitCode.UNKNOWN),
                    "evaluated_at": iso_local(wall_clock()),
                    "alerts": [],
                    "metrics": {},
                    "endpoints": [],
                    "errors": problems,
                },
                indent=2,
            )
        )
    elif output_format == "nagios":
        print(f"SYNCMON UNKNOWN - invalid configuration: {problems[0]}".replace("|", "/"))
    for problem in problems:
        print(problem, file=sys.stderr)


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from syncmon.core.durations import DurationError, parse_time_point
    from syncmon.headless.check import run_check

    at = None
    if args.at:
        try:
            at = parse_time_point(args.at, now=wall_clock())
        except DurationError as exc:
            _report_invalid(args, [f"--at: {exc}"])
            return ExitCode.UNKNOWN
    return run_check(settings, output_format=args.format, at=at)


def _validate(args: argparse.Namespace) -> int:
    from syncmon.config.loader import ConfigInvalid, load_config
    from syncmon.config.settings import Overrides, config_path

    path = args.file or config_path(Overrides(), os.environ)
    try:
        config = load_config(path)
    except ConfigInvalid as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{path}: {plural(len(exc.problems), 'problem')}", file=sys.stderr)
        return ExitCode.UNKNOWN
    except OSError as exc:
        print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
        return ExitCode.UNKNOWN
    rules, targets = len(config.rules), len(config.targets)
    print(f"{path}: valid ({plural(rules, 'rule')}, {plural(targets, 'target')})")
    return 0


def _schema(args: argparse.Namespace) -> int:
    from syncmon.config.schema import config_schema_text, packaged_schema

    if args.path:
        print(packaged_schema())
    else:
        sys.stdout.write(config_schema_text())
    return 0


def _demo(args: argparse.Namespace) -> int:
    if args.serve_only:
        from syncmon.demo.runner import serve_only

        return serve_only(timezone=args.timezone)
    from syncmon.demo.dashboard import run_demo_dashboard

    return run_demo_dashboard(timezone=args.timezone)
