"""The layering of docs/architecture.md, checked two ways: statically by import-linter's
contracts (pyproject.toml, also run by CI), and at run time by importing the headless entry
points in a fresh interpreter and looking at what got loaded."""

from __future__ import annotations

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
