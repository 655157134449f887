"""The shape of alerts.yaml (SPEC §3, §5) as pydantic models that reject unknown keys."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StrictBool,
    StrictInt,
    StrictStr,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from syncmon.config.checks import api_url_problem, dsn_problem
from syncmon.core.conditions import (
    CONDITION_PATTERN,
    TARGET_PATTERN,
    Condition,
    ConditionError,
    parse_condition,
)
from syncmon.core.durations import (
    DURATION_PATTERN,
    DurationError,
    format_duration,
    parse_duration,
)

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_RESERVED_LABELS = {"alertname", "severity", "service"}

DEFAULT_TARGETS: dict[str, str] = {
    "sync_success_rate": "> 99%",
    "conflict_auto_resolve_rate": "> 80%",
    "avg_sync_duration": "< 2s",
    "api_response_time": "< 500ms",
    "error_rate": "< 1%",
}

DEFAULT_ENDPOINTS: dict[str, str] = {
    "sync": "/api/health/sync",
    "plaid": "/api/health/plaid",
    "database": "/api/health/database",
    "redis": "/api/health/redis",
}


# The documented ranges (README, "Decisions"): wide enough for any sensible rule, narrow
# enough that no value overflows a timedelta or turns a poll into a scan of months.
WINDOW_RANGE = (timedelta(seconds=1), timedelta(days=7))
HOLD_RANGE = (timedelta(0), timedelta(days=7))  # for, keep_firing_for
TIMEOUT_RANGE = (timedelta(milliseconds=100), timedelta(minutes=5))
INTERVAL_RANGE = (timedelta(seconds=1), timedelta(days=1))  # also --interval, refresh
LOOKBACK_RANGE = (timedelta(minutes=1), timedelta(days=31))  # evaluation.lookback
MAX_MIN_SAMPLES = 1_000_000


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise PydanticCustomError("duration", str(exc)) from None


def _within(bounds: tuple[timedelta, timedelta]) -> Callable[[object], timedelta]:
    """A before-validator: the text a user wrote (never a bare number) to a timedelta."""
    low, high = bounds

    def check(text: object) -> timedelta:
        if isinstance(text, timedelta):  # a default, or a model built in code
            value = text
        elif isinstance(text, str):
            value = _duration(text)
        else:
            raise PydanticCustomError(
                "duration", "must be a duration such as 30s or 5m, with its unit"
            )
        if not low <= value <= high:
            raise PydanticCustomError(
                "duration",
                "{text} is out of range: between {low} and {high}",
                {
                    "text": str(text).strip()[:40],
                    "low": format_duration(low),
                    "high": format_duration(high),
                },
            )
        return value

    return check


# What `syncmon schema` says of a duration: editors check the form, validate the rest.
_DURATION_SCHEMA = WithJsonSchema(
    {"type": "string", "pattern": DURATION_PATTERN, "examples": ["30s", "5m", "1h30m"]}
)
# Durations are timedelta fields written as text (`30s`, `5m`), each checked against its range.
WindowDuration = Annotated[timedelta, BeforeValidator(_within(WINDOW_RANGE)), _DURATION_SCHEMA]
HoldDuration = Annotated[timedelta, BeforeValidator(_within(HOLD_RANGE)), _DURATION_SCHEMA]
TimeoutDuration = Annotated[timedelta, BeforeValidator(_within(TIMEOUT_RANGE)), _DURATION_SCHEMA]
IntervalDuration = Annotated[timedelta, BeforeValidator(_within(INTERVAL_RANGE)), _DURATION_SCHEMA]
LookbackDuration = Annotated[timedelta, BeforeValidator(_within(LOOKBACK_RANGE)), _DURATION_SCHEMA]


def parse_condition_field(text: str) -> Condition:
    try:
        return parse_condition(text)
    except ConditionError as exc:
        raise PydanticCustomError(
            "condition", "{message}", {"message": exc.message, "offset": exc.offset}
        ) from None


class Strict(BaseModel):
    # Field docstrings are the descriptions `syncmon schema` gives editors.
    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, frozen=True, use_attribute_docstrings=True
    )


class RuleModel(Strict):
    """One alert rule."""

    name: StrictStr = Field(min_length=1, description="Unique name; also Alertmanager's alertname")
    condition: Annotated[
        StrictStr,
        AfterValidator(parse_condition_field),
        WithJsonSchema(
            {
                "type": "string",
                "pattern": CONDITION_PATTERN,
                "examples": ["sync_failure_rate > 5%", "avg_sync_duration > 5s"],
            }
        ),
    ] = Field(
        description="METRIC OP NUMBER[UNIT], joined by and/or; a ratio takes %, a duration "
        "ms, s or m, a count or health.* reading no unit"
    )
    severity: Literal["critical", "warning", "info"]
    """critical pages; check exits 2 for critical, 1 for warning"""
    window: WindowDuration = Field(
        "5m", validate_default=True, description="how far back metrics are computed"
    )
    for_: HoldDuration = Field(
        "0s",
        alias="for",
        validate_default=True,
        description="how long the condition must hold before firing",
    )
    keep_firing_for: HoldDuration = Field(
        "0s", validate_default=True, description="how long to keep firing once it stops holding"
    )
    min_samples: StrictInt | None = Field(
        None, ge=0, le=MAX_MIN_SAMPLES, description="fewer samples than this means nodata"
    )
    labels: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    """Extra Alertmanager labels (alertname, severity and service are syncmon's)"""
    annotations: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    """Free text sent with the alert: summary, description, runbook_url are conventional"""

    @field_validator("labels")
    @classmethod
    def _label_names(cls, labels: dict[str, str]) -> dict[str, str]:
        for key in labels:
            if not _LABEL_NAME.match(key):
                raise PydanticCustomError(
                    "label", "label name '{key}' must match [a-zA-Z_][a-zA-Z0-9_]*", {"key": key}
                )
            if key in _RESERVED_LABELS:
                raise PydanticCustomError(
                    "label", "label '{key}' is set by syncmon itself", {"key": key}
                )
        return labels


class ApiModel(Strict):
    """The sync API whose health endpoints and conflicts API syncmon uses."""

    base_url: StrictStr | None = Field(None, description="e.g. https://api.example.com")
    timeout: TimeoutDuration = Field(
        "5s", validate_default=True, description="per health poll (the seed's 5 s)"
    )
    conflicts_timeout: TimeoutDuration = Field(
        "15s", validate_default=True, description="conflicts API (the seed's 15 s)"
    )
    endpoints: dict[StrictStr, StrictStr] = Field(default_factory=lambda: dict(DEFAULT_ENDPOINTS))
    """Health endpoints by name: paths under base_url, e.g. sync: /api/health/sync"""
    verify_tls: StrictBool = True
    """Verify TLS certificates (https base URLs)"""
    ca_bundle: StrictStr | None = None
    """A CA bundle file to verify the API's certificate with"""

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        problem = api_url_problem(value) if value is not None else None
        if problem:
            raise PydanticCustomError("url", "{problem}", {"problem": problem})
        return value.rstrip("/") if value else value

    @field_validator("endpoints")
    @classmethod
    def _paths(cls, endpoints: dict[str, str]) -> dict[str, str]:
        for name, path in endpoints.items():
            if not path.startswith("/"):
                raise PydanticCustomError(
                    "path", "endpoint '{name}': the path must start with /", {"name": name}
                )
        return endpoints


def _zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "zone",
            "unknown time zone '{zone}': use an IANA name such as UTC or Europe/Berlin",
            {"zone": value},
        ) from None
    return value


