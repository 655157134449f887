"""A throwaway PostgreSQL cluster in a temporary directory, on 127.0.0.1 and a free port.

Binaries come from the `pgserver` wheel (so a laptop with only pip can run the demo), or
from a system installation when asked (it has `pg_stat_statements`, which the benchmark
needs). Unlike `pgserver.get_server` this listens on TCP with real password auth and can
be stopped, killed and restarted on the same port — the tests need all three.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SERVICE_USER = "pgserver"  # the unprivileged account pgserver itself uses when run as root


def pgserver_bin_dir() -> Path:
    import warnings

    with warnings.catch_warnings():  # pgserver's import warns about XDG_RUNTIME_DIR; harmless
        warnings.simplefilter("ignore")
        from pgserver._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def system_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/N/bin that has a server, if any."""
    root = Path("/usr/lib/postgresql")
    candidates = (
        sorted(
            (p / "bin" for p in root.glob("*") if (p / "bin" / "postgres").exists()),
            key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        )
        if root.exists()
        else []
    )
    return candidates[-1] if candidates else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedPostgres:
    """Start with `start()`, stop for good with `cleanup()` (also a context manager).

    A small watchdog process (`pg_reaper`) stops the server and removes the directory if
    this process dies without calling `cleanup()`.
    """

    keep_data_on_exit = False  # a subclass that caches its data directory says True
    _reaper: subprocess.Popen[bytes] | None = None  # the watchdog, once started

    def __init__(
        self,
        *,
        bin_dir: Path | None = None,
        password: str | None = None,
        timezone: str = "UTC",
        settings: dict[str, str] | None = None,
        base_dir: str | None = None,
    ) -> None:
        self.bin_dir = bin_dir or pgserver_bin_dir()
        self.password = password if password is not None else secrets.token_urlsafe(12)
        self.timezone = timezone
        self.settings = dict(settings or {})
        self.root = Path(tempfile.mkdtemp(prefix="syncmon-pg-", dir=base_dir))
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log_file = self.root / "postgres.log"
        self.port = free_port()
        self._run_as = SERVICE_USER if os.geteuid() == 0 else None
        self._initialised = False

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cleanup()

    @property
    def dsn(self) -> str:
        return self.dsn_for("postgres")

    def dsn_for(self, database: str, user: str = "postgres", password: str | None = None) -> str:
        secret = self.password if password is None else password
        auth = f"{user}:{secret}" if secret else user
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        if not self._initialised:
            self._initdb()
        options = [
            "-h 127.0.0.1",
            f"-p {self.port}",
            f"-k {self.socket_dir}",
            f"-c timezone={self.timezone}",
            "-c fsync=off",
            "-c synchronous_commit=off",
            "-c full_page_writes=off",
        ]
        options += [f"-c {key}={value}" for key, value in self.settings.items()]
        self._pg_ctl("-w", "-t", "60", "-o", " ".join(options), "-l", str(self.log_file), "start")
        self._start_reaper()

    def _start_reaper(self) -> None:
        reaper = self._reaper
        if reaper is not None and reaper.poll() is None:
            return
        import sys

        self._reaper = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "syncmon.embedded.pg_reaper",
                str(self.bin_dir / "pg_ctl"),
                str(self.data_dir),
                str(self.root),
                self._run_as or "",
                "keep" if self.keep_data_on_exit else "delete",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _stop_reaper(self) -> None:
        reaper = self._reaper
        if reaper is None:
            return
        self._reaper = None
        if reaper.stdin:
            reaper.stdin.close()
        try:
            reaper.wait(timeout=30)
        except subprocess.TimeoutExpired:
            reaper.kill()

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`fast` or `immediate`); `start()` brings it back on the same port."""
        if self.is_running():
            self._pg_ctl("-w", "-t", "60", "-m", mode, "stop", check=False)

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crashed database would look to a client.

        Only a process that is this cluster's postmaster is killed: a stale postmaster.pid
        may name a PID that the system has since given to something else.
        """
        pid = self.pid()
        if pid and self._is_our_postmaster(pid):
            victims = [pid, *_children(pid)]
            for victim in victims:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(victim, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and any(_alive(v) for v in victims):
                time.sleep(0.05)
        # What a crash leaves behind would stop the next start; clear it.
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / "postmaster.pid").unlink()
        for lock in self.socket_dir.glob(".s.PGSQL.*"):
            lock.unlink(missing_ok=True)

    def _is_our_postmaster(self, pid: int) -> bool:
        """The process is a `postgres` serving this data directory (from /proc, Linux)."""
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        if not argv or Path(os.fsdecode(argv[0])).name not in {"postgres", "postmaster"}:
            return False
        data_dir = os.fsencode(str(self.data_dir))
        return any(arg.rstrip(b"/") == data_dir.rstrip(b"/") for arg in argv[1:])

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        """Stop the server and delete everything it wrote."""
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            self._stop_reaper()

    def pid(self) -> int | None:
        try:
            first = (self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
            return int(first)
        except (FileNotFoundError, ValueError):
            return None

    def is_running(self) -> bool:
        pid = self.pid()
        return bool(pid and _alive(pid))

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL through psql over the socket (for setup, not for syncmon itself)."""
        result = subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "-X",
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
                "-At",
                "-h",
                str(self.socket_dir),
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
            ],
            input=sql,
            text=True,
            capture_output=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout

    # -- internals -------------------------------------------------------------------------

    def _initdb(self) -> None:
        self.data_dir.mkdir()
        self.socket_dir.mkdir()
        if self._run_as:
            self._prepare_for_service_user()
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._run_as:
            shutil.chown(pwfile, self._run_as, self._run_as)
        auth = (
            ["--auth-host=scram-sha-256", "--auth-local=trust"]
            if self.password
            else ["--auth=trust"]
        )
        try:
            self._run(
                [
                    str(self.bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--encoding=UTF8",
                    "--locale=C",
                    f"--pwfile={pwfile}",
                    *auth,
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        self._initialised = True

    def _prepare_for_service_user(self) -> None:
        import stat
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pgserver.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

        assert self._run_as is not None
        ensure_user_exists(self._run_as)
        ensure_prefix_permissions(self.bin_dir)
        perms = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
        ensure_folder_permissions(self.bin_dir, perms)
        lib = self.bin_dir.parent / "lib"
        if lib.exists():
            ensure_folder_permissions(lib, stat.S_IRGRP | stat.S_IROTH)
        ensure_prefix_permissions(self.root)
        for path in (self.root, self.data_dir, self.socket_dir):
            shutil.chown(path, self._run_as, self._run_as)
        self.root.chmod(0o755)
        self.socket_dir.chmod(0o777)

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        self._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args], check=check)

    def _run(self, command: list[str], check: bool = True) -> None:
        # Output goes to files: pg_ctl's children keep pipes open and would hang a capture.
        with tempfile.TemporaryFile("w+") as out:
            result = subprocess.run(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                user=self._run_as,
                check=False,
                cwd=self.root,
                start_new_session=True,
            )
            if check and result.returncode != 0:
                out.seek(0)
                log = self.log_file.read_text() if self.log_file.exists() else ""
                raise RuntimeError(
                    f"{Path(command[0]).name} failed ({result.returncode}): {out.read()}\n{log}"
                )


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(pid):
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is as good as dead
        with open(f"/proc/{pid}/stat") as stat_file:
            return stat_file.read().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True
