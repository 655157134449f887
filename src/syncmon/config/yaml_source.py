"""Safe YAML loading that remembers where every value came from.

PyYAML's composer gives nodes with positions; we build plain Python values from them
ourselves so that every key and value keeps its `line:column`, duplicate keys are caught
(PyYAML silently keeps the last), and only the safe scalar tags are ever constructed.
`${NAME}` / `${NAME:-default}` environment references in strings are expanded here
(config/env_refs.py).

Total over every input: a character YAML forbids (ESC, NUL), nesting deeper than
`MAX_DEPTH`, an alias bomb or a 5,000-digit number is a `Problem` with its position,
never an exception. The depth is measured on PyYAML's event stream, which is iterative,
before its composer (which recurses once per level) sees the text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from syncmon.config.env_refs import expand

Path = tuple[str | int, ...]
KEY = "<key>"  # path suffix under which a mapping key's own position is stored

_SAFE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}
_MAX_NODES = 100_000
MAX_DEPTH = 64
_MAX_REPORTED_CHARACTERS = 10
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # what PyYAML counts as one
_CONTROL_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "BS", 0x1B: "ESC", 0x7F: "DEL"}


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based
    quoted: bool = False


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config file, printed as `FILE:LINE:COLUMN: message`."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


@dataclass
class LoadedYaml:
    data: Any
    positions: dict[Path, Position] = field(default_factory=dict)
    secrets: set[str] = field(default_factory=set)
    secret_lines: set[int] = field(default_factory=set)  # lines of values holding a secret
    problems: list[Problem] = field(default_factory=list)

    def position(self, path: Path) -> Position:
        """The position of `path`, or of its nearest ancestor that has one."""
        probe = tuple(path)
        while probe:
            if probe in self.positions:
                return self.positions[probe]
            probe = probe[:-1]
        return self.positions.get((), Position(1, 1))


class _Builder:
    def __init__(self, filename: str, loader: yaml.SafeLoader, env: Mapping[str, str]) -> None:
        self.filename = filename
        self.loader = loader
        self.env = env
        self.result = LoadedYaml(None)
        self.count = 0

    def problem(self, mark: yaml.Mark | None, message: str) -> None:
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        self.result.problems.append(Problem(self.filename, line, column, message))

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > _MAX_NODES:
            raise _TooBig
        mark = node.start_mark
        if len(path) > MAX_DEPTH:  # only aliases get here: plain nesting was refused earlier
            raise _TooDeep(mark)
        quoted = isinstance(node, yaml.ScalarNode) and node.style in ("'", '"')
        self.result.positions[path] = Position(mark.line + 1, mark.column + 1, quoted)
        if node.tag not in _SAFE_TAGS:
            self.problem(
                mark,
                f"the YAML tag {node.tag.replace('tag:yaml.org,2002:', '!!')} is "
                "not allowed: syncmon loads YAML safely (plain values only)",
            )
            return None
        if isinstance(node, yaml.MappingNode):
            return self.build_mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.problem(mark, f"cannot read this value: {exc}")
            return None
        except (ValueError, OverflowError):  # e.g. an integer of 5,000 digits
            self.problem(mark, f"cannot read this value: {_shorten(str(node.value))} is too large")
            return None
        if isinstance(value, str) and isinstance(node, yaml.ScalarNode):
            value = self.expand_env(value, node)
        return value

    def build_mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            merge = key_node.tag == "tag:yaml.org,2002:merge"
            if not isinstance(key_node, yaml.ScalarNode) or merge:
                self.problem(
                    key_node.start_mark,
                    "keys must be plain names (no merge keys, lists or maps as keys)",
                )
                continue
            key = str(key_node.value)
            if key in result:
                self.problem(
                    key_node.start_mark,
                    f"duplicate key {key!r} (the first one is "
                    f"at line {self.result.positions[(*path, key, KEY)].line})",
                )
                continue
            mark = key_node.start_mark
            self.result.positions[(*path, key, KEY)] = Position(mark.line + 1, mark.column + 1)
            result[key] = self.build(value_node, (*path, key))
        return result

    def expand_env(self, text: str, node: yaml.ScalarNode) -> str:
        """`${NAME}` references (config/env_refs.py). A problem is placed at the value, like
        every other problem of the value (so a validation error it causes is not repeated);
        its message quotes the reference."""
        expansion = expand(text, self.env)
        self.result.secrets.update(expansion.secrets)
        if expansion.secrets:
            last = node.end_mark.line if node.end_mark else node.start_mark.line
            self.result.secret_lines.update(range(node.start_mark.line + 1, last + 2))
        for _offset, message in expansion.problems:
            self.problem(node.start_mark, message)
        return expansion.text


class _TooBig(Exception):
    pass


class _TooDeep(Exception):
    def __init__(self, mark: yaml.Mark) -> None:
        super().__init__()
        self.mark = mark


def text_position(text: str, index: int) -> tuple[int, int]:
    """1-based (line, column) of `text[index]`, counting line breaks as PyYAML does."""
    line, start = 1, 0
    for match in _LINE_BREAK.finditer(text, 0, index):
        line, start = line + 1, match.end()
    return line, index - start + 1


def forbidden_characters(text: str, filename: str) -> list[Problem]:
    """Characters YAML does not allow in a file (C0/C1 controls but tab and line breaks)."""
    problems = []
    for count, match in enumerate(yaml.reader.Reader.NON_PRINTABLE.finditer(text)):
        if count == _MAX_REPORTED_CHARACTERS:
            line, column = text_position(text, match.start())
            problems.append(Problem(filename, line, column, "and more such characters"))
            break
        code = ord(match.group())
        name = f" ({_CONTROL_NAMES[code]})" if code in _CONTROL_NAMES else ""
        escape = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
        line, column = text_position(text, match.start())
        problems.append(
            Problem(
                filename,
                line,
                column,
                f"character U+{code:04X}{name} is not allowed in a YAML file; inside a "
                f"double-quoted string, write it as the escape {escape}",
            )
        )
    return problems


def _too_deep(text: str, filename: str) -> Problem | None:
    """The first collection nested deeper than MAX_DEPTH, found without recursion (PyYAML's
    event stream is iterative; its composer recurses once per level)."""
    loader = yaml.SafeLoader(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()  # type: ignore[no-untyped-call]  # untyped in the stubs
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH and (mark := event.start_mark) is not None:
                    return Problem(
                        filename,
                        mark.line + 1,
                        mark.column + 1,
                        f"nested deeper than {MAX_DEPTH} levels; a syncmon config needs 4",
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None  # a syntax error: the full parse reports it with its position
    except (OverflowError, ValueError):
        # PyYAML turns "\U99999999" into chr(0x99999999) and fails outside its own errors
        mark = loader.get_mark()
        return Problem(
            filename,
            mark.line + 1,
            mark.column + 1,
            "an escape in a double-quoted string names no Unicode character "
            "(\\U and \\u go up to 10FFFF)",
        )
    finally:
        loader.dispose()
    return None


def _shallow_by_libyaml(text: str) -> bool:
    """True when libyaml reads the whole event stream without error or deep nesting: then
    libyaml composes it too, ten times faster than PyYAML (1,000 rules: 0.3 s, not 3 s), with
    the same lines and columns. Anything else takes PyYAML's path, whose messages and
    positions are the ones reported."""
    fast: Any = getattr(yaml, "CSafeLoader", None)
    if fast is None:
        return False
    loader = fast(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return False
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except (yaml.YAMLError, OverflowError, ValueError):
        return False
    finally:
        loader.dispose()
    return True


def _compose_by_libyaml(text: str) -> yaml.Node | None:
    """libyaml's node tree, or None when it fails (PyYAML then says why)."""
    loader: Any = yaml.CSafeLoader(text)  # present: _shallow_by_libyaml found it
    try:
        node: yaml.Node | None = loader.get_single_node()
    except (yaml.YAMLError, OverflowError, ValueError):
        return None
    finally:
        loader.dispose()
    return node


