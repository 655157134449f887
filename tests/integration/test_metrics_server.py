"""`watch --metrics-port` holds nothing for a connection that says nothing (issue 16 item 9):
its request line and headers must arrive within the head timeout, in all, else it is
closed; a real scrape is still answered. The server is the watcher's own (asyncio, no thread
per connection), run here in a loop of its own thread so the test can use plain sockets."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from syncmon.headless.exposition import WatchMetrics
from syncmon.headless.serve import HEAD_TIMEOUT, StateServer

TIMEOUT = 0.5  # seconds, for the test's server; the watcher's own is HEAD_TIMEOUT


class ServerThread:
    """A StateServer on 127.0.0.1 (a free port) in its own event loop and thread."""

    def __init__(self, head_timeout: float) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = StateServer(
            WatchMetrics().registry, token=None, heartbeat=1.0, head_timeout=head_timeout
        )
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> int:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start("127.0.0.1", 0), self.loop).result(10)
        assert self.server.port is not None
        return self.server.port

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def served() -> Iterator[int]:
    with ServerThread(TIMEOUT) as port:
        yield port


def closed_by_server(sock: socket.socket, *, within: float) -> bool:
    """True once the server closes the connection (recv gives b''), waiting up to `within`."""
    sock.settimeout(within)
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_a_connection_that_sends_nothing_is_closed(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served)) as sock:
        assert closed_by_server(sock, within=TIMEOUT + 5)


def test_headers_trickled_a_byte_at_a_time_are_cut_at_the_deadline_not_per_read(
    served: int,
) -> None:
    with socket.create_connection(("127.0.0.1", served)) as sock:
        sock.sendall(b"GET /metrics HTTP/1.1\r\n")
        started = time.monotonic()
        cut = False
        # one byte every 0.1 s: each read is quick, the headers never end
        while time.monotonic() - started < TIMEOUT + 5:
            try:
                sock.sendall(b"X")
            except OSError:
                cut = True
                break
            if closed_by_server(sock, within=0.1):
                cut = True
                break
        assert cut, "the server kept reading a trickle of headers"


def test_idle_connections_hold_no_thread_and_are_all_closed() -> None:
    before = threading.active_count()
    with ServerThread(1.0) as port:
        sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
        try:
            assert threading.active_count() <= before + 1  # the server's loop, nothing more
            assert all(closed_by_server(s, within=1.0 + 5) for s in sockets)
        finally:
            for s in sockets:
                s.close()


def test_a_scrape_is_still_answered(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served), timeout=5) as sock:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.0 200") or answer.startswith(b"HTTP/1.1 200")
    assert b"syncmon_evaluations_total" in answer


def test_the_watchers_head_timeout_is_generous_for_prometheus() -> None:
    assert 5 <= HEAD_TIMEOUT <= 30
