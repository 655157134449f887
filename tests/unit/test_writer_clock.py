"""The wall-time ranges and UTC mapping of a writers' zone with DST (sources/writer_clock.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from syncmon.sources.writer_clock import transitions, writer_clock

NEW_YORK = ZoneInfo("America/New_York")
FALL = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)  # 02:00 EDT -> 01:00 EST
SPRING = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 02:00 EST -> 03:00 EDT
H = timedelta(hours=1)
M = timedelta(minutes=1)


def test_changes_are_found_to_the_second() -> None:
    [fall] = transitions(NEW_YORK, FALL - 3 * H, FALL + 3 * H)
    assert (fall.at, fall.before, fall.after) == (FALL, -4 * H, -5 * H)
    assert fall.repeated == (datetime(2026, 11, 1, 1), datetime(2026, 11, 1, 2))
    [spring] = transitions(NEW_YORK, SPRING - 3 * H, SPRING + 3 * H)
    assert spring.at == SPRING and spring.repeated is None
    assert transitions(NEW_YORK, FALL + 3 * H, FALL + 30 * H) == []


def test_a_window_across_the_fall_back_scans_both_sides_instead_of_nothing() -> None:
    clock = writer_clock(NEW_YORK, FALL - 3 * M, FALL + 2 * M)
    # UTC 05:57 is 01:57 EDT; 06:02 is 01:02 EST: the scan runs from 01:00 to 01:59:59...
    assert clock.scan == (datetime(2026, 11, 1, 1, 0), datetime(2026, 11, 1, 2, 0))
    assert not clock.exact and clock.unresolved()


def test_a_window_inside_the_second_pass_knows_rows_may_be_of_the_first() -> None:
    clock = writer_clock(NEW_YORK, FALL + 20 * M, FALL + 25 * M)
    assert clock.scan == (datetime(2026, 11, 1, 1, 20), datetime(2026, 11, 1, 1, 25))
    assert not clock.exact
    assert clock.with_switches({FALL: 1234}).unresolved() == []


def test_far_from_any_change_the_scan_is_exact_and_one_offset() -> None:
    at = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    clock = writer_clock(NEW_YORK, at - 5 * M, at)
    assert clock.exact and clock.offset == -4 * H
    assert clock.scan == (datetime(2026, 7, 1, 7, 55), datetime(2026, 7, 1, 8, 0))
    assert writer_clock(ZoneInfo("UTC"), at - 5 * M, at).identity


def test_spring_forward_scans_across_the_missing_hour() -> None:
    clock = writer_clock(NEW_YORK, SPRING - 3 * M, SPRING + 2 * M)
    assert clock.scan == (datetime(2026, 3, 8, 1, 57), datetime(2026, 3, 8, 3, 2))
    assert not clock.exact and not clock.unresolved()
