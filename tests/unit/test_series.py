"""promtool's expanding notation (SPEC §13), exactly: the examples of its documentation and the
rules behind them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncmon.ruletest.series import (
    MAX_VALUES,
    SeriesError,
    expand_numbers,
    expand_words,
    values,
)

WORDS = ("up", "degraded", "down")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-2+4x3", [-2, 2, 6, 10]),  # promtool's examples
        (" 1-2x4", [1, -1, -3, -5, -7]),
        (" 1x4", [1, 1, 1, 1, 1]),
        (" 1 _x3", [1, None, None, None]),  # a gap cannot step: _x3 is three, not four
        ("30x59", [30] * 60),
        ("0x29 6x29", [0] * 30 + [6] * 30),
        ("900+10x2", [900, 910, 920]),
        ("5", [5]),
        ("_", [None]),
        ("1.5+0.5x2 _ 7", [1.5, 2.0, 2.5, None, 7]),
        ("1e3x1", [1000, 1000]),
        ("3x0", [3]),
    ],
)
def test_numbers_expand_as_promtool_does(text: str, expected: list[float | None]) -> None:
    assert values(expand_numbers(text)) == expected


def test_words_repeat_like_numbers() -> None:
    assert values(expand_words("upx2 down _x2 degraded", WORDS)) == [
        "up",
        "up",
        "up",
        "down",
        None,
        None,
        "degraded",
    ]
    assert len(expand_words("upx29 downx29", WORDS)) == 60


@pytest.mark.parametrize(
    ("text", "offset", "fragment"),
    [
        ("30x59 abc", 6, "cannot read 'abc'"),
        ("1 2 stale", 4, "'stale'"),
        ("1+x3", 0, "cannot read"),
        ("1x", 0, "cannot read"),
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("1e400", 0, "double's range"),
        (f"1x{MAX_VALUES}", 0, f"more than {MAX_VALUES}"),
        (f"_x{MAX_VALUES + 1}", 0, f"more than {MAX_VALUES}"),
    ],
)
def test_a_bad_term_is_an_error_at_its_offset(text: str, offset: int, fragment: str) -> None:
    with pytest.raises(SeriesError) as info:
        expand_numbers(text)
    assert info.value.offset == offset
    assert fragment in info.value.message


def test_unknown_words_name_the_allowed_ones() -> None:
    with pytest.raises(SeriesError) as info:
        expand_words("upx3 dwn", WORDS)
    assert info.value.offset == 5
    assert "degraded | down | up" in info.value.message
    with pytest.raises(SeriesError):
        expand_words("up+1x3", WORDS)  # words do not step


def test_every_value_remembers_its_term() -> None:
    samples = expand_numbers("1x1  5")
    assert [s.offset for s in samples] == [0, 0, 5]


@given(
    start=st.integers(-1000, 1000),
    step=st.integers(-100, 100),
    repeats=st.integers(0, 200),
)
def test_a_plus_b_x_n_is_n_plus_one_values_in_arithmetic_progression(
    start: int, step: int, repeats: int
) -> None:
    sign = "+" if step >= 0 else "-"
    text = f"{start}{sign}{abs(step)}x{repeats}"
    assert values(expand_numbers(text)) == [start + i * step for i in range(repeats + 1)]
    assert values(expand_numbers(f"{start}x{repeats}")) == [start] * (repeats + 1)


@given(st.lists(st.sampled_from(["1", "2x3", "_", "_x2", "0+1x4"]), min_size=1, max_size=8))
def test_terms_concatenate(terms: list[str]) -> None:
    joined = values(expand_numbers(" ".join(terms)))
    assert joined == [v for term in terms for v in values(expand_numbers(term))]
