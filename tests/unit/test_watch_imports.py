"""Headless commands never import Textual or plotext (SPEC §11)."""

from __future__ import annotations

import subprocess
import sys


def test_watch_and_sinks_import_neither_textual_nor_plotext() -> None:
    code = (
        "import sys, syncmon.headless.watch, syncmon.headless.watch_command; "
        "import syncmon.sinks.alertmanager; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'plotext')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
