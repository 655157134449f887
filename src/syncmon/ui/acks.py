"""Acknowledgements: "I have this one", shared through Alertmanager silences (SPEC §8.1).

With an Alertmanager, an ack *is* a silence: every dashboard reads the active silences back
on each poll and shows the alerts they cover as "acked by NAME until TIME", whoever made
them (another dashboard, or Alertmanager's own UI). Until a new silence is read back, or
when Alertmanager cannot be reached, the ack is kept here and says it is local. Without an
Alertmanager every ack is local and lasts until its alert stops firing.

Pure data: the HTTP calls are the app's `SilencesPort` (`sinks.silences.SilenceKeeper`),
run by the app in workers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from syncmon.core.alerts import AlertState, AlertTracker
from syncmon.core.rules import AlertRule
from syncmon.core.silences import (
    Silence,
    SilenceMade,
    SilenceRead,
    SilenceRef,
    alert_labels,
    covering,
)

Notice = tuple[str, Literal["information", "warning", "error"]]  # (message, severity) to show


@dataclass
class LocalAck:
    by: str
    at: datetime
    pending: bool = False  # a silence was asked for and not yet read back
    reason: str | None = None  # why this ack is local only
    until: datetime | None = None  # a timed ack ends then, or when its alert resolves
    comment: str = ""


@dataclass(frozen=True)
class Ack:
    """An alert's acknowledgement as shown: from a silence (shared) or from this dashboard."""

    by: str
    until: datetime | None
    shared: bool
    pending: bool = False
    reason: str | None = None
    silences: tuple[SilenceRef, ...] = ()


NO_ALERTMANAGER = "local: no Alertmanager configured"


