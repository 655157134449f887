"""The HTTP server behind `watch --metrics-port`: prometheus-client's WSGI app on a
thread-per-connection server whose connections must send their request line and headers
within `header_timeout` seconds in all (not per read), else they are closed.

prometheus-client's own `start_http_server` waits forever: every connection that sends
nothing, or trickles a header byte now and then, holds a thread until the process ends.
Prometheus sends its whole request at once, so 10 s is generous.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

HEADER_TIMEOUT = 10.0


class _DeadlineReader:
    """Reads the request line and headers straight from the socket, every wait bounded by
    what is left of one deadline: a socket timeout alone restarts with each byte, so a
    client trickling a byte a second would never be cut. The body (none for a scrape) is
    read as usual, from what was already received first."""

    def __init__(self, raw: Any, connection: socket.socket, deadline: float) -> None:
        self._raw = raw
        self._connection = connection
        self._deadline = deadline
        self._buffer = b""

    def readline(self, limit: int = -1) -> bytes:
        while b"\n" not in self._buffer and (limit < 0 or len(self._buffer) < limit):
            left = self._deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("request headers not received in time")
            self._connection.settimeout(left)
            chunk = self._connection.recv(4096)
            if not chunk:
                break
            self._buffer += chunk
        end = self._buffer.find(b"\n") + 1 or len(self._buffer)
        if limit >= 0:
            end = min(end, limit)
        line, self._buffer = self._buffer[:end], self._buffer[end:]
        return line

    def read(self, size: int = -1) -> bytes:
        self._connection.settimeout(HEADER_TIMEOUT)
        if size < 0:
            data: bytes = self._buffer + self._raw.read()
            self._buffer = b""
            return data
        head, self._buffer = self._buffer[:size], self._buffer[size:]
        rest: bytes = self._raw.read(size - len(head)) if size > len(head) else b""
        return head + rest

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class _Handler(WSGIRequestHandler):
    """One request per connection (wsgiref closes it after the answer), logged nowhere."""

    header_timeout = HEADER_TIMEOUT
    timeout = HEADER_TIMEOUT  # socket timeout for writing the answer too

    def handle(self) -> None:
        deadline = time.monotonic() + self.header_timeout
        self.rfile = _DeadlineReader(self.rfile, self.connection, deadline)  # type: ignore[assignment]
        try:
            super().handle()
        except OSError:  # timed out (TimeoutError is an OSError) or the peer left: just close
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # the stdlib names it format
        """Scrapes are not worth a log line each."""


def start_metrics_server(
    host: str,
    port: int,
    registry: CollectorRegistry,
    *,
    header_timeout: float = HEADER_TIMEOUT,
) -> WSGIServer:
    """Serve `registry` on host:port in a daemon thread; raises OSError when the port is taken.
    Stop it with `shutdown()` then `server_close()`."""

    class Handler(_Handler):
        pass

    Handler.header_timeout = header_timeout
    Handler.timeout = header_timeout

    class Server(ThreadingWSGIServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        request_queue_size = 64  # socketserver's 5 leaves a sixth scraper waiting on SYN

    server = make_server(host, port, make_wsgi_app(registry), Server, handler_class=Handler)
    threading.Thread(target=server.serve_forever, name="syncmon-metrics", daemon=True).start()
    return server
