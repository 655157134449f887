"""Property tests over hostile input (SPEC §12, issue 9): whatever the bytes, each parser
returns a value or raises the project's own error type, and every config error has a place.

Example counts are bounded so the whole module runs in a few seconds in CI; locally,
`HYPOTHESIS_PROFILE=deep pytest tests/unit/test_fuzz.py` explores a hundred times more.
"""

from __future__ import annotations

import json
import math
import os
from datetime import timedelta

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncmon.config.loader import ConfigInvalid, load_config_bytes
from syncmon.core.conditions import (
    THRESHOLD_RANGES,
    Condition,
    ConditionError,
    comparisons,
    parse_condition,
)
from syncmon.core.durations import MAX_DURATION, DurationError, parse_duration
from syncmon.core.metrics import CATALOGUE as METRICS
from syncmon.sources.health import MAX_BODY, classify
from syncmon.transport.bounded_json import MAX_DEPTH, JsonRejected, decode

# CI is derandomized (the same examples every run: a red CI means a change broke
# something); `HYPOTHESIS_PROFILE=deep` explores at random and at length.
settings.register_profile(
    "ci",
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "deep", max_examples=15_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# --- the condition language ---------------------------------------------------------------

METRIC_NAMES = st.sampled_from([*METRICS, "health.cpu", "health.queue.depth", "sync_falure"])
NUMBERS = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: f"{f:f}"),
    st.text("0123456789", min_size=1, max_size=500),  # 400 digits and more
    st.sampled_from(["1e400", ".5", "5.", "-0", "00", "-", "1.2.3"]),
)
CONDITION_PARTS = st.one_of(
    METRIC_NAMES,
    st.sampled_from([">", ">=", "<", "<=", "==", "!=", "=", "and", "or", "AND", "(", ")"]),
    st.tuples(NUMBERS, st.sampled_from(["", "%", "ms", "s", "m", "h", "d", "x"])).map("".join),
    st.text(max_size=5),
)


def check_condition(text: str) -> None:
    try:
        condition: Condition = parse_condition(text)
    except ConditionError as exc:
        assert 0 <= exc.offset <= len(text), (exc.offset, text)
        assert exc.message
        return
    for comparison in comparisons(condition):
        low, high, _ = THRESHOLD_RANGES[comparison.metric.unit]
        assert math.isfinite(comparison.threshold) and low <= comparison.threshold <= high


@given(st.text(max_size=200))
def test_any_text_is_a_condition_or_a_condition_error_with_a_column(text: str) -> None:
    check_condition(text)


@given(st.lists(CONDITION_PARTS, max_size=12).map(" ".join))
def test_condition_shaped_text_never_escapes_the_parser(text: str) -> None:
    check_condition(text)


# --- durations ------------------------------------------------------------------------------

DURATION_SHAPED = st.lists(
    st.tuples(NUMBERS, st.sampled_from(["ms", "s", "m", "h", "d", "", "us", "M"])).map("".join),
    min_size=1,
    max_size=4,
).map("".join)


@given(st.one_of(st.text(max_size=60), DURATION_SHAPED))
def test_any_text_is_a_bounded_duration_or_a_duration_error(text: str) -> None:
    try:
        value = parse_duration(text)
    except DurationError as exc:
        assert str(exc)
        return
    assert timedelta(0) <= value <= MAX_DURATION


# --- the config loader ----------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    NUMBERS,
    DURATION_SHAPED,
    st.lists(CONDITION_PARTS, max_size=6).map(" ".join),
)


def nested(leaves: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """Lists and maps of `leaves`, a few levels deep."""
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
        ),
        max_leaves=25,
    )


VALUES = nested(SCALARS)
RULE_KEYS = st.sampled_from(
    [
        "name",
        "condition",
        "severity",
        "window",
        "for",
        "keep_firing_for",
        "min_samples",
        "labels",
        "annotations",
        "serverity",
    ]
)
SOURCE_DOCUMENTS = st.fixed_dictionaries(
    {
        "api": st.dictionaries(
            st.sampled_from(["base_url", "timeout", "conflicts_timeout", "endpoints", "ca_bundle"]),
            VALUES,
            max_size=3,
        ),
        "database": st.dictionaries(
            st.sampled_from(["dsn", "timestamp_timezone", "plaid_operation_pattern"]),
            VALUES,
            max_size=3,
        ),
        "interval": SCALARS,
    }
)
CONFIG_DOCUMENTS = st.fixed_dictionaries(
    {
        "alerts": st.lists(st.dictionaries(RULE_KEYS, VALUES, max_size=8), max_size=3),
        "targets": st.dictionaries(st.sampled_from(list(METRICS)), SCALARS, max_size=3),
        "sources": SOURCE_DOCUMENTS,
    }
)
YAML_TOKENS = st.sampled_from(
    [
        "alerts:",
        "\n",
        "  ",
        "- ",
        "name: ",
        "condition: ",
        "[",
        "]",
        "{",
        "}",
        ",",
        ": ",
        "&a ",
        "*a",
        "!!python/object ",
        "'",
        '"',
        "\\x1b",
        "\x1b",
        "\x00",
        "\ufeff",
        "#",
        "|",
        ">",
        "${X}",
        "${SECRET_TOKEN}",
        "99999999999999999999d",
        "1e400",
        "\xff",
    ]
)


