"""A deadline message states the time really spent (issue 16 item 7)."""

from __future__ import annotations

import pytest

from syncmon.core.durations import elapsed_text


@pytest.mark.parametrize(
    ("elapsed", "budget", "said"),
    [
        (6.0, 6.0, "6s"),  # the budget ran out: named as configured
        (6.4, 6.0, "6s"),  # a timer that fires late still ran the budget out
        (5.96, 6.0, "6s"),  # within 50 ms of it
        (5.3, 6.0, "5.3s"),  # a shorter inner timeout fired: the real time, not the wait
        (0.49, 0.5, "0.5s"),
        (0.2, 0.5, "0.2s"),
    ],
)
def test_the_time_said_is_the_time_spent(elapsed: float, budget: float, said: str) -> None:
    assert elapsed_text(elapsed, budget) == said
