"""The writers' zone, read from a live connection: which zone their NOW() ran in, and where a
repeated hour's second pass begins in a table (the pure mapping is `writer_clock.py`).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from syncmon.core.clock import Clock
from syncmon.core.metrics import Source
from syncmon.sources import sql
from syncmon.sources.writer_clock import WriterClock

# A row whose wall time lies this far below an earlier-written one's starts a repeated
# hour's second pass (a writer's transaction rarely waits this long before it inserts).
FOLD_DROP = timedelta(minutes=5)
FOLD_EDGE = timedelta(minutes=10)


class WritersZone:
    """Per process: the zone (asked once when it is not an IANA name) and each table's
    repeated-hour switches (found once per table and change)."""

    def __init__(self, timestamp_timezone: str | None, schema: str, clock: Clock) -> None:
        self.timestamp_timezone = timestamp_timezone
        self.schema = schema
        self.clock = clock  # has a repeated hour's change happened yet
        self._fixed_zone: tzinfo | None = None
        self._fold_switches: dict[tuple[Source, datetime], int] = {}

    async def resolve_folds(
        self, source: Source, conn: asyncpg.Connection, clock: WriterClock
    ) -> WriterClock:
        """Tell the two passes of a repeated hour apart (writer_clock.py): found once per
        table and change, and only once the change has happened (before it, every row of
        the hour is of the first pass)."""
        now = self.clock()
        for transition in clock.unresolved():
            key = (source, transition.at)
            repeated = transition.repeated
            if key in self._fold_switches or repeated is None or transition.at > now:
                continue
            for edge in (FOLD_EDGE, None):  # the hour's edges first; all of it if need be
                probe = sql.fold_switch(
                    sql.qualified(self.schema, source.value), repeated, FOLD_DROP, edge
                )
                switch = await conn.fetchval(probe.sql, *probe.args)
                if switch is not None:
                    self._fold_switches[key] = int(switch)
                    break
            # else no row of the second pass yet: ask again next time
        known = {at: x for (s, at), x in self._fold_switches.items() if s is source}
        return clock.with_switches(known) if known else clock

    async def zone(self, conn: asyncpg.Connection) -> tzinfo:
        """The zone the writers' NOW() ran in: the override, else the session's TimeZone.

        asyncpg tracks TimeZone from the server's ParameterStatus, so this costs no query
        unless the zone is not an IANA name (e.g. a POSIX offset), when we ask once.
        """
        name = str(self.timestamp_timezone or getattr(conn.get_settings(), "TimeZone", "UTC"))
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            if self._fixed_zone is None:
                seconds = await conn.fetchval("SELECT extract(timezone FROM now())::int")
                self._fixed_zone = timezone(timedelta(seconds=seconds), name)
            return self._fixed_zone
