"""syncmon: terminal dashboard and headless alerting for the sync infrastructure."""

import sys

__version__ = "0.1.0"

# httpx imports its own command-line tool whenever click is installed (import-linter, among
# many, brings it), and that loads rich and pygments into every headless command: 0.1 s and
# megabytes `check` has no use for. syncmon never runs httpx's CLI, so its import is refused.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