def _dsn(value: SecretStr | None) -> SecretStr | None:
    problem = dsn_problem(value.get_secret_value()) if value is not None else None
    if problem:  # never quotes the DSN: it may hold a password
        raise PydanticCustomError("dsn", "{problem}", {"problem": problem})
    return value


class PoolerMode(StrEnum):
    """What the DSN reaches (SPEC §14); only decides whether prepared statements are kept."""

    AUTO = "auto"  # find out at the first connection (a pooler announces its own pid)
    NONE = "none"  # PostgreSQL itself, or a session-mode pooler: keep prepared statements
    TRANSACTION = "transaction"  # pgbouncer/PgCat/Supavisor/RDS Proxy: unnamed statements only


CONNECTIONS_RANGE = (1, 16)


def _schema_name(value: str) -> str:
    if not value or len(value.encode()) > 63 or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise PydanticCustomError(
            "schema",
            "'{schema}' is not a PostgreSQL schema name: 1 to 63 bytes, no control "
            "characters (it is quoted, so write it exactly as pg_namespace spells it)",
            {"schema": value.encode("unicode_escape").decode()},
        )
    return value


class DatabaseModel(Strict):
    """The PostgreSQL holding the seed's three metrics tables (read only)."""

    dsn: Annotated[SecretStr | None, AfterValidator(_dsn)] = Field(
        None, description="postgresql://user@host/db; prefer ${ENV}"
    )
    timestamp_timezone: Annotated[StrictStr | None, AfterValidator(_zone)] = Field(
        None, description="zone the writers' NOW() ran in; default: the database's TimeZone"
    )
    plaid_operation_pattern: StrictStr = Field(
        "plaid%", min_length=1, description="SQL LIKE pattern of Plaid operations"
    )
    statement_timeout: TimeoutDuration = Field(
        "5s",
        validate_default=True,
        description="server-side limit of each statement (and of waiting for a lock)",
    )
    schema_: Annotated[StrictStr, AfterValidator(_schema_name)] = Field(
        "public",
        alias="schema",
        description="schema holding the three tables; every statement names it",
    )
    pooler: Annotated[
        PoolerMode, WithJsonSchema({"type": "string", "enum": [m.value for m in PoolerMode]})
    ] = Field(
        PoolerMode.AUTO,
        description="auto | none | transaction: whether prepared statements can be kept",
    )
    connections: StrictInt = Field(
        2,
        ge=CONNECTIONS_RANGE[0],
        le=CONNECTIONS_RANGE[1],
        description="PostgreSQL connections this process holds at most",
    )


