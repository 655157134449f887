"""What the dashboard app's parts share: its state, declared once, and the ways to show a
notice. `SyncmonApp` (app.py) builds the state; `AckHandlers` (app_acks.py) and
`ConflictHandlers` (app_conflicts.py) hold the handlers of one flow each.
"""

from __future__ import annotations

from textual.app import App
from textual.notifications import SeverityLevel
from textual.reactive import var

from syncmon.config.redaction import redact
from syncmon.config.settings import Settings
from syncmon.core.clock import Clock
from syncmon.core.text import sanitize
from syncmon.engine.evaluation import LiveAlerts
from syncmon.ui.acks import AckBook, Notice
from syncmon.ui.deliveries import DeliveryLog
from syncmon.ui.model import DashboardModel
from syncmon.ui.ports import ConflictsPort, DashboardEngine, SilencesPort
from syncmon.ui.schedule import PollSchedule
from syncmon.ui.screens.dashboard import DashboardScreen
from syncmon.ui.views import DashboardView


class DashboardBase(App[int]):
    """The state every flow of the app reads (set in `SyncmonApp.__init__`)."""

    view: var[DashboardView] = var(DashboardView, init=False)

    settings: Settings
    engine: DashboardEngine  # under `--from`, `NoDatabase`: the watchers poll
    conflicts: ConflictsPort
    silences: SilencesPort
    clock: Clock
    operator: str  # who acknowledges and resolves
    schedule: PollSchedule
    model: DashboardModel  # what the sources said
    alerts: LiveAlerts
    acks: AckBook
    deliveries: DeliveryLog  # the detail screen's "last delivery"
    resolved_here: set[str]  # conflicts this app resolved: not "elsewhere"
    _counting: bool  # a conflicts count is on its way

    def publish(self) -> None:
        """Rebuild the view from the state (SyncmonApp)."""
        raise NotImplementedError

    def _notify_plain(self, message: str, severity: SeverityLevel = "information") -> None:
        """Notices may quote a receiver's error text: no markup, no control characters."""
        text = sanitize(redact(message), single_line=True, limit=300)
        self.notify(text, severity=severity, markup=False)

    @property
    def dashboard(self) -> DashboardScreen | None:
        return next((s for s in self.screen_stack if isinstance(s, DashboardScreen)), None)

    def _tell(self, notices: list[Notice]) -> None:
        for message, severity in notices:
            self._notify_plain(message, severity)
