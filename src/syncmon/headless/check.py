"""`syncmon check`: one stateless evaluation of every rule, printed, with a Nagios exit code."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from typing import TextIO

from syncmon.config.settings import Settings
from syncmon.engine import Engine, PollRequest, check_verdicts
from syncmon.headless.report import (
    CheckReport,
    build_report,
    render_json,
    render_nagios,
    render_text,
)

RENDERERS = {"text": render_text, "json": render_json, "nagios": render_nagios}


async def evaluate(settings: Settings, at: datetime | None = None) -> CheckReport:
    engine = Engine(settings)
    try:
        snapshot = await engine.poll(PollRequest(at=at, history=True))
    finally:
        await engine.close()
    return build_report(settings.rules, snapshot, check_verdicts(settings.rules, snapshot))


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