class SourcesModel(Strict):
    """Where syncmon looks; --api-url, --dsn and SYNCMON_* variables override these."""

    api: ApiModel = Field(default_factory=ApiModel)
    """The sync API: health endpoints and the conflicts API"""
    database: DatabaseModel = Field(default_factory=DatabaseModel)
    """The metrics database"""
    interval: IntervalDuration | None = Field(None, description="poll/evaluation interval")


class DashboardModel(Strict):
    """Dashboard preferences."""

    resolved_by: StrictStr | None = Field(
        None, min_length=1, description="name sent with manual resolutions"
    )
    refresh: IntervalDuration = Field("5s", validate_default=True)
    """How often the dashboard polls"""


class EvaluationModel(Strict):
    """How alerts are evaluated."""

    lookback: LookbackDuration = Field(
        "24h",
        validate_default=True,
        description="how far back `since` is searched; also the longest `for` allowed",
    )


class ConfigModel(Strict):
    """syncmon's alerts.yaml: rules, targets and sources."""

    alerts: list[RuleModel] = Field(default_factory=list)
    """The alert rules"""
    evaluation: EvaluationModel = Field(default_factory=EvaluationModel)
    """How alerts are evaluated"""
    targets: dict[
        StrictStr,
        Annotated[StrictStr, WithJsonSchema({"type": "string", "pattern": TARGET_PATTERN})],
    ] = Field(default_factory=lambda: dict(DEFAULT_TARGETS))
    """What the dashboard colours green: metric -> OP NUMBER[UNIT], e.g. "> 99%" """
    sources: SourcesModel = Field(default_factory=SourcesModel)
    """Where to look"""
    dashboard: DashboardModel = Field(default_factory=DashboardModel)
    """Dashboard preferences"""
