"""The app's acknowledgement flow: `a`, the ack and un-ack dialogs, and the workers that
make, read and expire Alertmanager silences through the `SilencesPort`. The decisions are
`AckBook`'s (acks.py); here are the workers and the dialogs.
"""

from __future__ import annotations

from datetime import datetime

from textual import work

from syncmon.core.rules import AlertRule
from syncmon.core.silences import SilenceRef
from syncmon.ui.acks import ack_target
from syncmon.ui.app_base import DashboardBase
from syncmon.ui.messages import SilencesExpired, SilencesMade, SilencesRead
from syncmon.ui.panels.alerts import AlertsTable
from syncmon.ui.present import ack_view
from syncmon.ui.screens.ack_dialog import AckDialog, AckRequest, AckTarget
from syncmon.ui.screens.unack import UnackScreen


class AckHandlers(DashboardBase):
    @work(exclusive=True, group="silences")
    async def read_silences(self) -> None:
        self.post_message(SilencesRead(await self.silences.read_all()))

    def on_silences_read(self, message: SilencesRead) -> None:
        self._tell(self.acks.apply_reads(message.reads))
        self.publish()

    def action_acknowledge(self, rule_name: str | None = None) -> None:
        """`a`: the alert named (detail screen) or selected (list): the ack dialog, or the
        offer to un-acknowledge an acked one."""
        screen = self.dashboard
        selected = rule_name or (screen.query_one(AlertsTable).selected_rule() if screen else None)
        target = ack_target(selected, self.alerts.trackers, self.acks)
        if target is None:
            self._notify_plain(
                "select a firing alert (↑/↓ in the alerts panel) to acknowledge", "warning"
            )
            return
        undo, tracker = target
        rule = tracker.rule
        if undo:
            self._offer_unack(rule)
            return
        row = next((r for r in self.view.alerts.rows if r.rule == rule.key), None)
        since = f"{row.since_age} ago ({row.since_clock})" if row and row.since_age else None
        dialog = AckDialog(AckTarget(rule.key, row.value if row else "—", since, self.acks.shared))
        self.push_screen(dialog, lambda request: self._acknowledge(rule, request))

    def _acknowledge(self, rule: AlertRule, request: AckRequest | None) -> None:
        """The dialog answered: escape acks nothing; else the ack, timed or until resolved."""
        tracker = self.alerts.trackers.get(rule.key)
        if request is None or tracker is None or not tracker.firing:
            if request is not None:
                self._notify_plain(f"{rule.key} is no longer firing: nothing acknowledged")
            return
        now = self.clock()
        until = now + request.duration if request.duration else None
        self.acks.acknowledge(rule, self.operator, now, until=until, comment=request.comment)
        if self.acks.shared:
            self.make_silences(rule, until, request.comment)
        else:
            self._notify_plain(f"acknowledged {rule.key} as {self.operator} (local to this app)")
        self.publish()

    def _offer_unack(self, rule: AlertRule) -> None:
        ack = self.acks.ack_for(rule)
        assert ack is not None

        def answered(yes: bool | None) -> None:
            if yes:
                refs = self.acks.unacknowledge(rule)
                self.deliveries.expiring(rule.key, refs)
                if refs:
                    self.expire_silences(refs, quiet=False)
                self._notify_plain(f"un-acknowledged {rule.key}")
                self.publish()

        self.push_screen(UnackScreen(rule.key, ack_view(ack, self.clock())), answered)

    @work(group="silence-writes")
    async def make_silences(
        self, rule: AlertRule, until: datetime | None = None, comment: str = ""
    ) -> None:
        now = self.clock()
        made = await self.silences.create_all(
            rule, self.operator, now, until=until, comment=comment
        )
        self.post_message(SilencesMade(rule, made))

    def on_silences_made(self, message: SilencesMade) -> None:
        self.deliveries.made(message.rule.key, message.made, self.clock())
        tracker = self.alerts.trackers.get(message.rule.key)
        firing = tracker is not None and tracker.firing
        expire, notices = self.acks.apply_made(message.rule, message.made, firing)
        self._tell(notices)
        if expire:
            self.expire_silences(expire, quiet=True)
        self.read_silences()
        self.publish()

    @work(group="silence-writes")
    async def expire_silences(self, refs: list[SilenceRef], quiet: bool) -> None:
        self.post_message(SilencesExpired(await self.silences.expire_all(refs), quiet))

    def on_silences_expired(self, message: SilencesExpired) -> None:
        self.deliveries.expired(message.results, self.clock())
        self._tell(self.acks.apply_expired(message.results, message.quiet))
        self.read_silences()
        self.publish()
