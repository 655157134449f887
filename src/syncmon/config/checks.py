"""Checks on where syncmon connects, made before anything starts (SPEC §12).

An API port of 99999 or a DSN port `notaport` used to surface as a traceback from deep
inside httpx or asyncpg, or as "connection refused", while a watcher ran on, blind.
Each check returns why a value is unusable, or None; the answer never repeats a secret
(only the scheme, the host list's shape and the port text are ever quoted).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from syncmon.core.text import sanitize

DSN_SCHEMES = ("postgresql", "postgres")


def api_url_problem(url: str) -> str | None:
    """Why `url` cannot be an HTTP base URL (API, Alertmanager, webhook), or None."""
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "is not a URL (e.g. https://api.example.com)"
    if parts.scheme.lower() not in ("http", "https"):
        return "must start with http:// or https://"
    hostport = parts.netloc.rpartition("@")[2]
    if not parts.hostname:
        return "has no host (e.g. https://api.example.com)"
    return _port_problem(_port_text(hostport))


def dsn_problem(dsn: str) -> str | None:
    """Why asyncpg could not use `dsn`, or None. Only URL DSNs reach asyncpg."""
    try:
        parts = urlsplit(dsn.strip())
    except ValueError:
        return "is not a postgresql:// URL"
    if parts.scheme.lower() not in DSN_SCHEMES:
        return "must be a URL such as postgresql://user@host:5432/db"
    hosts = parts.netloc.rpartition("@")[2]
    for hostport in hosts.split(","):
        problem = _port_problem(_port_text(hostport))
        if problem:
            return problem
    try:
        query = parse_qs(parts.query)
    except ValueError:
        return "has a malformed query string"
    for value in query.get("port", []):
        for port in value.split(","):
            problem = _port_problem(port or None)
            if problem:
                return problem
    return None


def _port_text(hostport: str) -> str | None:
    """The text after the host's last colon (IPv6 literals in brackets), None when absent."""
    if hostport.startswith("["):
        _, _, rest = hostport.partition("]")
        return rest[1:] if rest.startswith(":") else None
    if ":" not in hostport:
        return None
    return hostport.rpartition(":")[2]


def _port_problem(text: str | None) -> str | None:
    if text is None or text == "":
        return None
    shown = sanitize(text, single_line=True, limit=20)
    if not text.isascii() or not text.isdigit():
        return f"port {shown!r} is not a number (1-65535)"
    if len(text) > 5 or not 1 <= int(text) <= 65535:
        return f"port {shown} is out of range (1-65535)"
    return None
