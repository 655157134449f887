"""The command line around the dashboard (SPEC §8.1): `--at -2h` with a space, and no TTY."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from syncmon.cli import build_parser, join_negative_values


def syncmon(*args: str, stdin: int | None = subprocess.DEVNULL) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCMON_")}
    return subprocess.run(
        [sys.executable, "-m", "syncmon", *args],
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd="/",
    )


@pytest.mark.parametrize("command", ["tui", "check"])
def test_at_with_a_space_parses_like_at_equals(command: str) -> None:
    parser = build_parser()
    spaced = parser.parse_args(join_negative_values([command, "--at", "-2h"]))
    joined = parser.parse_args([command, "--at=-2h"])
    assert spaced.at == joined.at == "-2h"


def test_at_values_that_are_not_negative_are_left_alone() -> None:
    assert join_negative_values(["check", "--at", "2026-11-27T03:12:00Z", "--format", "json"]) == [
        "check",
        "--at",
        "2026-11-27T03:12:00Z",
        "--format",
        "json",
    ]
    assert join_negative_values(["check", "--at"]) == ["check", "--at"]  # argparse says why


def test_check_at_minus_two_hours_with_a_space_evaluates_two_hours_ago() -> None:
    result = syncmon("check", "--at", "-2h", "--format", "json")
    assert "usage:" not in result.stderr  # not a usage error
    report = json.loads(result.stdout)
    evaluated = datetime.fromisoformat(report["evaluated_at"])
    assert abs(evaluated - (datetime.now(UTC) - timedelta(hours=2))) < timedelta(minutes=1)
    assert result.returncode == 3  # no database here: unknown, as SPEC §6 says


@pytest.mark.parametrize("argv", [[], ["tui"], ["tui", "--at", "-2h"], ["demo"]])
def test_dashboard_without_a_terminal_exits_3_at_once_pointing_to_check_and_watch(
    argv: list[str],
) -> None:
    started = time.monotonic()
    result = syncmon(*argv)  # stdin /dev/null, stdout a pipe
    assert result.returncode == 3
    assert time.monotonic() - started < 10  # at once: nothing was started
    assert result.stdout == ""  # no escape codes drawn into the pipe
    assert "syncmon check" in result.stderr and "syncmon watch" in result.stderr


def test_dashboard_with_stdout_piped_but_stdin_a_terminal_also_refuses() -> None:
    import pty

    parent, child = pty.openpty()
    try:
        result = syncmon("tui", stdin=child)
    finally:
        os.close(parent)
        os.close(child)
    assert result.returncode == 3 and result.stdout == ""
    assert "needs a terminal" in result.stderr


def test_dashboard_in_a_real_terminal_starts_and_q_quits() -> None:
    import fcntl
    import pty
    import select
    import struct
    import termios

    parent, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCMON_")}
    env["TERM"] = "xterm-256color"
    process = subprocess.Popen(
        [sys.executable, "-m", "syncmon", "tui"],
        stdin=child,
        stdout=child,
        stderr=child,
        env=env,
        cwd="/",
    )
    os.close(child)
    seen = b""
    try:
        deadline = time.monotonic() + 30
        while b"refreshed" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([parent], [], [], 0.5)
            if ready:
                seen += os.read(parent, 65536)
        assert b"refreshed" in seen, seen[-500:]  # the header is drawn
        os.write(parent, b"q")
        deadline = time.monotonic() + 20
        while process.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([parent], [], [], 0.2)  # keep the pty drained
            if ready:
                with contextlib.suppress(OSError):
                    os.read(parent, 65536)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(parent)
