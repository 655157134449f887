"""`${NAME}` references in config strings, expanded from the environment.

The forms, as a shell or docker compose reads them:
- `${NAME}`: the variable's value; unset is an error (the message says how to give a default);
- `${NAME:-default}`: the default when NAME is unset or empty; the default may itself hold
  references (`${A:-${B}}`, `${A:-${B:-x}}`), expanded only when it is used;
- `$${`: a literal `${` (so `$${B}` stays `${B}`); any other `$` is itself.
A `${` that starts a reference (a letter or `_` follows) but is never closed is an error at
its offset; text such as `${5}` or a lone `$` is not a reference and stays as written.

A value read from a variable whose name looks secret (TOKEN, SECRET, PASSWORD, KEY, …) is
collected so every output can mask it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|PASS\b|KEY|CREDENTIAL", re.IGNORECASE)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPECIAL = re.compile(r"\$")
_SPECIAL_IN_DEFAULT = re.compile(r"[$}]")
MAX_NESTING = 8  # `${A:-${B:-${C…}}}`: deeper than any config needs, shallow enough to read


@dataclass
class Expansion:
    """The expanded text, the secret values used, and problems as (offset, message)."""

    text: str
    secrets: set[str] = field(default_factory=set)
    problems: list[tuple[int, str]] = field(default_factory=list)


class _Unclosed(Exception):
    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


def expand(text: str, env: Mapping[str, str]) -> Expansion:
    """Expand every reference in `text`; problems never raise (an unset variable gives '')."""
    if "${" not in text:
        return Expansion(text)  # most values: nothing to do
    result = Expansion("")
    try:
        result.text, _ = _expand(text, 0, env, result, depth=0, stop_at_brace=False)
    except _Unclosed as exc:
        result.problems.append((exc.offset, exc.message))
        result.text = text
    return result


def _expand(
    text: str,
    start: int,
    env: Mapping[str, str],
    out: Expansion,
    *,
    depth: int,
    stop_at_brace: bool,
) -> tuple[str, int]:
    """Expand from `start`; inside a default (`stop_at_brace`) stop at its closing `}`.
    Returns the text and the index just past what was read."""
    parts: list[str] = []
    i = start
    special = _SPECIAL_IN_DEFAULT if stop_at_brace else _SPECIAL
    while i < len(text):
        found = special.search(text, i)
        if found is None:
            parts.append(text[i:])
            i = len(text)
            break
        parts.append(text[i : found.start()])
        i = found.start()
        char = text[i]
        if stop_at_brace and char == "}":
            return "".join(parts), i + 1
        if text.startswith("$${", i):
            parts.append("${")
            i += 3
            continue
        name = _NAME.match(text, i + 2) if text.startswith("${", i) else None
        if name is None:
            parts.append(char)
            i += 1
            continue
        value, i = _reference(text, i, name, env, out, depth)
        parts.append(value)
    if stop_at_brace:
        raise _Unclosed(start, "")
    return "".join(parts), i


def _reference(
    text: str, at: int, name: re.Match[str], env: Mapping[str, str], out: Expansion, depth: int
) -> tuple[str, int]:
    """One `${NAME…}` starting at `at`: its value and the index past its closing brace."""
    variable, i = name.group(), name.end()
    shown = text[at : at + 40]
    if text.startswith(":-", i):
        if depth >= MAX_NESTING:
            raise _Unclosed(at, f"references nested deeper than {MAX_NESTING} levels")
        given = env.get(variable) or None
        try:
            if given is None:
                default, end = _expand(text, i + 2, env, out, depth=depth + 1, stop_at_brace=True)
            else:  # skip the default unexpanded: its variables need not be set
                scratch = Expansion("")
                _, end = _expand(text, i + 2, {}, scratch, depth=depth + 1, stop_at_brace=True)
        except _Unclosed as exc:
            if exc.message:
                raise
            raise _Unclosed(at, _unclosed(shown)) from None
        if given is None:
            return default, end
        value = given
    elif text.startswith("}", i):
        end = i + 1
        found = env.get(variable)
        if found is None:
            out.problems.append(
                (
                    at,
                    f"environment variable {variable} is not set (write "
                    f"${{{variable}:-default}} to give a default)",
                )
            )
            return "", end
        value = found
    else:
        raise _Unclosed(at, _unclosed(shown))
    if SECRET_NAME.search(variable):
        out.secrets.add(value)
    return value, end


def _unclosed(shown: str) -> str:
    return (
        f"the reference {shown!r} has no closing '}}' "
        "(write $${ for a literal ${, or ${NAME:-default} for a default)"
    )