def _shorten(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:12]}…{text[-6:]} ({len(text)} characters)"


def load_yaml(text: str, filename: str, env: Mapping[str, str] | None = None) -> LoadedYaml:
    """Parse `text`; syntax errors, unsafe tags and duplicate keys come back as problems."""
    builder_env = os.environ if env is None else env
    refused = forbidden_characters(text, filename)
    if refused:
        return LoadedYaml(None, problems=refused)
    fast = _shallow_by_libyaml(text)
    if not fast:
        deep = _too_deep(text, filename)
        if deep is not None:
            return LoadedYaml(None, problems=[deep])
    node = _compose_by_libyaml(text) if fast else None
    loader = yaml.SafeLoader("" if node is not None else text)
    builder = _Builder(filename, loader, builder_env)
    try:
        if node is None:
            node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            reason = f"{exc.problem} ({exc.context})"
        builder.problem(mark, f"YAML syntax error: {reason}")
        return builder.result
    except yaml.YAMLError as exc:
        builder.problem(None, f"YAML syntax error: {exc}")
        return builder.result
    finally:
        loader.dispose()
    if node is None:
        builder.result.data = {}
        return builder.result
    try:
        builder.result.data = builder.build(node, ())
    except _TooBig:
        builder.problem(
            node.start_mark,
            f"the file has more than {_MAX_NODES} values; is it really a syncmon config?",
        )
    except _TooDeep as exc:
        builder.problem(exc.mark, f"nested deeper than {MAX_DEPTH} levels (through aliases)")
    return builder.result
