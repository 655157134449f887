"""Keeping secrets out of every output: DSN passwords, the API token, `${...}` secrets.

Two layers: `mask_dsn` rewrites anything shaped like a URL or keyword DSN with a password,
and a process-wide registry of known secret values is scrubbed from any text that leaves
the process (errors, logs, JSON, tracebacks via `install_excepthook`).

One mechanism for rule text: a `${...}` secret expanded into a rule's name, condition,
labels or annotations is masked when the rule is loaded (`config/loader.py`), so no
output — check, watch, Alertmanager, webhooks, the dashboard, `/metrics`, or one added
later — can show it. Outputs still pass their final text through `redact` (or
`redact_json` for structures) for secrets learnt after the config (the DSN's password).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import traceback
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

MASK = "***"

# The password runs to the authority's last @ (an unescaped @ in it is still masked whole);
# the authority ends where the path, query or fragment begins, as urlsplit has it.
_URL_PASSWORD = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^\s/?#]*)@"
)
_KEYWORD_PASSWORD = re.compile(
    r"(?P<key>\bpassword\s*=\s*)(?P<q>['\"]?)(?P<pw>[^\s'\"&]+)(?P=q)", re.IGNORECASE
)
_REPR_PASSWORD = re.compile(
    r"(?P<key>password\s*[=:]\s*)(?P<q>['\"])(?P<pw>.*?)(?P=q)", re.IGNORECASE
)
_BEARER = re.compile(r"(?P<key>Bearer\s+)(?P<pw>[A-Za-z0-9\-._~+/=]+)")

_lock = threading.Lock()
_secrets: set[str] = set()
_longest_first: tuple[str, ...] = ()  # what `redact` replaces, in this order


def register_secret(value: str | None) -> None:
    """Remember a secret value so `redact` removes it wherever it appears."""
    global _longest_first
    if value and len(value) >= 3:
        with _lock:
            _secrets.add(value)
            _longest_first = tuple(sorted(_secrets, key=len, reverse=True))


def registered_secrets() -> frozenset[str]:
    with _lock:
        return frozenset(_secrets)


def mask_dsn(dsn: str) -> str:
    """`postgresql://user:pw@host/db` -> `postgresql://user:***@host/db`; keyword DSNs too."""
    try:
        parts = urlsplit(dsn)
    except ValueError:
        parts = None
    if parts is not None and parts.scheme and "@" in parts.netloc:
        userinfo, _, hostport = parts.netloc.rpartition("@")
        if ":" in userinfo:
            user = userinfo.split(":", 1)[0]
            parts = parts._replace(netloc=f"{user}:{MASK}@{hostport}")
        query = _KEYWORD_PASSWORD.sub(lambda m: m.group("key") + MASK, parts.query)
        return redact(urlunsplit(parts._replace(query=query)))
    return redact(_KEYWORD_PASSWORD.sub(lambda m: m.group("key") + MASK, dsn))


def dsn_location(dsn: str) -> str:
    """`host:port/db` of a DSN, for messages and headers: never the user or password."""
    try:
        parts = urlsplit(dsn)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(unparsable DSN)"
    if not parts.scheme:  # a keyword DSN: host=… port=… dbname=…
        words = dict(w.partition("=")[::2] for w in dsn.split() if "=" in w)
        host = words.get("host", "local socket")
        port = f":{words['port']}" if words.get("port") else ""
        return redact(f"{host}{port}/{words.get('dbname', '')}".rstrip("/"))
    host = parts.hostname or parse_qs(parts.query).get("host", ["local socket"])[0]
    return redact(f"{host}{port}{parts.path or ''}")


def redact(text: str) -> str:
    """Remove every registered secret and anything password-shaped from `text`."""
    if not text:
        return text
    # Each pattern only where it can match: a check's JSON holds a quarter of a million
    # strings for 10,000 rules, nearly all of them plain words.
    if "@" in text:
        text = _URL_PASSWORD.sub(lambda m: f"{m.group('scheme')}{m.group('user')}:{MASK}@", text)
    if "password" in text.lower():
        text = _REPR_PASSWORD.sub(
            lambda m: f"{m.group('key')}{m.group('q')}{MASK}{m.group('q')}", text
        )
        text = _KEYWORD_PASSWORD.sub(lambda m: m.group("key") + MASK, text)
    if "Bearer" in text:
        text = _BEARER.sub(lambda m: m.group("key") + MASK, text)
    for secret in _longest_first:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact_json(value: Any) -> Any:
    """`redact` over every string (keys included) of a JSON-shaped value: applied before
    `json.dumps`, so a secret is found even where JSON would escape one of its characters.
    One compact dump (C-fast) first tells whether any string could need it at all."""
    try:
        probe = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return _redact_tree(value)
    return _redact_tree(value) if _may_hold_secret(probe) else value


def _may_hold_secret(text: str) -> bool:
    if "@" in text or "Bearer" in text or "password" in text.lower():
        return True
    return any(
        secret in text or json.dumps(secret, ensure_ascii=False)[1:-1] in text
        for secret in _longest_first
    )


def _redact_tree(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(k) if isinstance(k, str) else k: _redact_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_tree(v) for v in value]
    return value


def describe_error(exc: BaseException) -> str:
    """`TypeName: message`, redacted; the form errors take in reports and logs."""
    message = str(exc).strip() or repr(exc)
    return redact(f"{type(exc).__name__}: {message}")


def _excepthook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    sys.stderr.write(redact(text))


def install_excepthook() -> None:
    """Make uncaught tracebacks go through `redact` (asyncpg reprs carry passwords)."""
    sys.excepthook = _excepthook


class RedactingFormatter(logging.Formatter):
    """A log formatter whose every line, exception text included, goes through `redact`."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
