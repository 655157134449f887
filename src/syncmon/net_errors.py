"""Why an HTTP request could not connect, in the words an on-call engineer acts on.

httpx wraps the operating system's error in a chain of exceptions; every client (health
polls, the conflicts API, Alertmanager, webhooks) reports it the same way.
"""

from __future__ import annotations

import socket

from syncmon.redaction import redact


def explain_connect_error(exc: BaseException) -> str:
    """`connection refused`, `host not found (DNS)`, a TLS error: what httpx buries in a chain."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    causes = [c for c in chain if isinstance(c, OSError)]
    for cause in causes:
        if isinstance(cause, ConnectionRefusedError) or cause.errno == 111:
            return "connection refused"
        for inner in getattr(cause, "exceptions", ()):  # anyio groups per-address failures
            if isinstance(inner, ConnectionRefusedError):
                return "connection refused"
    text = " ".join(str(c) for c in chain).lower()
    if "refused" in text:
        return "connection refused"
    if any(isinstance(c, socket.gaierror) for c in chain) or "name or service not known" in text:
        return "host not found (DNS)"
    if "certificate" in text or "ssl" in text:
        return redact(f"TLS error: {exc}")
    return redact(f"cannot connect: {exc}" if str(exc) else "cannot connect")
