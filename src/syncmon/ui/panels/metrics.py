"""Key metrics against the seed's targets: value, target, samples, and a verdict word.

The verdict is a word and a symbol as well as a colour, so it reads with NO_COLOR too:
`✓ ok` target met, `~ near` met but within 10 % of the threshold's headroom, `✗ miss`
target missed, `· no data` nothing to compute it from.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from syncmon.core.conditions import Comparison, Condition, comparisons
from syncmon.core.metrics import CATALOGUE, MetricValue, Source, Unit, format_value
from syncmon.ui.model import StaleMark, metric_source
from syncmon.ui.text import age, safe

VERDICTS = {
    "ok": ("✓ ok", "green"),
    "near": ("~ near", "yellow"),
    "miss": ("✗ miss", "bold red"),
    "nodata": ("· no data", "dim"),
    "none": ("", ""),
}
_OP_WORD = {">": ">", ">=": "≥", "<": "<", "<=": "≤", "==": "=", "!=": "≠"}


def verdict(value: float | None, target: Comparison | None) -> str:
    if value is None:
        return "nodata"
    if target is None:
        return "none"
    if not target.holds(value):
        return "miss"
    threshold = target.threshold
    if target.metric.unit is Unit.RATIO:
        headroom = (1 - threshold) if target.op in (">", ">=") else threshold
    else:
        headroom = abs(threshold)
    return "near" if abs(value - threshold) < 0.1 * headroom else "ok"


def target_text(target: Comparison) -> str:
    op = _OP_WORD.get(target.op, target.op)
    return f"{op} {format_value(target.threshold, target.metric.unit)}"


def ordered(metrics: Mapping[str, MetricValue], targets: Mapping[str, Condition]) -> list[str]:
    """Metrics with a target first (the seed's key metrics), then the catalogue, then health.*."""
    names = [n for n in CATALOGUE if n in metrics]
    keyed = [n for n in names if n in targets]
    rest = [n for n in names if n not in targets]
    extra = sorted(n for n in metrics if n not in CATALOGUE)
    return keyed + rest + extra


class MetricsPanel(Static):
    def show(
        self,
        metrics: Mapping[str, MetricValue],
        targets: Mapping[str, Condition],
        stale: Mapping[Source, StaleMark],
        now: datetime,
    ) -> None:
        if not metrics:
            reasons = {m.reason for m in stale.values()}
            self.update(
                Text(
                    "waiting for data…"
                    if not reasons
                    else "no data: " + "; ".join(sorted(reasons)),
                    style="yellow",
                )
            )
            return
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column("metric", ratio=3, no_wrap=True, overflow="ellipsis")
        table.add_column("value", justify="right", no_wrap=True)
        table.add_column("target", justify="right", no_wrap=True)
        table.add_column("n", justify="right", no_wrap=True)
        table.add_column("status", no_wrap=True)
        table.add_row(
            *(Text(h, style="dim") for h in ("metric", "value", "target", "samples", "status"))
        )
        for name in ordered(metrics, targets):
            mv = metrics[name]
            condition = targets.get(name)
            target = comparisons(condition)[0] if condition is not None else None
            mark = stale.get(metric_source(name))  # type: ignore[arg-type]
            if mark is not None:
                word, style = (
                    f"STALE {age(now - mark.last_good) if mark.last_good else ''}",
                    "bold yellow",
                )
                value_style = "dim"
            else:
                word, style = VERDICTS[verdict(mv.value, target)]
                value_style = "bold" if target else ""
            table.add_row(
                safe(name),
                Text(format_value(mv.value, mv.unit), style=value_style),
                Text(target_text(target) if target else "", style="dim"),
                Text(str(mv.samples), style="dim"),
                Text(word, style=style),
            )
        self.update(table)
