"""Making untrusted text (DB error messages, endpoint bodies, conflict documents) safe to show."""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, and the C1 block (0x80-0x9f); ESC (0x1b) above all.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Unicode bidi overrides can make text read differently from what it is.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return "\N{SYMBOL FOR ESCAPE}" if code == 0x1B else f"\\x{code:02x}"


def sanitize(text: str, *, single_line: bool = False, limit: int | None = None) -> str:
    """Replace control characters with visible stand-ins (ESC becomes ␛, others `\\xNN`).

    With `single_line`, newlines and tabs become spaces; `limit` truncates with an ellipsis.
    """
    cleaned = _BIDI.sub("\N{REPLACEMENT CHARACTER}", _CONTROL.sub(_visible, text))
    if single_line:
        cleaned = cleaned.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    if limit is not None and len(cleaned) > limit:
        cleaned = cleaned[: max(0, limit - 1)] + "…"
    return cleaned


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 rule`, `2 rules`: counts a user reads are never "1 rules" or "rule(s)"."""
    return f"{count} {word if count == 1 else many or word + 's'}"
