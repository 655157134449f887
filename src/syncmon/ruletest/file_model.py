"""The shape of a `syncmon test` file (SPEC §13) as pydantic models that reject unknown keys.

Only the shape is checked here; series are expanded and cross-checked (lengths, failures
within counts, rule names) by `parse`, which knows where every value sits in the file.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictStr
from pydantic_core import PydanticCustomError

from syncmon.core.durations import DurationError, parse_duration


def _duration(value: Any) -> timedelta:
    if not isinstance(value, str):
        raise PydanticCustomError("duration", "must be a duration such as 30s or 5m")
    try:
        return parse_duration(value)
    except DurationError as exc:
        raise PydanticCustomError("duration", str(exc)) from None


def _positive_duration(value: Any) -> timedelta:
    duration = _duration(value)
    if duration <= timedelta(0):
        raise PydanticCustomError("duration", "must be longer than 0s")
    return duration


def _optional(check: Any) -> Any:
    return lambda value: None if value is None else check(value)


def _series_text(value: Any) -> str:
    """A series is a string; a lone number (`count: 30`) is a one-value series."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise PydanticCustomError("series", 'must be a series such as "30x59" or "0x29 6x29"')


def _name_only(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


def _status_only(value: Any) -> Any:
    return {"status": value} if isinstance(value, str) else value


Duration = Annotated[timedelta, BeforeValidator(_duration)]
PositiveDuration = Annotated[timedelta, BeforeValidator(_positive_duration)]
OptionalPositiveDuration = Annotated[
    timedelta | None, BeforeValidator(_optional(_positive_duration))
]
OptionalDuration = Annotated[timedelta | None, BeforeValidator(_optional(_duration))]
Series = Annotated[str, BeforeValidator(_series_text)]
OptionalSeries = Annotated[str | None, BeforeValidator(_optional(_series_text))]
ColumnText = Annotated[StrictStr, Field(min_length=1, max_length=50)]  # VARCHAR(50)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PerformanceModel(Strict):
    """Rows of `sync_performance_metrics` for one `operation_type`."""

    operation_type: ColumnText
    count: Series
    failures: OptionalSeries = None
    duration_ms: OptionalSeries = None
    error_message: StrictStr | None = None


class ConflictModel(Strict):
    """Rows of `conflict_resolution_history`."""

    count: Series
    auto_resolved: OptionalSeries = None
    resolution_type: ColumnText = "auto_merge"


class HealthModel(Strict):
    """Readings of `sync_health_metrics` for one `metric_type`."""

    metric_type: ColumnText
    value: Series
    count: OptionalSeries = None


class InputModel(Strict):
    sync_performance_metrics: list[PerformanceModel] = Field(default_factory=list)
    conflict_resolution_history: list[ConflictModel] = Field(default_factory=list)
    sync_health_metrics: list[HealthModel] = Field(default_factory=list)


class EndpointModel(Strict):
    """One health endpoint, per interval; a plain string is its `status` series."""

    status: Series
    latency_ms: OptionalSeries = None
    missing_security_headers: OptionalSeries = None


class ExpectedAlertModel(Strict):
    """A rule expected in a state; a plain string is its name."""

    name: StrictStr
    since: OptionalDuration = None


ExpectedAlert = Annotated[ExpectedAlertModel, BeforeValidator(_name_only)]
Endpoint = Annotated[EndpointModel, BeforeValidator(_status_only)]


class ExpectationModel(Strict):
    at: Duration
    firing: list[ExpectedAlert] = Field(default_factory=list)
    pending: list[ExpectedAlert] = Field(default_factory=list)
    nodata: list[StrictStr] | None = None


class CaseModel(Strict):
    name: StrictStr = Field(min_length=1)
    interval: OptionalPositiveDuration = None
    input: InputModel = Field(default_factory=InputModel)
    endpoints: dict[StrictStr, Endpoint] = Field(default_factory=dict)
    expect: list[ExpectationModel] = Field(min_length=1)


class RuleTestFileModel(Strict):
    rule_files: list[StrictStr] = Field(min_length=1)
    evaluation_interval: PositiveDuration = timedelta(seconds=30)
    tests: list[CaseModel] = Field(min_length=1)
