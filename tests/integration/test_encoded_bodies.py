"""Bodies as sent (SPEC §15, issue 16 item 4): a health or API body is decoded as its
`Content-Encoding` says, and the size cap counts decoded bytes — exactly the cap is read
whole, one byte more is cut, and a gzip bomb is cut at the cap without expanding."""

from __future__ import annotations

import gzip
import json
import tracemalloc
import zlib
from collections.abc import Callable

import pytest

from syncmon.core.clock import wall_clock
from syncmon.core.endpoints import EndpointResult
from syncmon.core.metrics import EndpointStatus
from syncmon.sources.conflicts import CONFLICTS_PATH, ConflictsClient
from syncmon.sources.health import HealthPoller
from syncmon.transport import net
from tests.integration.http_endpoints import (
    SECURITY_HEADERS,
    Behaviour,
    EndpointServer,
    Writer,
    answer,
    response,
)

DOWN = b'{"status": "down"}'


def encoded(body: bytes, encoding: str, *, status: int = 200) -> Behaviour:
    """Answer `body` as it is (already encoded), labelled with `encoding`."""
    return answer(status, raw=body, headers={**SECURITY_HEADERS, "Content-Encoding": encoding})


async def poll_one(behaviour: Behaviour) -> EndpointResult:
    async with EndpointServer({"/h": behaviour}) as server:
        poller = HealthPoller(server.url, {"h": "/h"}, timeout=5.0, clock=wall_clock)
        try:
            return await poller.poll_one("h", "/h")
        finally:
            await poller.close()


async def fetch(behaviour: Behaviour, cap: int) -> net.Reply:
    async with EndpointServer({"/b": behaviour}) as server:
        client = net.build_client(server.url, timeout=5.0)
        try:
            return await net.request(
                client,
                "GET",
                server.url + "/b",
                where="b",
                deadline=10.0,
                max_body=cap,
                truncate=True,
            )
        finally:
            await client.aclose()


# --- what the body says counts, however it was sent -------------------------------------------


async def test_a_gzip_body_saying_down_is_down_not_a_false_ok() -> None:
    result = await poll_one(encoded(gzip.compress(DOWN), "gzip"))
    assert result.status is EndpointStatus.DOWN
    assert "not understood" not in (result.error or "")


@pytest.mark.parametrize(
    ("name", "compress"),
    [
        ("deflate", lambda b: zlib.compress(b)),  # RFC 9110: the zlib format
        ("deflate", lambda b: zlib.compress(b, wbits=-15)),  # raw deflate, as some servers send
        ("x-gzip", gzip.compress),
        ("GZIP", gzip.compress),  # tokens are case-insensitive
    ],
)
async def test_every_supported_encoding_is_read(
    name: str, compress: Callable[[bytes], bytes]
) -> None:
    body = compress(b'{"status": "warn"}')
    result = await poll_one(encoded(body, name))
    assert result.status is EndpointStatus.DEGRADED
    assert result.http_status == 200


async def test_identity_is_the_body_itself() -> None:
    result = await poll_one(encoded(DOWN, "identity"))
    assert result.status is EndpointStatus.DOWN


@pytest.mark.parametrize(
    ("encoding", "body", "reason"),
    [
        ("br", b"\x1b\x10\x00\xf8\xa5", "Content-Encoding 'br', which syncmon does not decode"),
        ("gzip, gzip", gzip.compress(gzip.compress(DOWN)), "'gzip, gzip'"),
        ("gzip", b"this is not gzip at all", "body is not valid gzip"),
        ("gzip", gzip.compress(DOWN)[:12], "gzip body ends early"),
    ],
)
async def test_a_body_that_cannot_be_decoded_is_degraded_with_the_reason_never_plain_up(
    encoding: str, body: bytes, reason: str
) -> None:
    result = await poll_one(encoded(body, encoding))
    assert result.status is EndpointStatus.DEGRADED
    assert reason in (result.error or ""), result.error
    assert (result.error or "").endswith("status unknown")


async def test_a_non_2xx_with_an_unreadable_body_is_still_down() -> None:
    result = await poll_one(encoded(b"\x00\x01", "br", status=503))
    assert result.status is EndpointStatus.DOWN
    assert result.http_status == 503


