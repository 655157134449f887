"""A PostgreSQL 15 cluster whose data directory survives between benchmark runs.

`EmbeddedPostgres` (src/syncmon/embedded) is a throwaway: it makes a temporary directory and
deletes it on cleanup. The benchmark's 10 M rows take minutes to build, so this subclass
points the same machinery at `bench/.cache/pg` and only ever stops the server.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from syncmon.embedded.postgres import SERVICE_USER, EmbeddedPostgres, free_port, system_bin_dir

SETTINGS = {
    "shared_preload_libraries": "pg_stat_statements",
    "pg_stat_statements.track": "top",
    "shared_buffers": "512MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "max_parallel_maintenance_workers": "2",
    "autovacuum": "off",  # the bench decides when tables are vacuumed, not a timer
}


class PersistentPostgres(EmbeddedPostgres):
    """Same lifecycle as EmbeddedPostgres, but `root` is fixed and `cleanup` keeps the data."""

    keep_data_on_exit = True

    def __init__(self, root: Path) -> None:  # deliberately no super().__init__: no tempdir
        root = root.resolve()  # pg_ctl runs with cwd=root
        bin_dir = system_bin_dir()
        if bin_dir is None or not (bin_dir / "postgres").exists():
            raise SystemExit(
                "the benchmark needs a system PostgreSQL (apt-get install "
                "postgresql-15): pgserver's binaries lack pg_stat_statements"
            )
        self.bin_dir = bin_dir
        self.password = ""  # trust on 127.0.0.1: a throwaway bench cluster holds no secret
        self.timezone = "UTC"
        self.settings = dict(SETTINGS)
        self.root = root
        self.data_dir = root / "data"
        self.socket_dir = root / "socket"
        self.log_file = root / "postgres.log"
        self.port = free_port()
        self._run_as = SERVICE_USER if os.geteuid() == 0 else None
        self._initialised = (self.data_dir / "PG_VERSION").exists()
        if not self._initialised:
            shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True, exist_ok=True)
        if self._initialised:
            self.socket_dir.mkdir(exist_ok=True)
            self.kill()  # a previous run that died leaves a postmaster.pid behind
            if self._run_as:
                shutil.chown(self.socket_dir, self._run_as, self._run_as)

    def cleanup(self) -> None:
        """Stop, keep the data directory for the next run."""
        self.stop("fast")
        self._stop_reaper()

    def wipe(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
