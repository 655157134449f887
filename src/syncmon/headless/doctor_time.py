"""Doctor's finding about a writers' zone with daylight saving time (SPEC §1.1, §14). No I/O.
Rows from the future are named by `writer_clock.ahead_note`, as the checks name them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syncmon.sources.writer_clock import transitions


def dst_advice(zone: str, database: str, now: datetime) -> tuple[str, ...] | None:
    """Naive timestamps in a zone with daylight saving time repeat an hour every fall-back:
    the warning and its fix (statements end with `;`), or None for a zone without DST
    (in the year before `now`)."""
    if not observes_dst(zone, now):
        return None
    return (
        f"the writers' zone {zone} observes daylight saving time: their NOW() stamps the "
        "`timestamp` columns with wall time, which skips an hour each spring and repeats one "
        "each fall. syncmon reads both changes exactly (the repeated hour by write order: "
        "README, 'Daylight saving time'); other readers of these tables will not. The fix is "
        "for the writers to stamp UTC",
        f"ALTER DATABASE {_quote_ident(database)} SET timezone TO 'UTC';",
        "(and ALTER ROLE … SET timezone for a writer role that sets its own). New sessions "
        f"then stamp UTC; rows written before stay in {zone} and are read an offset off "
        "until they leave the lookback. Migrating the columns to timestamptz (USING "
        f"timestamp AT TIME ZONE '{zone}') is the other cure, but syncmon reads naive "
        "columns only today",
    )


def observes_dst(zone: str, now: datetime) -> bool:
    """True when `zone` changed its UTC offset in the year before `now` (IANA names only)."""
    try:
        info = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return bool(transitions(info, now - timedelta(days=366), now))


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
