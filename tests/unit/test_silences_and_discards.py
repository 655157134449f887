"""Pure pieces behind shared acks and merging: Alertmanager matcher semantics (silences cover
alerts the way Alertmanager mutes them) and what keep-local/keep-remote throws away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syncmon.core.conflicts import Conflict, Discarded, Resolution, discarded_fields
from syncmon.core.silences import ACK_COMMENT, Matcher, Silence, covering

LABELS = {"alertname": "Endpoint Down", "severity": "critical", "service": "sync"}
T0 = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def silence_json(matchers: object, **extra: object) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "a0b1c2d3-0000-4000-8000-000000000001",
        "matchers": matchers,
        "createdBy": "alice",
        "comment": "looking at it",
        "startsAt": "2026-11-27T03:00:00.000Z",
        "endsAt": "2026-11-27T15:00:00.000Z",
        "status": {"state": "active"},
    }
    body.update(extra)
    return body


@pytest.mark.parametrize(
    "matcher,covers",
    [
        (Matcher("alertname", "Endpoint Down"), True),
        (Matcher("alertname", "Other"), False),
        (Matcher("alertname", "Endpoint.*", is_regex=True), True),
        (Matcher("alertname", "Endpoint", is_regex=True), False),  # anchored, as Alertmanager
        (Matcher("severity", "critical", is_equal=False), False),
        (Matcher("severity", "warning", is_equal=False), True),
        (Matcher("team", ""), True),  # a missing label matches the empty string
        (Matcher("team", "mobile"), False),
        (Matcher("alertname", "(", is_regex=True), False),  # an invalid regex never matches
    ],
)
def test_matchers_follow_alertmanager_semantics(matcher: Matcher, covers: bool) -> None:
    assert matcher.holds(LABELS) is covers


def test_a_silence_covers_when_every_matcher_holds() -> None:
    silence = Silence.from_json(
        silence_json(
            [
                {"name": "alertname", "value": "Endpoint Down", "isRegex": False, "isEqual": True},
                {"name": "service", "value": "sync", "isRegex": False},
            ]
        )
    )
    assert silence.covers(LABELS)
    assert not silence.covers({**LABELS, "service": "billing"})
    assert silence.created_by == "alice" and silence.ends_at == T0 + timedelta(hours=12)
    assert not silence.made_by_syncmon


def test_only_active_silences_cover_the_longest_first() -> None:
    matcher = [{"name": "alertname", "value": "Endpoint Down"}]
    short = Silence.from_json(silence_json(matcher, id="1", endsAt="2026-11-27T04:00:00Z"))
    long = Silence.from_json(silence_json(matcher, id="2", endsAt="2026-11-27T09:00:00Z"))
    expired = Silence.from_json(silence_json(matcher, id="3", status={"state": "expired"}))
    assert [s.id for s in covering([short, expired, long], LABELS)] == ["2", "1"]


def test_syncmon_silences_are_recognised_by_their_comment() -> None:
    silence = Silence.from_json(silence_json([], comment=f"{ACK_COMMENT} bob"))
    assert silence.made_by_syncmon
    assert not silence.covers(LABELS)  # no matcher: covers nothing (Alertmanager refuses it)


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"matchers": []},
        silence_json("not a list"),
        silence_json([{"value": "x"}]),
        silence_json([], endsAt="tomorrow"),
        silence_json([], endsAt="2026-11-27T15:00:00"),  # no offset
    ],
)
def test_malformed_silences_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        Silence.from_json(bad)


def conflict(
    local: dict[str, Any], remote: dict[str, Any], base: dict[str, Any] | None = None
) -> Conflict:
    return Conflict("id", "user", "transaction", "txn", None, 1, local, remote, base)


def test_keep_local_discards_every_remote_field_that_differs() -> None:
    c = conflict(
        {"amount": 10, "memo": "same", "only_local": True},
        {"amount": 12, "memo": "same", "only_remote": "x"},
    )
    assert discarded_fields(c, Resolution.KEEP_LOCAL) == [
        Discarded("amount", 12, 10),
        Discarded("only_remote", "x", None, kept_missing=True),
    ]
    assert discarded_fields(c, Resolution.KEEP_REMOTE) == [
        Discarded("amount", 10, 12),
        Discarded("only_local", True, None, kept_missing=True),
    ]


def test_equal_json_values_are_not_discarded() -> None:
    c = conflict({"n": 1, "nested": {"a": [1, 2.0]}}, {"n": 1.0, "nested": {"a": [1.0, 2]}})
    assert discarded_fields(c, Resolution.KEEP_LOCAL) == []


def test_true_is_not_one_and_null_is_not_absent() -> None:
    c = conflict({"flag": 1, "note": None}, {"flag": True})
    assert discarded_fields(c, Resolution.KEEP_LOCAL) == [Discarded("flag", True, 1)]
    assert discarded_fields(c, Resolution.KEEP_REMOTE) == [
        Discarded("flag", 1, True),
        Discarded("note", None, None, kept_missing=True),
    ]


def test_a_merge_has_no_list_of_its_own() -> None:
    assert discarded_fields(conflict({"a": 1}, {"a": 2}), Resolution.MERGE) == []
