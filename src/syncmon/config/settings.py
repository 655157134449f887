"""The effective settings of one run: flag > environment > file > default (SPEC §5).

Secrets (the DSN, the API token) are held as `SecretStr`: a traceback, a log line or a
debugger showing `Settings` shows `**********`. They are unwrapped only where a connection
is made (`net.build_client`, the database's connect).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path

from pydantic import SecretStr

from syncmon.config.checks import api_url_problem, dsn_problem
from syncmon.config.loader import Config, load_config
from syncmon.config.models import DEFAULT_ENDPOINTS, INTERVAL_RANGE, PoolerMode
from syncmon.config.redaction import dsn_location, mask_dsn, redact, register_secret
from syncmon.core.durations import DurationError, format_duration, parse_duration
from syncmon.core.rules import AlertRule

ENV_CONFIG = "SYNCMON_CONFIG"
ENV_API_URL = "SYNCMON_API_URL"
ENV_DSN = "SYNCMON_DATABASE_URL"
ENV_TOKEN = "SYNCMON_API_TOKEN"
DEFAULT_CONFIG_FILE = "alerts.yaml"


@dataclass(frozen=True)
class Overrides:
    """What the command line said; None means "not given"."""

    config: str | None = None
    api_url: str | None = None
    dsn: SecretStr | None = None  # a --dsn may carry a password
    interval: str | None = None


class SettingsInvalid(ValueError):
    """A flag or environment value that cannot work; each problem names its source."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Settings:
    config: Config
    api_url: str | None
    api_token: SecretStr | None
    dsn: SecretStr | None
    interval: timedelta | None
    health_timeout: float = 5.0
    conflicts_timeout: float = 15.0
    endpoints: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ENDPOINTS))
    verify_tls: bool | str = True
    timestamp_timezone: str | None = None
    plaid_pattern: str = "plaid%"
    statement_timeout: float = 5.0
    database_schema: str = "public"
    pooler: PoolerMode = PoolerMode.AUTO
    connections: int = 2
    lookback: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        # Callers that build Settings by hand (the demo, tests) may pass plain strings.
        for name in ("api_token", "dsn"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, SecretStr(value) if value else None)

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))
        return redact(f"Settings({shown})")

    @property
    def rules(self) -> tuple[AlertRule, ...]:
        return self.config.rules

    @property
    def masked_dsn(self) -> str | None:
        return mask_dsn(self.dsn.get_secret_value()) if self.dsn else None

    @property
    def database_label(self) -> str:
        """`host:port/db` for headers: never the user or password."""
        if not self.dsn:
            return "no database configured"
        return dsn_location(self.dsn.get_secret_value())


def packaged_config() -> str:
    """The shipped alerts.yaml (the seed's rules), installed with the package."""
    from importlib import resources

    return str(resources.files("syncmon").joinpath(DEFAULT_CONFIG_FILE))


def config_path(overrides: Overrides, env: Mapping[str, str]) -> str:
    """--config, else $SYNCMON_CONFIG, else ./alerts.yaml, else the shipped default."""
    if overrides.config:
        return overrides.config
    if env.get(ENV_CONFIG):
        return env[ENV_CONFIG]
    return DEFAULT_CONFIG_FILE if Path(DEFAULT_CONFIG_FILE).is_file() else packaged_config()


def resolve_settings(overrides: Overrides, env: Mapping[str, str] | None = None) -> Settings:
    """Load the config and apply the precedence rules.

    Raises ConfigInvalid or OSError for the file, SettingsInvalid for a flag or environment
    value that cannot work (an API port of 99999, a DSN port `notaport`, `--interval 0s`),
    so every command stops before anything starts.
    """
    env = os.environ if env is None else env
    path = config_path(overrides, env)
    config = load_config(path, env)
    sources = config.model.sources
    api, database = sources.api, sources.database
    token = env.get(ENV_TOKEN) or None
    register_secret(token)
    file_dsn = database.dsn.get_secret_value() if database.dsn else None
    flag_dsn = overrides.dsn.get_secret_value() if overrides.dsn else None
    dsn = flag_dsn or env.get(ENV_DSN) or file_dsn
    if dsn:
        _register_dsn_password(dsn)
    api_url = (overrides.api_url or env.get(ENV_API_URL) or api.base_url or "").rstrip("/")
    problems = _problems(overrides, env, api_url, dsn)
    if problems:
        raise SettingsInvalid(problems)
    interval = _interval(overrides.interval) if overrides.interval else sources.interval
    verify: bool | str = api.ca_bundle if (api.verify_tls and api.ca_bundle) else api.verify_tls
    return Settings(
        config=config,
        api_url=api_url or None,
        api_token=SecretStr(token) if token else None,
        dsn=SecretStr(dsn) if dsn else None,
        interval=interval,
        health_timeout=api.timeout.total_seconds(),
        conflicts_timeout=api.conflicts_timeout.total_seconds(),
        endpoints=dict(api.endpoints),
        verify_tls=verify,
        timestamp_timezone=database.timestamp_timezone,
        plaid_pattern=database.plaid_operation_pattern,
        statement_timeout=database.statement_timeout.total_seconds(),
        database_schema=database.schema_,
        pooler=database.pooler,
        connections=database.connections,
        lookback=config.model.evaluation.lookback,
    )


def _problems(
    overrides: Overrides, env: Mapping[str, str], api_url: str, dsn: str | None
) -> list[str]:
    """What is wrong with the values given outside the file (the file's own were checked)."""
    problems = []
    if api_url:
        source = (
            "--api-url"
            if overrides.api_url
            else (ENV_API_URL if env.get(ENV_API_URL) else "sources.api.base_url")
        )
        problem = api_url_problem(api_url)
        if problem:
            problems.append(f"{source}: the API URL {problem}")
    if dsn:
        source = (
            "--dsn" if overrides.dsn else (ENV_DSN if env.get(ENV_DSN) else "sources.database.dsn")
        )
        problem = dsn_problem(dsn)
        if problem:
            problems.append(f"{source}: the DSN {problem}")
    if overrides.interval:
        try:
            _interval(overrides.interval)
        except DurationError as exc:
            problems.append(f"--interval: {exc}")
    return problems


def _interval(text: str) -> timedelta:
    value = parse_duration(text)
    low, high = INTERVAL_RANGE
    if not low <= value <= high:
        raise DurationError(
            f"{text!r} is out of range: between {format_duration(low)} and "
            f"{format_duration(high)} (polling faster than every second helps nobody)"
        )
    return value


def _register_dsn_password(dsn: str) -> None:
    from urllib.parse import parse_qs, unquote, urlsplit

    try:
        parts = urlsplit(dsn)
        if parts.password:
            register_secret(parts.password)
            register_secret(unquote(parts.password))
        for value in parse_qs(parts.query).get("password", []):
            register_secret(value)
    except ValueError:
        pass
    for token in dsn.split():
        key, _, value = token.partition("=")
        if key.strip().lower() == "password" and value:
            register_secret(value.strip("'\""))
