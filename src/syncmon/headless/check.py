"""`syncmon check`: one stateless evaluation of every rule, printed, with a Nagios exit code."""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime
from typing import TextIO

from syncmon.config.settings import Settings
from syncmon.engine.evaluation import check_verdicts
from syncmon.engine.poll import Engine, PollRequest
from syncmon.headless.report import (
    CheckReport,
    build_report,
    render_json,
    render_nagios,
    render_text,
)

RENDERERS = {"text": render_text, "json": render_json, "nagios": render_nagios}
MARGIN = 0.2  # for rendering and closing, inside the deadline SPEC §12 promises


def deadline(settings: Settings) -> float:
    """SPEC §12: `check` answers within statement_timeout + health timeout + 1 s."""
    return settings.statement_timeout + settings.health_timeout + 1.0


async def evaluate(settings: Settings, at: datetime | None = None) -> CheckReport:
    started = time.monotonic()
    engine = Engine(settings)
    try:
        snapshot = await engine.poll(PollRequest(at=at))
        left = deadline(settings) - (time.monotonic() - started) - MARGIN
        verdicts = await check_verdicts(
            engine, settings.rules, snapshot, timeout=min(engine.database_deadline, left)
        )
    finally:
        await engine.close()
    return build_report(settings, snapshot, verdicts)


def run_check(
    settings: Settings,
    *,
    output_format: str = "text",
    at: datetime | None = None,
    out: TextIO | None = None,
) -> int:
    report = asyncio.run(evaluate(settings, at))
    print(RENDERERS[output_format](report), file=out or sys.stdout)
    return int(report.exit_code)
