"""`syncmon test FILE…` (SPEC §13): check every file, then run every case on one server.

Nothing is started when a file is invalid: all problems are printed at once and the exit
code is 3, as `validate` does. Otherwise one embedded cluster serves the whole run, each
case gets a fresh database, and the exit code is 0 (all passed) or 1 (a case failed).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Sequence
from typing import TextIO

from syncmon.config.loader import ConfigInvalid
from syncmon.core.exit_codes import ExitCode
from syncmon.core.text import plural
from syncmon.ruletest.cases import RuleTestFile
from syncmon.ruletest.cluster import CaseDatabases, embedded_server
from syncmon.ruletest.compare import compare
from syncmon.ruletest.parse import load_test_file
from syncmon.ruletest.replay import ORIGIN, ReplayError, replay
from syncmon.ruletest.report import (
    CaseResult,
    case_line,
    exit_code,
    failure_text,
    render_json,
    summary_lines,
)
from syncmon.ruletest.rows import write_case

Progress = Callable[[CaseResult], None]


def load_files(paths: Sequence[str]) -> tuple[list[RuleTestFile], list[str]]:
    """Every file parsed, or every problem of every file (`FILE:LINE:COLUMN: message`)."""
    files: list[RuleTestFile] = []
    problems: list[str] = []
    for path in paths:
        try:
            files.append(load_test_file(path))
        except ConfigInvalid as exc:
            problems += [str(p) for p in exc.problems]
    return files, problems


async def run_files(
    files: Sequence[RuleTestFile], admin_dsn: str, progress: Progress | None = None
) -> list[CaseResult]:
    """Run every case of `files` on the server at `admin_dsn`, one fresh database each."""
    results: list[CaseResult] = []
    async with CaseDatabases(admin_dsn) as databases:
        for test_file in files:
            for case in test_file.cases:
                result = CaseResult(test_file.path, case, test_file.rules)
                started = time.perf_counter()
                async with databases.fresh() as dsn:
                    await write_case(dsn, case, ORIGIN)
                    try:
                        moments = await replay(test_file, case, dsn)
                    except ReplayError as exc:
                        result.error = f"the test database could not be read: {exc}"
                    else:
                        result.moments = [compare(m) for m in moments]
                result.seconds = time.perf_counter() - started
                results.append(result)
                if progress:
                    progress(result)
    return results


def run_tests(
    paths: Sequence[str],
    output_format: str = "text",
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    admin_dsn: str | None = None,
) -> int:
    """The command: parse, run (on an embedded cluster unless `admin_dsn`), report."""
    out = out or sys.stdout
    err = err or sys.stderr
    started = time.perf_counter()
    files, problems = load_files(paths)
    if problems:
        for problem in problems:
            print(problem, file=err)
        print(f"{plural(len(problems), 'problem')}: nothing was run", file=err)
        if output_format == "json":
            print(render_json([], time.perf_counter() - started, problems), file=out)
        return ExitCode.UNKNOWN

    def progress(result: CaseResult) -> None:
        if output_format == "text":
            print(case_line(result), file=out)
            for line in failure_text(result):
                print(line, file=out)
            out.flush()

    if admin_dsn is None:
        with embedded_server() as dsn:
            results = asyncio.run(run_files(files, dsn, progress))
    else:
        results = asyncio.run(run_files(files, admin_dsn, progress))
    seconds = time.perf_counter() - started
    if output_format == "json":
        print(render_json(results, seconds), file=out)
    else:
        for line in summary_lines(results, seconds, len(files)):
            print(line, file=out)
    return exit_code(results)