def encode(document: object) -> bytes:
    return yaml.safe_dump(document, allow_unicode=True).encode("utf-8", "surrogatepass")


def mutate(data: bytes, position: int, inserted: bytes) -> bytes:
    cut = position % (len(data) + 1)
    return data[:cut] + inserted + data[cut:]


def check_config(data: bytes) -> None:
    breaks = (b"\n", b"\r", "\x85".encode(), "\u2028".encode(), "\u2029".encode())
    lines = sum(data.count(b) for b in breaks) + 2  # YAML's line breaks, and one past the end
    try:
        load_config_bytes(data, "fuzz.yaml", {"X": "1", "SECRET_TOKEN": "s3cr3t-token"})
    except ConfigInvalid as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.file == "fuzz.yaml"
            assert 1 <= problem.line <= lines and problem.column >= 1, problem
            assert problem.message
            assert "s3cr3t-token" not in problem.message


@given(st.binary(max_size=400))
def test_any_bytes_load_or_give_positioned_problems(data: bytes) -> None:
    check_config(data)


@given(st.lists(YAML_TOKENS, max_size=40).map("".join))
def test_yaml_shaped_text_loads_or_gives_positioned_problems(text: str) -> None:
    check_config(text.encode("utf-8", "surrogatepass"))


@given(CONFIG_DOCUMENTS, st.integers(0, 10_000), st.binary(max_size=3))
def test_config_shaped_documents_load_or_give_positioned_problems(
    document: dict[str, object], position: int, inserted: bytes
) -> None:
    data = encode(document)
    check_config(data)
    check_config(mutate(data, position, inserted))


# --- health bodies and untrusted JSON -------------------------------------------------------

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
JSON_VALUES = nested(JSON_SCALARS)
JSON_TOKENS = st.sampled_from(
    [
        '{"status": ',
        '"pass"',
        '"WARN"',
        '"down"',
        '"checks": ',
        "[",
        "]",
        "{",
        "}",
        ",",
        ":",
        "1e400",
        "-1e400",
        "NaN",
        "Infinity",
        "9" * 400,
        '"\\ud800"',
        '"\\',
        "\x00",
        "\xff",
        '"a"',
        "null",
        "true",
    ]
)


def check_body(body: bytes, truncated: bool) -> None:
    status, note = classify(body, truncated)
    assert status in ("up", "degraded", "down")
    assert note is None or (isinstance(note, str) and len(note) < 300)
    try:
        decode(body)
    except JsonRejected as exc:
        assert str(exc)


@given(st.binary(max_size=300), st.booleans())
def test_any_body_is_classified(body: bytes, truncated: bool) -> None:
    check_body(body, truncated)


@given(st.lists(JSON_TOKENS, max_size=40).map("".join))
def test_json_shaped_bodies_are_classified(text: str) -> None:
    check_body(text.encode("utf-8", "surrogatepass"), False)


def depth_of(value: object) -> int:
    """Nesting of arrays and objects in a JSON value, counted independently of syncmon."""
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    return 0


@given(JSON_VALUES, st.sampled_from(["pass", "warn", "fail", "UP", "??"]), st.integers(0, 200))
def test_nested_bodies_are_classified_at_any_depth(checks: object, status: str, depth: int) -> None:
    wrapped = "[" * depth + json.dumps(checks) + "]" * depth
    body = f'{{"status": "{status}", "checks": {wrapped}}}'.encode()
    result, note = classify(body, len(body) > MAX_BODY)
    if 1 + depth + depth_of(checks) > MAX_DEPTH:
        assert result == "up" and "nested deeper than 64 levels" in (note or "")
    else:
        expected = {"pass": "up", "UP": "up", "warn": "degraded", "fail": "down"}
        assert result == expected.get(status, "degraded")
        assert note is None or len(note) < 300
