"""Stops an embedded cluster whose owner died without cleaning up (SIGKILL, a crash).

The owner starts this with a pipe on stdin and never writes to it; the read returns when
the owner closes the pipe or dies, whichever way. Then the server is stopped and, unless
told to keep it, the cluster's directory removed — so no postgres outlives its owner.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    pg_ctl, data_dir, root, run_as, keep = argv
    sys.stdin.buffer.read()
    if (Path(data_dir) / "postmaster.pid").exists():
        subprocess.run(
            [pg_ctl, "-D", data_dir, "-m", "immediate", "-w", "-t", "30", "stop"],
            user=run_as or None,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
    if keep != "keep":
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
