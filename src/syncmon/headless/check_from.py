"""`syncmon check --from URL[,URL…]` (SPEC §16): the verdict of a running watcher, not a poll.

A watcher has history that a one-shot check lacks: its state machines decided `for` on
endpoint rules, and its since is the one it pages with. The rules are the watcher's own
(the ones it evaluates), so this command reads no config, no database and no endpoint: it
imports the pure core, the renderers and the standard library, and answers in a few
hundredths of a second. The exit codes, text, JSON and Nagios forms are `check`'s, plus
how old the state is; older than two intervals is UNKNOWN (3) whatever it says.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TextIO

from syncmon.config.redaction import redact
from syncmon.core.alerts import AlertState, CheckVerdict, Observation, Verdict
from syncmon.core.clock import Clock, wall_clock
from syncmon.core.conditions import comparisons
from syncmon.core.durations import format_duration
from syncmon.feed.client import first_fresh_state, parse_urls, watch_token
from syncmon.feed.wire import RuleState, WatcherState
from syncmon.headless.report import (
    AlertReport,
    CheckReport,
    Origin,
    render_json,
    render_nagios,
    render_text,
    unknown_reasons,
)

RENDERERS = {"text": render_text, "json": render_json, "nagios": render_nagios}
STATES = {AlertState.RESOLVED: AlertState.INACTIVE}  # just resolved is ok now


def verdict_of(rule_state: RuleState) -> CheckVerdict:
    """The watcher's state machine position as `check` reports a rule."""
    rule, obs = rule_state.rule, rule_state.observation
    if obs is None:
        first = comparisons(rule.condition)[0]
        obs = Observation(Verdict.NODATA, None, first.threshold, first.metric.unit, 0)
    notes = []
    state = STATES.get(rule_state.state, rule_state.state)
    if rule_state.error:
        blind = state is AlertState.FIRING
        notes.append(("still firing while unreadable: " if blind else "") + rule_state.error)
    elif obs.reason:
        notes.append(obs.reason)
    if state is AlertState.PENDING and rule_state.since is not None and rule.for_:
        notes.insert(0, f"pending: for {format_duration(rule.for_)} not yet met in the watcher")
    return CheckVerdict(state, obs, rule_state.since, "; ".join(notes), rule_state.episode)


def report_of(url: str, state: WatcherState, now: datetime) -> CheckReport:
    alerts = [AlertReport(r.rule, verdict_of(r)) for r in state.alerts]
    needed = {source for a in alerts for source in a.rule.sources}
    origin = Origin(url, state.age(now).total_seconds(), state.interval.total_seconds())
    unknown = unknown_reasons(f"the watcher at {url}", state.failed, state.unconfigured, alerts)
    if origin.stale:
        unknown.insert(
            0,
            f"the state of watcher {redact(url)} is {origin.age_seconds:.0f}s old, more than "
            f"two intervals ({2 * origin.interval_seconds:g}s): it is not evaluating",
        )
    errors = [
        redact(message)
        for source, message in state.failed.items()
        if source in needed or source not in state.unconfigured
    ]
    return CheckReport(
        evaluated_at=state.evaluated_at,
        alerts=alerts,
        metrics=dict(sorted(state.display_metrics.items())),
        endpoints=state.endpoints,
        errors=list(dict.fromkeys(errors)),
        unknown=unknown,
        origin=origin,
    )


def unknown_report(reasons: list[str], now: datetime) -> CheckReport:
    return CheckReport(now, [], {}, None, errors=[], unknown=[redact(r) for r in reasons])


def run_check_from(
    urls_text: str,
    *,
    output_format: str = "text",
    out: TextIO | None = None,
    clock: Clock = wall_clock,
) -> int:
    """The front end of `check --from`: `clock` judges how old the watcher's state is."""
    now = clock()
    try:
        urls = parse_urls(urls_text)
    except ValueError as exc:
        report = unknown_report([str(exc)], now)
    else:
        answer = first_fresh_state(urls, watch_token(), clock=clock)
        now = clock()
        if isinstance(answer, list):
            report = unknown_report([f"no watcher answered: {p}" for p in answer], now)
        else:
            report = report_of(*answer, now)
    print(RENDERERS[output_format](report), file=out or sys.stdout)
    return int(report.exit_code)