class AckBook:
    def __init__(self, rules: Iterable[AlertRule], alertmanagers: Iterable[str] = ()) -> None:
        # Acks are per alert (`rule.key`): a rule over endpoints has one alert per endpoint.
        self.rules = {rule.key: rule for rule in rules}
        self.urls = list(alertmanagers)
        self.local: dict[str, LocalAck] = {}
        self.silences: dict[str, list[Silence]] = {url: [] for url in self.urls}
        self.read_errors: dict[str, str] = {}
        self.created: set[SilenceRef] = set()  # silences this dashboard made
        self.expiring: set[SilenceRef] = set()  # asked to expire: hidden even if read back

    @property
    def shared(self) -> bool:
        return bool(self.urls)

    # --- reading ---------------------------------------------------------------------------
    def covering(self, rule: AlertRule) -> list[tuple[str, Silence]]:
        labels = alert_labels(rule)
        found = [(url, s) for url in self.urls for s in covering(self.silences[url], labels)]
        return sorted(found, key=lambda pair: pair[1].ends_at, reverse=True)

    def ack_for(self, rule: AlertRule) -> Ack | None:
        shared = self.covering(rule)
        if shared:
            longest = shared[0][1]
            refs = tuple((url, s.id) for url, s in shared)
            return Ack(longest.created_by, longest.ends_at, True, silences=refs)
        local = self.local.get(rule.key)
        if local is None:
            return None
        return Ack(local.by, local.until, False, local.pending, local.reason)

    # --- changes ---------------------------------------------------------------------------
    def acknowledge(
        self,
        rule: AlertRule,
        by: str,
        at: datetime,
        *,
        until: datetime | None = None,
        comment: str = "",
    ) -> LocalAck:
        """Record an ack here; pending when a silence will be asked for. A timed ack
        (`until`) ends then, or when the alert resolves, whichever comes first."""
        reason = None if self.shared else NO_ALERTMANAGER
        ack = LocalAck(by, at, self.shared, reason, until, comment)
        self.local[rule.key] = ack
        self.rules[rule.key] = rule  # the alert, with its labels, for read_silences
        return ack

    def expire_local(self, now: datetime) -> None:
        """Timed local acks whose time is up end (silences end in Alertmanager itself)."""
        for name, ack in list(self.local.items()):
            if ack.until is not None and ack.until <= now:
                del self.local[name]

    def silence_failed(self, rule: AlertRule, reason: str) -> None:
        """Alertmanager refused or could not be reached: the ack stays, local, and says why."""
        ack = self.local.get(rule.key)
        if ack is not None:
            ack.pending, ack.reason = False, f"local: {reason}"

    def apply_reads(self, reads: list[SilenceRead]) -> list[Notice]:
        """Silences read back; a failed read keeps the last known (said once, not per poll)."""
        notices: list[Notice] = []
        for read in reads:
            failed_before = read.url in self.read_errors
            self.read_silences(read.url, read.silences, read.error)
            if read.error is not None and not failed_before:
                notices.append((f"cannot read silences: {read.error}", "warning"))
            elif read.error is None and failed_before:
                notices.append((f"Alertmanager {read.url} answers again", "information"))
        return notices

    def apply_made(
        self, rule: AlertRule, made: list[SilenceMade], still_firing: bool
    ) -> tuple[list[SilenceRef], list[Notice]]:
        """Silences asked for by `a` were made (or not). Returns the ones to expire at once
        (the alert resolved while we were asking) and what to tell the engineer."""
        refs = [(m.url, m.silence_id) for m in made if m.silence_id is not None]
        self.created.update(refs)
        errors = [m.error for m in made if m.error is not None]
        if not still_firing:
            self.local.pop(rule.key, None)
            return refs, []
        if errors:
            self.silence_failed(rule, f"Alertmanager: {errors[0]}")
            return [], [(f"could not silence {rule.key}: {errors[0]}; the ack is local", "error")]
        return [], [(f"acknowledged {rule.key} in Alertmanager", "information")]

    def apply_expired(
        self, results: list[tuple[SilenceRef, str | None]], quiet: bool
    ) -> list[Notice]:
        """Expiry answers; a silence that could not be expired is shown again when read back."""
        notices: list[Notice] = []
        for ref, error in results:
            if error is None:
                continue
            self.expire_failed(ref)
            if not quiet or ref in self.created:
                notices.append((f"could not expire silence {ref[1]}: {error}", "warning"))
        return notices

    def read_silences(self, url: str, silences: list[Silence] | None, error: str | None) -> None:
        """A read-back of one Alertmanager; a failed read keeps the last silences known."""
        if silences is None:
            self.read_errors[url] = error or "unknown error"
            return
        self.read_errors.pop(url, None)
        listed = {(url, s.id) for s in silences}
        self.expiring = {ref for ref in self.expiring if ref[0] != url or ref in listed}
        self.silences[url] = [s for s in silences if (url, s.id) not in self.expiring]
        for name in list(self.local):  # a local ack whose silence is now read back is shared
            rule = self.rules.get(name)
            if rule is not None and self.covering(rule):
                del self.local[name]

    def unacknowledge(self, rule: AlertRule) -> list[SilenceRef]:
        """Drop the ack; return the silences to expire (and stop showing them at once)."""
        self.local.pop(rule.key, None)
        refs = [(url, s.id) for url, s in self.covering(rule)]
        self._hide(refs)
        return refs

    def expire_failed(self, ref: SilenceRef) -> None:
        """Expiring did not work: show the silence again when it is read back."""
        self.expiring.discard(ref)

    def _hide(self, refs: list[SilenceRef]) -> None:
        self.expiring.update(refs)
        for url in self.urls:
            self.silences[url] = [s for s in self.silences[url] if (url, s.id) not in self.expiring]

    def resolved(
        self, trackers: Mapping[str, AlertTracker], was_firing: set[str]
    ) -> list[SilenceRef]:
        """Acks end when their alert stops firing. Returns the silences to expire: those syncmon
        made (here or in another dashboard) for an alert this dashboard saw stop firing;
        silences made in Alertmanager's UI are left to their own end time."""
        refs: list[SilenceRef] = []
        for name in was_firing:
            tracker = trackers.get(name)
            if tracker is not None and tracker.state is AlertState.FIRING:
                continue
            self.local.pop(name, None)
            rule = tracker.rule if tracker is not None else self.rules.get(name)
            if rule is None:  # an alert that resolved and went (its endpoint no longer polled)
                continue
            for url, silence in self.covering(rule):
                if silence.made_by_syncmon or (url, silence.id) in self.created:
                    refs.append((url, silence.id))
        self._hide(refs)
        return refs


def ack_target(
    selected: str | None, trackers: Mapping[str, AlertTracker], book: AckBook
) -> tuple[bool, AlertTracker] | None:
    """What `a` means: (True, tracker) to un-acknowledge the selected acked alert, (False,
    tracker) to acknowledge a firing one — the selected, or the only one unacknowledged —
    or None when no alert can be meant."""
    tracker = trackers.get(selected or "")
    if tracker is not None and book.ack_for(tracker.rule) is not None:
        return True, tracker
    if tracker is not None and tracker.firing:
        return False, tracker
    unacked = [t for t in trackers.values() if t.firing and book.ack_for(t.rule) is None]
    return (False, unacked[0]) if len(unacked) == 1 else None
