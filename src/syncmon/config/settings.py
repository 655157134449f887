"""The effective settings of one run: flag > environment > file > default (SPEC §5)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from syncmon.config.loader import Config, load_config
from syncmon.config.models import DEFAULT_ENDPOINTS
from syncmon.core.durations import parse_duration
from syncmon.redaction import dsn_location, mask_dsn, register_secret

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
    dsn: str | None = None
    interval: str | None = None


@dataclass(frozen=True)
class Settings:
    config: Config
    api_url: str | None
    api_token: str | None
    dsn: str | None
    interval: timedelta | None
    health_timeout: float = 5.0
    conflicts_timeout: float = 15.0
    endpoints: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ENDPOINTS))
    verify_tls: bool | str = True
    timestamp_timezone: str | None = None
    plaid_pattern: str = "plaid%"
    statement_timeout: float = 5.0
    lookback: timedelta = timedelta(hours=24)

    @property
    def rules(self) -> tuple:  # type: ignore[type-arg]
        return self.config.rules

    @property
    def masked_dsn(self) -> str | None:
        return mask_dsn(self.dsn) if self.dsn else None

    @property
    def database_label(self) -> str:
        """`host:port/db` for headers: never the user or password."""
        if not self.dsn:
            return "no database configured"
        return dsn_location(self.dsn)


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
    """Load the config (raising ConfigInvalid/OSError) and apply the precedence rules."""
    env = os.environ if env is None else env
    path = config_path(overrides, env)
    config = load_config(path, env)
    sources = config.model.sources
    api, database = sources.api, sources.database
    token = env.get(ENV_TOKEN) or None
    register_secret(token)
    dsn = overrides.dsn or env.get(ENV_DSN) or database.dsn
    if dsn:
        _register_dsn_password(dsn)
    interval_text = overrides.interval
    interval = parse_duration(interval_text) if interval_text else sources.interval
    verify: bool | str = api.ca_bundle if (api.verify_tls and api.ca_bundle) else api.verify_tls
    return Settings(
        config=config,
        api_url=(overrides.api_url or env.get(ENV_API_URL) or api.base_url or "").rstrip("/")
        or None,
        api_token=token,
        dsn=dsn or None,
        interval=interval,  # type: ignore[arg-type]
        health_timeout=api.timeout.total_seconds(),  # type: ignore[attr-defined]
        conflicts_timeout=api.conflicts_timeout.total_seconds(),  # type: ignore[attr-defined]
        endpoints=dict(api.endpoints),
        verify_tls=verify,
        timestamp_timezone=database.timestamp_timezone,
        plaid_pattern=database.plaid_operation_pattern,
        statement_timeout=database.statement_timeout.total_seconds(),  # type: ignore[attr-defined]
        lookback=config.model.evaluation.lookback,  # type: ignore[arg-type]
    )


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
