"""Validate checks for rules with one alert per endpoint (SPEC §15).

A rule over endpoints is evaluated once per endpoint, where `endpoints_down` and
`endpoints_insecure` are 0 or 1 (that endpoint's latest poll). Two conditions that used to
mean something over the count now cannot, and would fail silently, so they are refused:
a comparison whose outcome is the same at 0 and at 1 (`endpoints_down > 1` never holds,
`endpoints_down >= 0` always does), and a rule label `endpoint`, which would give every
endpoint's alert the same labels and so one identity in Alertmanager.
"""

from __future__ import annotations

from typing import Any

from syncmon.config.models import ConfigModel
from syncmon.config.yaml_source import KEY, LoadedYaml, Problem
from syncmon.core.conditions import comparisons
from syncmon.core.metrics import Source
from syncmon.core.rules import ENDPOINT_LABEL

PER_ENDPOINT_FLAGS = ("endpoints_down", "endpoints_insecure")


def per_endpoint_problems(
    model: ConfigModel, data: dict[str, Any], loaded: LoadedYaml, filename: str
) -> list[Problem]:
    problems: list[Problem] = []
    raw_rules = data.get("alerts") or []
    for index, rule in enumerate(model.alerts):
        condition: Any = rule.condition
        parts = comparisons(condition)
        if not any(c.metric.source is Source.ENDPOINTS for c in parts):
            continue
        if ENDPOINT_LABEL in rule.labels:
            pos = loaded.position(("alerts", index, "labels", ENDPOINT_LABEL, KEY))
            problems.append(
                Problem(
                    filename,
                    pos.line,
                    pos.column,
                    f"label {ENDPOINT_LABEL!r} is set by syncmon on a rule over endpoints "
                    "(one alert per endpoint); name this label differently",
                )
            )
        text = str(raw_rules[index].get("condition", "")) if index < len(raw_rules) else ""
        pos = loaded.position(("alerts", index, "condition"))
        for part in parts:
            if part.metric.name not in PER_ENDPOINT_FLAGS or part.holds(0) != part.holds(1):
                continue
            offset = max(0, text.find(part.text)) + int(pos.quoted)
            outcome = "always holds" if part.holds(0) else "can never hold"
            problems.append(
                Problem(
                    filename,
                    pos.line,
                    pos.column + offset,
                    f"{part.text!r} {outcome}: a rule over endpoints has one alert per "
                    f"endpoint, where {part.metric.name} is 0 or 1 (e.g. "
                    f"{part.metric.name} > 0)",
                )
            )
    return problems
