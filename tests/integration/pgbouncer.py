"""A real pgbouncer (Debian's package) in front of the test PostgreSQL, for one test.

Started on a free port with a generated ini and userlist in a temporary directory, stopped
by its PID. `server_reset_query` is empty so a session mode pool hands the next client the
server connection exactly as syncmon left it: what syncmon leaves behind stays visible.
Without the binary the tests fail under CI (`CI=true`) and skip elsewhere, saying why.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest

from syncmon.embedded.postgres import free_port

CANDIDATES = ("pgbouncer", "/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")


def pgbouncer_binary() -> str:
    """The binary, or fail (CI) / skip (a laptop without it) with the fix."""
    for candidate in CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    message = "pgbouncer is not installed: apt-get install -y pgbouncer (.ci/run does)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


class PgBouncer:
    """One pgbouncer process; `dsn_for(database)` reaches the server through it."""

    def __init__(self, server_dsn: str, *, mode: str, pool_size: int = 2) -> None:
        self.mode = mode
        self.pool_size = pool_size
        parts = urlsplit(server_dsn)
        self._server_host = parts.hostname or "127.0.0.1"
        self._server_port = parts.port or 5432
        self.user = unquote(parts.username or "postgres")
        self._password = unquote(parts.password or "")
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="syncmon-pgbouncer-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.extra_users: dict[str, str] = {}

    def dsn_for(self, database: str, user: str | None = None, password: str = "") -> str:
        auth = user or self.user
        if password:
            auth += f":{password}"
        return urlunsplit(("postgresql", f"{auth}@127.0.0.1:{self.port}", f"/{database}", "", ""))

    def _write_files(self) -> Path:
        users = {self.user: self._password, **self.extra_users}
        (self.directory / "userlist.txt").write_text(
            "".join(f'"{name}" "{password}"\n' for name, password in users.items())
        )
        ini = self.directory / "pgbouncer.ini"
        ini.write_text(
            f"""[databases]
* = host={self._server_host} port={self._server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {self.directory / "userlist.txt"}
pool_mode = {self.mode}
default_pool_size = {self.pool_size}
max_db_connections = {self.pool_size}
max_client_conn = 100
server_reset_query =
server_check_query = select 1
logfile = {self.directory / "pgbouncer.log"}
pidfile = {self.directory / "pgbouncer.pid"}
admin_users = {self.user}
"""
        )
        return ini

    def start(self) -> None:
        binary = pgbouncer_binary()
        ini = self._write_files()
        run_as = None
        if os.geteuid() == 0:  # pgbouncer refuses to run as root
            run_as = "postgres" if _user_exists("postgres") else "nobody"
            shutil.chown(self.directory, run_as)
            for path in self.directory.iterdir():
                shutil.chown(path, run_as)
        self.process = subprocess.Popen(
            [binary, str(ini)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            user=run_as,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited at start: {self.log()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)  # polling for the port to open, not waiting for an outcome
        self.stop()
        raise RuntimeError(f"pgbouncer did not listen within 10s: {self.log()[-2000:]}")

    def log(self) -> str:
        path = self.directory / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop our process by its PID (SIGTERM), then remove its files."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> PgBouncer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
