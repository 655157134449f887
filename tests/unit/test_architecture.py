"""The layering of docs/architecture.md, checked two ways: statically by import-linter's
contracts (pyproject.toml, also run by CI), and at run time by importing the headless entry
points in a fresh interpreter and looking at what got loaded."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "syncmon"
ROOT = SRC.parents[1]


def loaded_after(import_line: str, prefixes: tuple[str, ...]) -> list[str]:
    code = (
        f"import json, sys\n{import_line}\n"
        "print(json.dumps(sorted(m for m, module in sys.modules.items() "
        f"if module is not None and m.split('.')[0] in {prefixes!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


WALL_CLOCK_READS = {"now", "utcnow", "today"}  # datetime.now/utcnow/today, date.today
CLOCK_MODULE = "core/clock.py"  # the one place that reads the wall clock


def wall_clock_reads(tree: ast.AST) -> list[int]:
    """Lines that read the wall clock through `datetime`: `datetime.now(...)`,
    `datetime.utcnow()`, `date.today()` (also `datetime.datetime.now`, aliases, and the
    bound method passed uncalled, as in `default_factory=datetime.now`)."""
    modules, classes = set(), set()  # names bound to the datetime module, and to its classes
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name == "datetime"}
        elif isinstance(node, ast.ImportFrom) and node.module == "datetime":
            classes |= {a.asname or a.name for a in node.names if a.name in ("datetime", "date")}
    lines = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and node.attr in WALL_CLOCK_READS):
            continue
        owner = node.value
        if (isinstance(owner, ast.Name) and owner.id in classes) or (
            isinstance(owner, ast.Attribute)
            and owner.attr in ("datetime", "date")
            and isinstance(owner.value, ast.Name)
            and owner.value.id in modules
        ):
            lines.append(node.lineno)
    return sorted(lines)


def test_the_wall_clock_is_read_in_one_place() -> None:
    """Everything else is told the time (a `Clock`, or `now`), so a test can fix it."""
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        if lines := wall_clock_reads(ast.parse(path.read_text(), str(path))):
            found[name] = lines
    assert found.pop(CLOCK_MODULE, None), "core/clock.py no longer reads the clock?"
    assert found == {}, "use core.clock (a Clock passed in, or wall_clock at a front door)"


@pytest.mark.parametrize(
    ("source", "reads"),
    [
        ("from datetime import UTC, datetime\nx = datetime.now(UTC)", [2]),
        ("import datetime as dt\nx = dt.datetime.utcnow()", [2]),
        ("from datetime import date as d\nx = d.today()", [2]),
        ("from datetime import datetime\nf = field(default_factory=datetime.now)", [2]),
        ("from datetime import datetime\nclock.now(); snapshot.today; now()", []),
        ("import time\nt = time.monotonic()", []),  # elapsed time is not the wall clock
    ],
)
def test_the_wall_clock_scan_sees_every_spelling(source: str, reads: list[int]) -> None:
    assert wall_clock_reads(ast.parse(source)) == reads


def test_the_import_contracts_hold() -> None:
    """core pure, headless without Textual, demo and embedded apart: pyproject.toml."""
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run(
        [lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " 0 broken" in result.stdout


def test_every_core_module_imports_no_io_and_no_ui() -> None:
    """Every module of core/, found on disk: a new one cannot be forgotten."""
    modules = sorted(p.stem for p in (SRC / "core").glob("*.py") if p.stem != "__init__")
    assert len(modules) >= 10
    line = "; ".join(f"import syncmon.core.{m}" for m in modules)
    io_or_ui = ("textual", "plotext", "textual_plotext", "rich", "httpx", "asyncpg", "yaml")
    assert loaded_after(line, io_or_ui) == []


@pytest.mark.parametrize(
    "module",
    [
        "syncmon.engine.poll",
        "syncmon.headless.check",
        "syncmon.headless.report",
        "syncmon.headless.watch_command",
        "syncmon.cli",
        "syncmon.ruletest.runner",
        "syncmon.config.schema",
    ],
)
def test_headless_modules_never_load_textual(module: str) -> None:
    assert loaded_after(f"import {module}", ("textual", "plotext", "textual_plotext")) == []


@pytest.mark.parametrize(
    "argv", [["check", "--format", "xml"], ["check", "--bogus"], ["watch", "--metrics-port", "x"]]
)
def test_usage_errors_exit_unknown_not_critical(argv: list[str]) -> None:
    from syncmon.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 3  # argparse's default 2 would read as CRITICAL to Nagios
