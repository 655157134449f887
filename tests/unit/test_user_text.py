"""What a user reads: no SPEC section numbers (users have no SPEC), counts in plurals."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from syncmon.cli import build_parser
from syncmon.core.text import plural


def every_help() -> list[tuple[str, str]]:
    parser = build_parser()
    helps = [("syncmon", parser.format_help())]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps += [(f"syncmon {n}", p.format_help()) for n, p in action.choices.items()]
    return helps


def test_no_help_text_cites_the_spec() -> None:
    helps = every_help()
    assert len(helps) > 5
    cited = [name for name, text in helps if "SPEC" in text or "§" in text]
    assert cited == []


def test_the_json_schema_editors_show_cites_no_spec() -> None:
    root = Path(__file__).resolve().parents[2]
    for path in (root / "alerts.schema.json", root / "src/syncmon/alerts.schema.json"):
        text = json.dumps(json.loads(path.read_text()))
        assert "SPEC" not in text and "§" not in text, path


@pytest.mark.parametrize(
    "count,expected", [(0, "0 rules"), (1, "1 rule"), (2, "2 rules"), (11, "11 rules")]
)
def test_plural(count: int, expected: str) -> None:
    assert plural(count, "rule") == expected
    assert plural(1, "source") == "1 source"
    assert plural(3, "advice", "advice") == "3 advice"