async def test_the_conflicts_api_reads_gzip_and_names_an_encoding_it_cannot() -> None:
    listing = json.dumps({"conflicts": []}).encode()
    for behaviour, error in (
        (encoded(gzip.compress(listing), "gzip"), None),
        (encoded(listing, "br"), "which syncmon does not decode"),
    ):
        async with EndpointServer({CONFLICTS_PATH: behaviour}) as server:
            client = ConflictsClient(server.url, timeout=5.0)
            try:
                listed = await client.list_open()
            finally:
                await client.close()
        if error is None:
            assert listed.error is None and listed.conflicts == []
        else:
            assert error in (listed.error or "")


# --- the cap counts decoded bytes: the boundary and the bomb --------------------------------

CAP = 4096


@pytest.mark.parametrize("encoding", ["identity", "gzip", "deflate"])
async def test_a_body_of_exactly_the_cap_is_read_whole_and_one_byte_more_is_cut(
    encoding: str,
) -> None:
    def send(plain: bytes) -> Behaviour:
        if encoding == "gzip":
            return encoded(gzip.compress(plain), encoding)
        if encoding == "deflate":
            return encoded(zlib.compress(plain), encoding)
        return answer(200, raw=plain)

    exact = bytes(range(256)) * (CAP // 256)
    assert len(exact) == CAP
    whole = await fetch(send(exact), CAP)
    assert (whole.truncated, whole.body) == (False, exact)
    over = await fetch(send(exact + b"!"), CAP)
    assert (over.truncated, over.body) == (True, exact)


def gzip_bomb(megabytes: int) -> bytes:
    """`megabytes` MiB of JSON padding, gzipped (about 1,000:1), built without holding it."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [squeeze.compress(b'{"status": "down", "pad": "')]
    block = b" " * (1024 * 1024)
    parts += [squeeze.compress(block) for _ in range(megabytes)]
    parts.append(squeeze.compress(b'"}') + squeeze.flush())
    return b"".join(parts)


def streamed(body: bytes, encoding: str) -> Behaviour:
    """Send `body` in 64 KiB writes, as a server streaming a large answer would."""

    async def behave(writer: Writer) -> None:
        headers = {**SECURITY_HEADERS, "Content-Encoding": encoding}
        writer.write(
            response(200, b"", headers).replace(
                b"Content-Length: 0", f"Content-Length: {len(body)}".encode()
            )
        )
        for start in range(0, len(body), 65536):
            writer.write(body[start : start + 65536])
            await writer.drain()

    return behave


async def test_a_gzip_bomb_is_cut_at_the_cap_without_expanding() -> None:
    bomb = gzip_bomb(512)  # 512 MiB once decoded, about half a MiB on the wire
    assert len(bomb) < 2 * 1024 * 1024
    tracemalloc.start()
    try:
        reply = await fetch(streamed(bomb, "gzip"), 1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reply.truncated and len(reply.body) == 1024 * 1024
    assert reply.body.startswith(b'{"status": "down"')
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB for a 512 MiB bomb"


async def test_a_gzip_bomb_on_a_health_endpoint_is_cut_not_read() -> None:
    result = await poll_one(streamed(gzip_bomb(64), "gzip"))
    assert result.status is EndpointStatus.UP  # 2xx, body over the cap: not understood
    assert "not read in full" in (result.error or "")


GOOD_ID = "0b6f1c1e-0000-4000-8000-000000000001"
USER_ID = "11111111-1111-4111-8111-111111111111"


@pytest.mark.parametrize(
    ("behaviour", "kind", "said"),
    [
        (
            encoded(gzip.compress(b'{"status": "resolved", "resolution_id": "r1"}'), "gzip"),
            "resolved",
            None,
        ),
        (encoded(b"\x1b\x10", "br"), "failed", "may be resolved"),
    ],
)
async def test_a_resolve_answer_is_read_as_sent_and_an_unreadable_200_is_not_called_resolved(
    behaviour: Behaviour, kind: str, said: str | None
) -> None:
    from syncmon.core.conflicts import Conflict, Resolution

    conflict = Conflict(GOOD_ID, USER_ID, "transaction", "t1", None, 3, {"a": 1}, {"a": 2}, None)
    async with EndpointServer({f"{CONFLICTS_PATH}/{GOOD_ID}/resolve": behaviour}) as server:
        client = ConflictsClient(server.url, timeout=5.0)
        try:
            outcome = await client.resolve(conflict, Resolution.KEEP_LOCAL, resolved_by="alice")
        finally:
            await client.close()
    assert outcome.kind == kind
    if said is not None:
        assert said in outcome.message and "which syncmon does not decode" in outcome.message
