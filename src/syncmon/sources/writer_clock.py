"""Naive `timestamp` columns read in the writers' zone, exactly across DST (SPEC §1.1, §14).

A writer's `NOW()` in a zone with daylight saving time stamps wall time. At spring-forward
an hour of wall time never occurs (harmless); at fall-back an hour occurs twice, and the
rows of both passes carry the same values. Converting a UTC window's bounds to wall time
and comparing (what syncmon did before) gives an inverted, empty range for a window that
straddles the change, and reads both passes for a window inside the repeated hour.

So a statement over the UTC range [lo, hi):
- scans the wall-time range that covers every instant of [lo, hi) (`scan`), so a window is
  never empty because of a change, and keeps the scan on the `timestamp` index;
- converts each scanned row to UTC in SQL, piece by piece between the zone's transitions
  (`pieces`), and filters and buckets by that UTC instant;
- reads a row of a repeated hour as the second pass when its transaction id comes at or
  after the first row written after the change (`FoldSwitch`, found once per table and
  change), else as the first: the fold that keeps time monotonic in write order.

Pure: no I/O. `sql.py` turns a `WriterClock` into SQL; `database.py` finds the switches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from syncmon.core.durations import format_duration

# Offsets run from UTC-12 to UTC+14: a wall-time value can lie this far from its instant.
_REACH = timedelta(hours=26)
_PROBE = timedelta(minutes=30)  # no zone has changed its offset twice within 30 minutes


@dataclass(frozen=True)
class Transition:
    """A change of the zone's UTC offset at the instant `at` (UTC)."""

    at: datetime
    before: timedelta
    after: timedelta

    @property
    def repeated(self) -> tuple[datetime, datetime] | None:
        """The wall-time range that occurs twice (fall-back), as naive local values."""
        if self.after >= self.before:
            return None
        at = self.at.replace(tzinfo=None)
        return at + self.after, at + self.before


@dataclass(frozen=True)
class WriterClock:
    """How the wall-time values of one scan map to UTC.

    `offset` is the offset in effect before the first of `transitions` (or throughout when
    there is none); `switches` maps a fall-back's instant to the first transaction id of
    its second pass, when known.
    """

    scan: tuple[datetime, datetime]  # naive wall time, [lo, hi)
    offset: timedelta
    transitions: tuple[Transition, ...] = ()
    switches: dict[datetime, int] = field(default_factory=dict)
    zone: tzinfo = UTC

    @property
    def exact(self) -> bool:
        """True when the scan holds exactly the rows of the UTC range: no filter needed."""
        return not self.transitions

    @property
    def identity(self) -> bool:
        return self.exact and not self.offset

    def with_switches(self, switches: dict[datetime, int]) -> WriterClock:
        return WriterClock(self.scan, self.offset, self.transitions, dict(switches), self.zone)

    def wall(self, moment: datetime) -> datetime:
        """`moment` as the writers' NOW() would stamp it (naive wall time)."""
        return moment.astimezone(self.zone).replace(tzinfo=None)

    def instant(self, wall: datetime) -> datetime:
        """A wall time as an instant (the first pass of a repeated hour)."""
        return wall.replace(tzinfo=self.zone).astimezone(UTC)

    def unresolved(self) -> list[Transition]:
        """Fall-backs of this scan whose second pass is not yet told apart from the first."""
        return [t for t in self.transitions if t.repeated and t.at not in self.switches]


def offset_at(zone: tzinfo, moment: datetime) -> timedelta:
    return moment.astimezone(zone).utcoffset() or timedelta(0)


def transitions(zone: tzinfo, lo: datetime, hi: datetime) -> list[Transition]:
    """Every change of `zone`'s offset within [lo, hi], to the second."""
    found: list[Transition] = []
    probe, offset = lo, offset_at(zone, lo)
    while probe < hi:
        nxt = min(probe + _PROBE, hi)
        after = offset_at(zone, nxt)
        if after != offset:
            found.append(Transition(_first_with(zone, probe, nxt, after), offset, after))
            offset = after
        probe = nxt
    return found


