"""Who may read a watcher's state (SPEC §16): loopback, or a bearer token."""

from __future__ import annotations

import pytest

from syncmon.headless.serve import authorized, is_loopback, token_problem


@pytest.mark.parametrize("host", ["127.0.0.1", "127.9.8.7", "::1", "[::1]", "localhost"])
def test_loopback_needs_no_token(host: str) -> None:
    assert is_loopback(host)
    assert token_problem(host, None) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "watch-a.internal", ""])
def test_beyond_loopback_needs_a_token(host: str) -> None:
    assert not is_loopback(host)
    problem = token_problem(host, None)
    assert problem is not None and "SYNCMON_WATCH_TOKEN" in problem
    assert token_problem(host, "s3cret") is None


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("Bearer s3cret", True),
        ("bearer s3cret", True),
        ("Bearer  s3cret ", True),
        ("Bearer s3cre", False),
        ("Bearer s3cretX", False),
        ("Basic s3cret", False),
        ("s3cret", False),
        ("", False),
        (None, False),
        ("Bearer ünïcode", False),
    ],
)
def test_the_token_must_match_exactly(header: str | None, ok: bool) -> None:
    assert authorized(header, "s3cret") is ok


def test_without_a_token_everyone_on_loopback_may_read() -> None:
    assert authorized(None, None)
