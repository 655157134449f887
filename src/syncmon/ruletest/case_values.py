"""Checks of a case's series: their lengths agree, and their values can be rows.

`CaseSeries` expands every series of a case and compares their lengths (a short series is
an error, not padding); `CaseValues` then turns them into whole numbers of rows, failures
that fit in their interval, and endpoint answers. Problems go to the parser's sink, at the
value or at the bad term inside it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol, TypeVar

from syncmon.config.yaml_source import LoadedYaml, Path
from syncmon.ruletest.cases import (
    ENDPOINT_STATUSES,
    ConflictInput,
    EndpointInput,
    HealthInput,
    PerformanceInput,
)
from syncmon.ruletest.file_model import ConflictModel, HealthModel, PerformanceModel
from syncmon.ruletest.series import Sample, SeriesError, expand_numbers, expand_words

MAX_INT4 = 2**31 - 1
DEFAULT_ERROR_MESSAGE = "failed (syncmon test)"
T = TypeVar("T")


class ProblemSink(Protocol):
    loaded: LoadedYaml

    def problem(self, path: Path, message: str, offset: int | None = None) -> None: ...


class CaseSeries:
    """Expands a case's series, remembering each one's path so lengths can be compared."""

    def __init__(self, reader: ProblemSink, base: Path) -> None:
        self.reader = reader
        self.base = base
        self.lengths: list[tuple[Path, int]] = []

    def _expand(
        self, where: Path, text: str | None, expand: Callable[[str], list[Sample[T]]]
    ) -> list[Sample[T]] | None:
        if text is None:
            return None
        path = self.path(where)
        try:
            samples = expand(text)
        except SeriesError as exc:
            self.reader.problem(path, f"{where[-1]}: {exc.message}", exc.offset)
            return None
        self.lengths.append((path, len(samples)))
        return samples

    def path(self, where: Path) -> Path:
        """`where` is relative to the case's `input:`, or starts with `endpoints`."""
        if where[0] == "endpoints":
            return (*self.base, *where)
        return (*self.base, "input", *where)

    def numbers(self, where: Path, text: str | None) -> list[Sample[float]] | None:
        return self._expand(where, text, expand_numbers)

    def words(self, where: Path, text: str) -> list[Sample[str]] | None:
        return self._expand(where, text, lambda t: expand_words(t, ENDPOINT_STATUSES))

    def check_lengths(self) -> int:
        """Every series of a case covers the same intervals; a short one is an error."""
        if not self.lengths:
            return 0
        longest_path, longest = max(self.lengths, key=lambda item: item[1])
        line = self.reader.loaded.position(longest_path).line
        for path, length in self.lengths:
            if length != longest:
                self.reader.problem(
                    path,
                    f"{path[-1]}: {length} values, but the series at line {line} has "
                    f"{longest}: every series of a case covers the same intervals "
                    "(promtool's notation: 30x59 is 60 values)",
                )
        return longest


class CaseValues:
    """Value checks once every series has the case's length."""

    def __init__(self, reader: ProblemSink, base: Path, length: int) -> None:
        self.reader = reader
        self.base = base
        self.length = length

    def whole(
        self,
        path: Path,
        samples: list[Sample[float]] | None,
        default: int = 0,
        maximum: int = MAX_INT4,
    ) -> tuple[int, ...]:
        if samples is None:
            return (default,) * self.length
        out: list[int] = []
        for sample in samples:
            value = sample.value
            if value is None:
                out.append(0)
            elif value < 0 or value != math.floor(value) or value > maximum:
                self.reader.problem(
                    path,
                    f"{path[-1]}: {value:g} is not a whole number from 0 to {maximum}",
                    sample.offset,
                )
                out.append(0)
            else:
                out.append(int(value))
        return tuple(out)

    def at_most(
        self, path: Path, samples: list[Sample[float]] | None, part: tuple[int, ...], whole: str
    ) -> tuple[int, ...]:
        """A part (failures, auto_resolved) never exceeds the rows of its interval."""
        parts = self.whole(path, samples)
        for i, (value, rows) in enumerate(zip(parts, part, strict=True)):
            if value > rows and samples is not None:
                self.reader.problem(
                    path,
                    f"{path[-1]}: {value} in interval {i}, which has only {rows} rows ({whole})",
                    samples[i].offset,
                )
                break
        return parts

    def performance(
        self,
        j: int,
        item: PerformanceModel,
        counts: list[Sample[float]] | None,
        failures: list[Sample[float]] | None,
        durations: list[Sample[float]] | None,
    ) -> PerformanceInput:
        path = (*self.base, "input", "sync_performance_metrics", j)
        rows = self.whole((*path, "count"), counts)
        self.no_gaps_with_rows((*path, "duration_ms"), durations, rows)
        return PerformanceInput(
            operation_type=item.operation_type,
            counts=rows,
            failures=self.at_most((*path, "failures"), failures, rows, "count"),
            durations=self.whole((*path, "duration_ms"), durations),
            error_message=item.error_message or DEFAULT_ERROR_MESSAGE,
        )

    def conflicts(
        self,
        j: int,
        item: ConflictModel,
        counts: list[Sample[float]] | None,
        auto: list[Sample[float]] | None,
    ) -> ConflictInput:
        path = (*self.base, "input", "conflict_resolution_history", j)
        rows = self.whole((*path, "count"), counts)
        return ConflictInput(
            item.resolution_type, rows, self.at_most((*path, "auto_resolved"), auto, rows, "count")
        )

    def health(
        self,
        j: int,
        item: HealthModel,
        values: list[Sample[float]] | None,
        counts: list[Sample[float]] | None,
    ) -> HealthInput:
        path = (*self.base, "input", "sync_health_metrics", j)
        readings = tuple(s.value for s in values or [])
        if counts is None:
            rows = tuple(0 if v is None else 1 for v in readings)
        else:
            rows = self.whole((*path, "count"), counts)
            self.no_gaps_with_rows((*path, "value"), values, rows)
        return HealthInput(item.metric_type, rows, readings)

    def endpoint(
        self,
        name: str,
        statuses: list[Sample[str]] | None,
        latencies: list[Sample[float]] | None,
        missing: list[Sample[float]] | None,
    ) -> EndpointInput:
        path = (*self.base, "endpoints", name)
        for sample in latencies or []:
            if sample.value is not None and sample.value < 0:
                self.reader.problem(
                    (*path, "latency_ms"), "latency_ms: must be 0 or more", sample.offset
                )
                break
        return EndpointInput(
            name,
            tuple(s.value for s in statuses or []),
            tuple(s.value for s in latencies) if latencies else (None,) * self.length,
            self.whole((*path, "missing_security_headers"), missing, maximum=4),
        )

    def no_gaps_with_rows(
        self, path: Path, samples: list[Sample[float]] | None, rows: tuple[int, ...]
    ) -> None:
        for sample, count in zip(samples or [], rows, strict=False):
            if sample.value is None and count > 0:
                self.reader.problem(
                    path, f"{path[-1]}: _ in an interval that has {count} rows", sample.offset
                )
                return
