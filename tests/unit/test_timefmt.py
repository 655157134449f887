"""Moments told to people: the reader's zone decides "today", whatever the hour in UTC.

The since column once failed a test every day from 15:00 to 15:41 UTC, while Tokyo passed
midnight: these tests walk that boundary (and others) with the clock and zone injected.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from syncmon.core.episodes import Since, since_clock, since_text
from syncmon.core.timefmt import (
    day_clock,
    iso_local,
    iso_utc,
    minute_clock,
    minute_with_offset,
    parse_iso,
)

ZONES = ["Asia/Tokyo", "America/New_York", "Australia/Sydney", "UTC", "Pacific/Kiritimati"]


def _local_midnight(zone: str) -> datetime:
    """A reader's midnight, as an aware UTC moment, on an ordinary day."""
    return datetime(2026, 12, 6, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.mark.parametrize("zone", ZONES)
def test_a_start_before_the_readers_midnight_is_told_with_its_date_after_it(zone: str) -> None:
    tz = ZoneInfo(zone)
    midnight = _local_midnight(zone)
    since = midnight - timedelta(minutes=20)
    just_before, just_after = midnight - timedelta(seconds=1), midnight + timedelta(minutes=21)
    start = since.astimezone(tz)
    assert day_clock(since, just_before, tz=tz) == start.strftime("%H:%M:%S")
    assert day_clock(since, just_after, tz=tz) == start.strftime("%Y-%m-%d %H:%M:%S")
    assert day_clock(since, just_after, tz=tz).startswith("2026-12-05 23:40")


@pytest.mark.parametrize("zone", ZONES)
def test_the_same_moments_read_in_another_zone_can_be_the_same_day(zone: str) -> None:
    """Tokyo's midnight is mid-afternoon in New York: no date there."""
    tokyo_midnight = _local_midnight("Asia/Tokyo")
    since, now = tokyo_midnight - timedelta(minutes=20), tokyo_midnight + timedelta(minutes=21)
    tz = ZoneInfo(zone)
    same_day = since.astimezone(tz).date() == now.astimezone(tz).date()
    told = day_clock(since, now, tz=tz)
    assert (len(told) == len("23:40:00")) is same_day
    assert told.endswith(since.astimezone(tz).strftime("%H:%M:%S"))


def test_since_text_says_the_age_and_whether_it_was_found_or_seen() -> None:
    tz = ZoneInfo("Asia/Tokyo")
    now = _local_midnight("Asia/Tokyo") + timedelta(minutes=21)
    found = Since(now - timedelta(minutes=41))
    seen = Since(now - timedelta(minutes=41), seen=True)
    assert since_text(found, now, tz=tz) == "2026-12-05 23:40:00 (41m ago)"
    assert since_text(seen, now, tz=tz) == "2026-12-05 23:40:00 (41m ago), first seen"
    assert since_clock(Since(now), now, tz=tz) == "00:21:00"
    assert since_text(Since(now), now, tz=tz) == "00:21:00 (just now)"


def test_minute_clock_adds_month_and_day_only_on_another_day() -> None:
    tz = ZoneInfo("Australia/Sydney")
    midnight = _local_midnight("Australia/Sydney")
    assert minute_clock(
        midnight - timedelta(minutes=2), midnight - timedelta(minutes=1), tz=tz
    ) == ("23:58")
    assert minute_clock(
        midnight - timedelta(minutes=2), midnight + timedelta(minutes=1), tz=tz
    ) == ("12-05 23:58")


def test_iso_forms_and_parsing_agree() -> None:
    moment = datetime(2026, 11, 1, 6, 30, 15, 123456, tzinfo=UTC)
    assert iso_utc(moment) == "2026-11-01T06:30:15.123+00:00"
    assert iso_utc(moment, ms=False, z=True) == "2026-11-01T06:30:15Z"
    assert iso_local(moment, tz=ZoneInfo("America/New_York")) == "2026-11-01T01:30:15-05:00"
    assert parse_iso("2026-11-01T06:30:15.123Z") == moment.replace(microsecond=123000)
    assert parse_iso("2026-11-01t06:30:15z").tzinfo is not None
    assert parse_iso("2026-11-01T06:30:15").tzinfo is None  # each caller decides
    with pytest.raises(ValueError):
        parse_iso("yesterday")


def test_minute_with_offset_names_the_zone_it_was_read_in() -> None:
    """The `--at` badge and the timeline's span: the offset changes across a DST switch."""
    before = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, the first pass
    after = before + timedelta(hours=1)  # 01:30 EST, the second pass: same wall time
    tz = ZoneInfo("America/New_York")
    assert minute_with_offset(before, tz=tz) == "11-01 01:30 -0400"
    assert minute_with_offset(after, tz=tz) == "11-01 01:30 -0500"
