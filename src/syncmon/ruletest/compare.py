"""Expected against actual at one moment, as diff lines a reviewer reads at a glance.

`firing` and `pending` are whole sets: a rule firing that the case did not name is a
failure, as in promtool. `since` is compared only where the case names it; `nodata` only
where the case gives the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from syncmon.core.alerts import AlertState
from syncmon.ruletest.cases import ExpectedAlert
from syncmon.ruletest.replay import Moment, RuleState

COMPARED = (AlertState.FIRING, AlertState.PENDING, AlertState.NODATA)


@dataclass(frozen=True)
class DiffLine:
    sign: str  # " " as expected, "-" expected but missing, "+" there but not expected
    state: AlertState
    name: str
    since: timedelta | None = None


@dataclass(frozen=True)
class MomentResult:
    moment: Moment
    lines: tuple[DiffLine, ...]

    @property
    def ok(self) -> bool:
        return all(line.sign == " " for line in self.lines)


def compare(moment: Moment) -> MomentResult:
    expectation = moment.expectation
    lines: list[DiffLine] = []
    for state in COMPARED:
        actual = [r for r in moment.rules if r.state == state]
        if state is AlertState.NODATA:
            if expectation.nodata is None:
                continue
            expected = [ExpectedAlert(name) for name in sorted(expectation.nodata)]
        else:
            expected = list(getattr(expectation, state.value))
        lines += _diff(state, expected, actual)
    return MomentResult(moment, tuple(lines))


def _diff(
    state: AlertState, expected: list[ExpectedAlert], actual: list[RuleState]
) -> list[DiffLine]:
    by_name = {rule.name: rule for rule in actual}
    lines: list[DiffLine] = []
    matched: set[str] = set()
    for alert in expected:
        rule = by_name.get(alert.name)
        if rule is not None and alert.since in (None, rule.since):
            lines.append(DiffLine(" ", state, alert.name, rule.since))
            matched.add(alert.name)
        else:
            lines.append(DiffLine("-", state, alert.name, alert.since))
    lines += [DiffLine("+", state, r.name, r.since) for r in actual if r.name not in matched]
    return lines
