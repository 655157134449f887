"""`watch --metrics-port` holds no thread for a connection that says nothing (issue 16 item 9):
its request line and headers must arrive within the header timeout, in all, else it is
closed; a real scrape is still answered."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from syncmon.headless.exposition import WatchMetrics
from syncmon.headless.metrics_server import HEADER_TIMEOUT

TIMEOUT = 0.5  # seconds, for the test's server; the watcher's own is HEADER_TIMEOUT


@pytest.fixture
def served() -> Iterator[int]:
    metrics = WatchMetrics()
    metrics.serve("127.0.0.1", 0, header_timeout=TIMEOUT)
    assert metrics.port is not None
    yield metrics.port
    metrics.close()


def closed_by_server(sock: socket.socket, *, within: float) -> bool:
    """True once the server closes the connection (recv gives b''), waiting up to `within`."""
    sock.settimeout(within)
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def metrics_threads() -> int:
    """Threads serving one connection each (socketserver names them after their target)."""
    return sum(1 for t in threading.enumerate() if "process_request_thread" in t.name)


def wait_for(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())


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


def test_idle_connections_do_not_keep_a_thread_each() -> None:
    metrics = WatchMetrics()
    metrics.serve("127.0.0.1", 0, header_timeout=3.0)  # long enough to see the threads
    assert metrics.port is not None
    before = metrics_threads()
    sockets = [socket.create_connection(("127.0.0.1", metrics.port)) for _ in range(20)]
    try:
        assert wait_for(lambda: metrics_threads() >= before + 20, timeout=3)
        assert all(closed_by_server(s, within=3.0 + 5) for s in sockets)
        assert wait_for(lambda: metrics_threads() <= before, timeout=5), metrics_threads()
    finally:
        for s in sockets:
            s.close()
        metrics.close()


def test_a_scrape_is_still_answered(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served), timeout=5) as sock:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.0 200") or answer.startswith(b"HTTP/1.1 200")
    assert b"syncmon_evaluations_total" in answer


def test_the_watchers_header_timeout_is_generous_for_prometheus() -> None:
    assert 5 <= HEADER_TIMEOUT <= 30
