"""What doctor says, as data: a finding's level, its text and the statements it suggests."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Level(Enum):
    OK = "OK"
    INFO = "INFO"
    ADVICE = "ADVICE"
    WARN = "WARN"

    @property
    def needs_action(self) -> bool:
        return self in (Level.ADVICE, Level.WARN)


@dataclass
class Finding:
    level: Level
    text: str
    details: list[str] = field(default_factory=list)  # statements and explanations


@dataclass
class Section:
    title: str
    findings: list[Finding] = field(default_factory=list)

    def add(self, level: Level, text: str, *details: str) -> None:
        self.findings.append(Finding(level, text, list(details)))


def count_text(value: float) -> str:
    if value >= 1e9:
        return f"{value / 1e9:.1f} B"
    if value >= 1e6:
        return f"{value / 1e6:.1f} M"
    if value >= 1e4:
        return f"{value / 1e3:.0f} k"
    return f"{value:.0f}"


def bytes_text(value: int) -> str:
    size = float(value)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1024:
            return f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"
