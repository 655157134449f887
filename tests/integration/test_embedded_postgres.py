"""The embedded cluster never outlives its owner, even one killed with SIGKILL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.database

OWNER = """
import os, signal
from syncmon.embedded.postgres import EmbeddedPostgres
pg = EmbeddedPostgres()
pg.start()
print(pg.root, pg.pid(), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_owner_leaves_no_server_and_no_directory() -> None:
    result = subprocess.run(
        [sys.executable, "-c", OWNER], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == -9
    root, pid = result.stdout.split()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (Path(root).exists() or _alive(int(pid))):
        time.sleep(0.1)
    assert not _alive(int(pid)), "postgres outlived its owner"
    assert not Path(root).exists(), "the cluster directory was left behind"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def test_kill_spares_a_process_that_a_stale_pid_file_names(tmp_path: Path) -> None:
    """A crash leaves postmaster.pid behind; by the next start its PID may belong to anything.
    `kill` must SIGKILL only this cluster's own postmaster."""
    from syncmon.embedded.postgres import EmbeddedPostgres

    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    pg = EmbeddedPostgres(base_dir=str(tmp_path))
    try:
        pg.data_dir.mkdir(parents=True)
        pg.socket_dir.mkdir(parents=True)
        (pg.data_dir / "postmaster.pid").write_text(f"{bystander.pid}\n{pg.data_dir}\n")
        pg.kill()
        assert bystander.poll() is None, "kill() shot a process that is not its postmaster"
        assert not (pg.data_dir / "postmaster.pid").exists()  # the stale file is cleared
    finally:
        bystander.kill()
        bystander.wait()
        pg.cleanup()


def test_kill_stops_its_own_postmaster_and_a_start_follows() -> None:
    from syncmon.embedded.postgres import EmbeddedPostgres

    with EmbeddedPostgres() as pg:
        pid = pg.pid()
        assert pid is not None and _alive(pid)
        pg.kill()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        assert not _alive(pid)
        pg.start()
        assert pg.is_running()
