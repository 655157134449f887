"""Config edges (issue 16 item 9): `${NAME}` references — nested defaults expand, `$${` is an
escape, a reference that never closes is a `validate` error at its value — and `for` against
evaluation.lookback at its exact boundary."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncmon.config.env_refs import MAX_NESTING, expand
from syncmon.config.loader import (
    MAX_CONFIG_BYTES,
    ConfigInvalid,
    load_config,
    load_config_bytes,
    load_config_text,
)
from syncmon.config.settings import packaged_config

ENV = {"B": "bee", "EMPTY": "", "API_TOKEN": "tok-123456"}


@pytest.mark.parametrize(
    ("text", "expanded"),
    [
        ("${A:-${B}}", "bee"),  # the default is itself a reference
        ("${A:-${C:-x}}", "x"),  # nested twice
        ("${EMPTY:-${B}}", "bee"),  # empty counts as unset for :-
        ("${B:-${UNSET}}", "bee"),  # a default not used need not be set
        ("$${B}", "${B}"),  # the escape: a literal ${
        ("${A:-$${B}}", "${B}"),  # the escape inside a default
        ("x${B}y${B}", "xbeeybee"),
        ("${A:-}", ""),
        ("${5} costs $5 and $$", "${5} costs $5 and $$"),  # not references: as written
        ("${EMPTY}", ""),  # set but empty, no default: empty
    ],
)
def test_references_expand_as_a_shell_would(text: str, expanded: str) -> None:
    result = expand(text, ENV)
    assert (result.text, result.problems) == (expanded, [])


def test_an_unset_variable_without_default_is_a_problem_at_its_offset() -> None:
    result = expand("a ${NOPE} b", ENV)
    assert result.problems == [
        (2, "environment variable NOPE is not set (write ${NOPE:-default} to give a default)")
    ]


@pytest.mark.parametrize(("text", "offset"), [("${B", 0), ("x ${A:-${B", 7), ("${A:-x", 0)])
def test_an_unclosed_reference_is_a_problem_and_the_text_is_kept(text: str, offset: int) -> None:
    result = expand(text, ENV)
    assert result.text == text
    ((at, message),) = result.problems
    assert at == offset and "has no closing '}'" in message and "$${" in message


def test_nesting_is_bounded() -> None:
    deep = "${A:-" * (MAX_NESTING + 1) + "z" + "}" * (MAX_NESTING + 1)
    assert "nested deeper" in expand(deep, ENV).problems[0][1]
    fine = "${A:-" * MAX_NESTING + "z" + "}" * MAX_NESTING
    assert expand(fine, ENV).text == "z"


def test_a_secret_read_through_a_default_is_collected() -> None:
    result = expand("${A:-${API_TOKEN}}", ENV)
    assert result.text == "tok-123456" and result.secrets == {"tok-123456"}


RULE = "alerts:\n  - name: a\n    condition: 'sync_failure_rate > 5%'\n    severity: warning\n"


def test_validate_places_an_unclosed_reference_at_its_value() -> None:
    text = RULE + "    annotations: {summary: 'see ${A:-${B'}\n"
    with pytest.raises(ConfigInvalid) as caught:
        load_config_text(text, "a.yaml", ENV)
    (problem,) = caught.value.problems
    # at the value (line 5, its quote at column 28), the message quoting the reference
    assert text.splitlines()[4].index("'see") + 1 == 28
    assert (problem.line, problem.column) == (5, 28)
    assert "the reference '${B' has no closing '}'" in problem.message


def test_a_config_expands_nested_defaults_and_keeps_escapes() -> None:
    text = RULE + "    annotations: {a: '${A:-${B}}', b: '$${B}'}\n"
    (rule,) = load_config_text(text, "a.yaml", ENV).rules
    assert rule.annotations == {"a": "bee", "b": "${B}"}


# --- `for` against evaluation.lookback: the boundary --------------------------------------


def rule_with_for(for_: str, lookback: str) -> str:
    return RULE + f"    for: {for_}\nevaluation: {{lookback: {lookback}}}\n"


def test_a_for_equal_to_the_lookback_is_valid() -> None:
    (rule,) = load_config_text(rule_with_for("1h", "1h"), "a.yaml", ENV).rules
    assert rule.for_.total_seconds() == 3600


def test_a_for_one_second_longer_than_the_lookback_is_refused_at_for() -> None:
    text = rule_with_for("3601s", "1h")
    with pytest.raises(ConfigInvalid) as caught:
        load_config_text(text, "a.yaml", ENV)
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (5, 10)
    assert "longer than evaluation.lookback (1h)" in problem.message


def _padded_to(size: int) -> bytes:
    """The shipped config, padded with a comment to exactly `size` bytes."""
    data = Path(packaged_config()).read_bytes()
    return data + b"\n#" + b"x" * (size - len(data) - 3) + b"\n"


def test_a_config_of_exactly_one_mib_loads_and_one_byte_more_is_refused(tmp_path: Path) -> None:
    exact = _padded_to(MAX_CONFIG_BYTES)
    assert len(exact) == MAX_CONFIG_BYTES
    assert load_config_bytes(exact, "a.yaml").rules  # the cap itself is allowed
    over = _padded_to(MAX_CONFIG_BYTES + 1)
    with pytest.raises(ConfigInvalid, match="larger than 1 MiB"):
        load_config_bytes(over, "a.yaml")
    (tmp_path / "big.yaml").write_bytes(over)  # the same through the file reader
    with pytest.raises(ConfigInvalid, match=r"big\.yaml:1:1: the file is larger than 1 MiB"):
        load_config(tmp_path / "big.yaml")
