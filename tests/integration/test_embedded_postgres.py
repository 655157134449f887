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
