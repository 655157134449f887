"""Acknowledgements: an on-call engineer says "I have this one" (SPEC §8 `a`).

An ack silences the dashboard's attention for one firing alert until that alert stops
firing; then it expires by itself, so the next incident is loud again. Pure data: the
Alertmanager silence (if any) is created and expired by the app, which keeps its id here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from syncmon.core.alerts import AlertState, AlertTracker


@dataclass
class Ack:
    by: str
    at: datetime
    silence_ids: list[tuple[str, str]]  # (alertmanager URL, silence id)
    expired: bool = False


class Acknowledgements:
    def __init__(self) -> None:
        self._acks: dict[str, Ack] = {}

    def get(self, rule_name: str) -> Ack | None:
        return self._acks.get(rule_name)

    def __contains__(self, rule_name: object) -> bool:
        return rule_name in self._acks

    def acknowledge(self, rule_name: str, by: str, at: datetime) -> Ack:
        ack = self._acks.get(rule_name)
        if ack is None:
            ack = self._acks[rule_name] = Ack(by, at, [])
        return ack

    def expire_resolved(self, trackers: Mapping[str, AlertTracker]) -> list[Ack]:
        """Drop the acks of alerts no longer firing; return them (their silences to expire)."""
        expired = []
        for name in list(self._acks):
            tracker = trackers.get(name)
            if tracker is None or tracker.state is not AlertState.FIRING:
                expired.append(self._acks.pop(name))
        return expired
