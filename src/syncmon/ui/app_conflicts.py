"""The app's conflicts flow: counting the open ones each poll, the list (`c`), and sending a
resolution through the `ConflictsPort`. Screens post `ConflictsWanted` and `ResolveRequested`;
the workers here answer them, so a resolution in flight outlives the screen that asked.
"""

from __future__ import annotations

from textual import work

from syncmon.core.conflicts import OutcomeKind, ResolveRequest
from syncmon.ui.app_base import DashboardBase
from syncmon.ui.messages import ConflictsLoaded, ConflictsWanted, ResolveAnswered, ResolveRequested
from syncmon.ui.screens.conflict_detail import ConflictDetailScreen
from syncmon.ui.screens.conflicts import ConflictsScreen


class ConflictHandlers(DashboardBase):
    @work(exclusive=True, group="conflict-count")
    async def count_conflicts(self) -> None:
        self.post_message(ConflictsLoaded(await self.conflicts.list_open()))

    def on_conflicts_wanted(self, message: ConflictsWanted) -> None:
        """A conflicts screen asks for a fresh list (`r`, or shown again): read it now."""
        message.stop()
        self._counting = True
        self.count_conflicts()

    def on_conflicts_loaded(self, message: ConflictsLoaded) -> None:
        self._counting = False
        result = message.result
        self.model.apply_conflicts(len(result.conflicts), result.error, self.clock())
        for screen in self.screen_stack:  # the list is live too: the same answer, every poll
            if isinstance(screen, ConflictsScreen):
                screen.show(result)
        self.publish()

    def on_resolve_requested(self, message: ResolveRequested) -> None:
        message.stop()
        self.resolve(message.request)

    @work(exclusive=False, group="resolve")
    async def resolve(self, request: ResolveRequest) -> None:
        """The app's worker, not the screen's: escape mid-request never cancels the POST."""
        self.post_message(ResolveAnswered(request, await self.conflicts.resolve(request)))

    def on_resolve_answered(self, message: ResolveAnswered) -> None:
        request, outcome = message.request, message.outcome
        if outcome.kind is OutcomeKind.RESOLVED:
            self.resolved_here.add(request.conflict.id)  # it leaves the list unmarked
        shown = False
        for screen in self.screen_stack:
            if isinstance(screen, ConflictDetailScreen) and screen.request is request:
                screen.answered(request, outcome)
                shown = True
        if not shown:  # the engineer left the detail before the answer came
            entity = f"{request.conflict.entity_type} {request.conflict.entity_id}"
            if outcome.kind is OutcomeKind.RESOLVED:
                self._notify_plain(f"conflict {entity} resolved")
            else:
                why = f"{outcome.kind.value}: {outcome.message}"
                self._notify_plain(f"conflict {entity} NOT resolved ({why})", "warning")
        self._counting = True
        self.count_conflicts()

    def action_conflicts(self) -> None:
        def back(_: None) -> None:
            if not self._counting:
                self._counting = True
                self.count_conflicts()

        at_time = self.schedule.at is not None
        screen = ConflictsScreen(
            self.conflicts.resolved_by, self.clock, ours=self.resolved_here, at_time=at_time
        )
        self.push_screen(screen, back)
