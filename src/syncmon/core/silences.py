"""Alertmanager silences as data: which alerts a silence covers (shared acknowledgements).

A silence made in any dashboard, or in Alertmanager's own UI, is read back as a `Silence`
and matched against a rule's alert labels with Alertmanager's own semantics: every matcher
must hold; a label the alert lacks counts as the empty string; regexes are anchored. Pure:
the HTTP side is `syncmon.sinks.alertmanager`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from syncmon.core.rules import AlertRule
from syncmon.core.timefmt import parse_iso

ACK_COMMENT = "acknowledged in syncmon by"
"""How a silence made by syncmon's `a` begins its comment (others are left to expire alone)."""
SERVICE_LABEL = "sync"

SilenceRef = tuple[str, str]  # (Alertmanager URL, silence id)


@dataclass(frozen=True)
class SilenceRead:
    """One Alertmanager's silences as read back, or why they could not be."""

    url: str
    silences: list[Silence] | None
    error: str | None = None


@dataclass(frozen=True)
class SilenceMade:
    """The silence one Alertmanager made for an acknowledgement, or why it did not."""

    url: str
    silence_id: str | None
    error: str | None = None


def alert_labels(rule: AlertRule) -> dict[str, str]:
    """The identity of an alert: alertname, severity, the rule's labels, the alert's own
    (`endpoint` for a rule over endpoints: one alert each, routable apart), service.
    Every watcher sends exactly these for a rule, so Alertmanager deduplicates them."""
    labels = {"alertname": rule.name, "severity": rule.severity.value}
    labels.update(
        {k: str(v) for k, v in rule.all_labels.items() if k not in ("alertname", "severity")}
    )
    labels["service"] = SERVICE_LABEL
    return labels


@dataclass(frozen=True)
class Matcher:
    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    def holds(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.is_regex:
            try:
                found = re.fullmatch(self.value, actual) is not None
            except re.error:  # Alertmanager would have refused it; never match on garbage
                return False
        else:
            found = actual == self.value
        return found if self.is_equal else not found


@dataclass(frozen=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    created_by: str
    comment: str
    starts_at: datetime
    ends_at: datetime
    state: str  # active | pending | expired (Alertmanager's status.state)

    @property
    def active(self) -> bool:
        return self.state == "active"

    @property
    def made_by_syncmon(self) -> bool:
        return self.comment.startswith(ACK_COMMENT)

    def covers(self, labels: Mapping[str, str]) -> bool:
        """True when this silence would mute an alert with exactly these labels."""
        return bool(self.matchers) and all(m.holds(labels) for m in self.matchers)

    @classmethod
    def from_json(cls, data: Any) -> Silence:
        """One entry of GET /api/v2/silences; ValueError on anything malformed."""
        if not isinstance(data, dict):
            raise ValueError("a silence must be a JSON object")
        try:
            raw_matchers = data["matchers"]
            if not isinstance(raw_matchers, list):
                raise ValueError("matchers must be a list")
            matchers = tuple(
                Matcher(
                    str(m["name"]),
                    str(m["value"]),
                    bool(m.get("isRegex", False)),
                    bool(m.get("isEqual", True)),
                )
                for m in raw_matchers
            )
            status = data.get("status") or {}
            return cls(
                id=str(data["id"]),
                matchers=matchers,
                created_by=str(data.get("createdBy", "")),
                comment=str(data.get("comment", "")),
                starts_at=_time(data["startsAt"]),
                ends_at=_time(data["endsAt"]),
                state=str(status.get("state", "")) if isinstance(status, dict) else "",
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed silence: {exc}") from None


def _time(value: Any) -> datetime:
    moment = parse_iso(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"time without an offset: {value!r}")
    return moment


def covering(silences: list[Silence], labels: Mapping[str, str]) -> list[Silence]:
    """The active silences that cover `labels`, the one lasting longest first."""
    found = [s for s in silences if s.active and s.covers(labels)]
    return sorted(found, key=lambda s: s.ends_at, reverse=True)