def _first_with(zone: tzinfo, lo: datetime, hi: datetime, offset: timedelta) -> datetime:
    """The first whole second in (lo, hi] at which `zone` has `offset`."""
    a, b = int(lo.timestamp()), int(hi.timestamp())
    while b - a > 1:
        mid = (a + b) // 2
        if offset_at(zone, datetime.fromtimestamp(mid, UTC)) == offset:
            b = mid
        else:
            a = mid
    return datetime.fromtimestamp(b, UTC)


def writer_clock(zone: tzinfo, lo: datetime, hi: datetime) -> WriterClock:
    """The scan and the wall-time → UTC mapping for the UTC range [lo, hi)."""
    lo, hi = lo.astimezone(UTC), hi.astimezone(UTC)
    inside = transitions(zone, lo, hi)
    # The scan covers the wall time of every piece of [lo, hi) between transitions.
    bounds = [lo, *(t.at for t in inside if lo < t.at < hi), hi]
    offsets = [offset_at(zone, lo), *(t.after for t in inside if lo < t.at < hi)]
    naive = [b.replace(tzinfo=None) for b in bounds]
    scan_lo = min(start + o for start, o in zip(naive, offsets, strict=False))
    scan_hi = max(end + o for end, o in zip(naive[1:], offsets, strict=True))
    if scan_hi <= scan_lo:  # an empty UTC range: scan nothing, exactly
        return WriterClock((scan_lo, scan_lo), offsets[0], zone=zone)
    # Rows of the scan may come from instants outside [lo, hi) (the other pass of a repeated
    # hour): every transition whose wall-time effect touches the scan takes part.
    nearby = transitions(zone, lo - _REACH, hi + _REACH)
    relevant = [t for t in nearby if _touches(t, scan_lo, scan_hi)]
    if not relevant:
        return WriterClock((scan_lo, scan_hi), offsets[0], zone=zone)
    return WriterClock((scan_lo, scan_hi), relevant[0].before, tuple(relevant), zone=zone)


def _touches(t: Transition, scan_lo: datetime, scan_hi: datetime) -> bool:
    at = t.at.replace(tzinfo=None)
    first, last = at + min(t.before, t.after), at + max(t.before, t.after)
    return first < scan_hi and last > scan_lo


def format_ahead(ahead: timedelta) -> str:
    """How far the writers' clock runs ahead, as read from their newest row: whole minutes
    from two minutes up (the row is a few seconds old), else seconds. `10m`, `45s`."""
    seconds = ahead.total_seconds()
    if seconds >= 120:
        return format_duration(timedelta(minutes=round(seconds / 60)))
    return format_duration(timedelta(seconds=round(seconds)))


QUARTER_HOUR = timedelta(minutes=15)
ZONE_SLACK = timedelta(minutes=2)  # the writers' newest row may be this old


def ahead_note(table: str, ahead: timedelta, zone: str) -> str:
    """Rows from the future named for what they are. A zone mismatch moves them by whole
    quarter hours (every zone's offset is one); anything else is the writers' clock."""
    text = f"{table}: newest row is {format_ahead(ahead)} ahead of the database's now()"
    quarters = round(ahead / QUARTER_HOUR)
    if quarters >= 1 and abs(ahead - quarters * QUARTER_HOUR) <= ZONE_SLACK:
        return (
            f"{text} (read in {zone}): a whole number of quarter hours, so most likely the "
            "writers' zone differs: set database.timestamp_timezone to the zone their NOW() "
            "uses (if their clock runs ahead instead, fix its time sync); meanwhile its "
            "windows end at its newest row"
        )
    return (
        f"{text}: the writers' clock runs ahead (clock skew, not a time zone): fix their time "
        "sync (NTP); meanwhile its windows end at its newest row"
    )
