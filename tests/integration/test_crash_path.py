"""The dashboard's crash path (SPEC §12, issue 9): `syncmon tui` in a real pseudo-terminal.

A dashboard that failed to start printed the database password and the API token (Textual's
traceback shows every frame's locals) and exited 0. Now start-up errors are plain messages,
crashes go through the same redacted exit-3 path as every other command.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

PASSWORD = "pw-dsn-secret-1"
TOKEN = "tok-api-secret-2"
CONFIG = f"""
alerts:
  - name: "High Sync Failure Rate"
    condition: "sync_failure_rate > 5%"
    severity: "critical"
sources:
  api:
    base_url: https://127.0.0.1:9
    ca_bundle: {{ca_bundle}}
  database:
    dsn: postgresql://mon:{PASSWORD}@127.0.0.1:9/app
"""
# The crash is injected where the engine used to be built: the app's on_mount.
INJECT_CRASH = """
import sys
from syncmon.ui.app import SyncmonApp

def on_mount(self):
    settings = self.settings
    raise RuntimeError(
        f"injected start-up crash: {settings!r} {settings.dsn.get_secret_value()} "
        f"{settings.api_token.get_secret_value()}"
    )

SyncmonApp.on_mount = on_mount
from syncmon.cli import entry
sys.argv = ["syncmon", *sys.argv[1:]]
entry()
"""


def in_terminal(argv: list[str], cwd: Path, timeout: float = 30) -> tuple[int, str]:
    """Run `argv` on a fresh 80×24 pseudo-terminal; (exit code, everything it wrote)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCMON_")}
    env.update({"SYNCMON_API_TOKEN": TOKEN, "TERM": "xterm-256color"})
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, start_new_session=True
    )
    os.close(slave)
    output = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child is gone and the terminal closed
                    chunk = b""
                if not chunk:
                    break
                output += chunk
            elif process.poll() is not None:
                break
        else:
            process.kill()
            raise AssertionError(f"still running after {timeout}s:\n{output.decode()[-2000:]}")
        return process.wait(timeout=10), output.decode("utf-8", "replace")
    finally:
        os.close(master)


def assert_secret_free(output: str) -> None:
    assert PASSWORD not in output
    assert TOKEN not in output


def test_an_unreadable_ca_bundle_is_a_message_and_exit_3(tmp_path: Path) -> None:
    """The issue's own case: ca_bundle /nonexistent/ca.pem, a DSN password, a token, `tui`."""
    config = tmp_path / "alerts.yaml"
    config.write_text(CONFIG.format(ca_bundle="/nonexistent/ca.pem"))
    code, output = in_terminal(
        [sys.executable, "-m", "syncmon", "tui", "--config", str(config)], tmp_path
    )
    assert code == 3, output
    assert "sources.api.ca_bundle /nonexistent/ca.pem: cannot read it" in output
    assert "Traceback" not in output
    assert_secret_free(output)


def test_a_crash_in_the_dashboards_start_up_is_redacted_and_exits_3(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_bytes(Path(_default_bundle()).read_bytes())
    config = tmp_path / "alerts.yaml"
    config.write_text(CONFIG.format(ca_bundle=str(tmp_path / "ca.pem")))
    script = tmp_path / "inject.py"
    script.write_text(INJECT_CRASH)
    code, output = in_terminal(
        [sys.executable, str(script), "tui", "--config", str(config)], tmp_path
    )
    assert code == 3, output
    assert "RuntimeError: injected start-up crash" in output  # the redacted traceback
    assert "Settings(config=" in output and "SecretStr('**********')" in output
    assert "locals" not in output  # Textual's own traceback, with every frame's locals
    assert_secret_free(output)


def _default_bundle() -> str:
    import certifi

    return certifi.where()
