"""The layering of STYLE.md, checked: the core is pure, headless paths never load the UI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "syncmon"
IO_OR_UI = ("textual", "plotext", "textual_plotext", "rich", "httpx", "asyncpg", "yaml")


def loaded_after(import_line: str, prefixes: tuple[str, ...]) -> list[str]:
    code = (
        f"import sys\n{import_line}\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {prefixes!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return eval(result.stdout)  # a printed list of module names


def test_core_imports_no_io_and_no_ui() -> None:
    modules = "alerts conditions conflicts durations metrics rules silences text"
    line = "; ".join(f"import syncmon.core.{m}" for m in modules.split())
    assert loaded_after(line, IO_OR_UI) == []


@pytest.mark.parametrize(
    "module",
    [
        "syncmon.engine",
        "syncmon.headless.check",
        "syncmon.headless.report",
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


def imported_syncmon_packages(path: Path) -> set[str]:
    text = path.read_text()
    return set(re.findall(r"^\s*(?:from|import) syncmon\.(\w+)", text, re.MULTILINE))


def test_demo_is_imported_by_nothing_but_the_demo_command() -> None:
    importers = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if "demo" in imported_syncmon_packages(p) and p.parent.name != "demo"
    ]
    assert importers == ["cli.py"]  # lazily, for `syncmon demo`


def test_embedded_postgres_stands_alone() -> None:
    for path in (SRC / "embedded").glob("*.py"):
        assert imported_syncmon_packages(path) <= {"embedded"}, path.name
