"""framing.server: the block-echo server of chapter 5 (framing PROFILE §2)."""

from __future__ import annotations

import random
import selectors
import time

import pytest

from suites.framing.protocol import (
    HEADER_SIZE,
    TERMINATOR,
    block,
    blocks,
    first_difference,
    header_text,
    hexs,
    payload_text,
    pseudo_random,
)
from wirecheck import (
    MUST,
    SHOULD,
    ConformanceFailure,
    ServerHandle,
    TcpConnection,
    Timeouts,
    case,
    expect,
)
from wirecheck.transcript import RECEIVED, SENT
from wirecheck.wire import describe

pytestmark = pytest.mark.role("framing.server")
# Every case carries a spec marker, through wirecheck.case: its clause, level and requirement.

SETTLE = 0.05  # seconds given to the server to notice a close before the next connection
SPLIT_PAUSE = 0.1  # framing profile §2.4: "a pause of 100 ms"
OCTET_PAUSE = 0.001  # framing profile §2.4: "a pause of about 1 ms between writes"
STALLED_WAIT = 1.0  # seconds another client's answer may take while one client is stalled
CHUNK = 65536


# -- helpers ---------------------------------------------------------------------------------------
def expect_answer(
    conn: TcpConnection, payload: bytes, *, what: str = "", timeout: float | None = None
) -> None:
    """Accept exactly the block carrying ``payload`` as the next answer on ``conn``."""
    __tracebackhide__ = True
    name = what or f"the answer to the block {payload_text(payload)}"
    wanted = block(payload)[:HEADER_SIZE]
    header = conn.recv_exactly(
        HEADER_SIZE, timeout=timeout, what=f"{name}: a header {hexs(wanted)}"
    )
    if header != wanted:
        after = bytes(conn.buffer[:32])
        raise ConformanceFailure(
            f"{name}: a header {hexs(wanted)} ({len(payload):,} octets)",
            header_text(header) + (f", then {describe(after, 64)}" if after else ""),
        )
    got = conn.recv_exactly(
        len(payload), timeout=timeout, what=f"{name}: {len(payload):,} payload octets"
    )
    expect(
        got == payload,
        expected=f"{name}: the same {len(payload):,} octets",
        actual=payload_text(got) + " — " + first_difference(got, payload),
    )


def send_raw(conn: TcpConnection, data: bytes) -> bool:
    """Send without judging (the peer may have closed); False if the send failed."""
    try:
        conn.sock.settimeout(conn.timeout)
        conn.sock.sendall(data)
    except OSError as exc:
        conn.transcript.note(conn.channel, f"send failed: {exc}")
        return False
    conn.transcript.record(conn.channel, SENT, data)
    return True


def end(conn: TcpConnection, timeouts: Timeouts, *, terminator_sent: bool = False) -> None:
    """End the conversation with the terminator. Its answer and the close are judged in 2.3
    only; here only a further data block, an answer nobody asked for, fails the case."""
    __tracebackhide__ = True
    if terminator_sent or send_raw(conn, TERMINATOR):
        conn.wait_readable(lambda got: len(got) >= HEADER_SIZE, timeout=timeouts(1.0))
    extra = bytes(conn.buffer)
    conn.close()
    expect(
        len(extra) < HEADER_SIZE or extra.startswith(TERMINATOR),
        expected="one answer per block sent, then (not judged here) the terminator's answer",
        actual=f"a further answer: {header_text(extra[:HEADER_SIZE])}, "
        f"{describe(extra[HEADER_SIZE:], 64)}",
    )


def send_while_reading(conn: TcpConnection, data: bytes, timeout: float) -> None:
    """Send ``data`` while reading whatever arrives into ``conn.buffer``, so a server that
    answers as it reads is never stuck behind answers the suite has not read yet."""
    __tracebackhide__ = True
    sock, view, sent = conn.sock, memoryview(data), 0
    deadline = time.monotonic() + timeout
    limit = 2 * len(data) + CHUNK
    sock.setblocking(False)
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
            while sent < len(data):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ConformanceFailure(
                        f"the server reads the {len(data):,} octets sent",
                        f"only {sent:,} could be sent in {timeout:.1f} s: it stopped reading",
                    )
                for _key, events in sel.select(remaining):
                    if events & selectors.EVENT_READ:
                        _read_available(conn, sel)
                        if len(conn.buffer) > limit:
                            raise ConformanceFailure(
                                "answers no longer than the blocks sent",
                                f"more than {limit:,} octets arrived",
                            )
                    if events & selectors.EVENT_WRITE:
                        try:
                            n = sock.send(view[sent : sent + CHUNK])
                        except BlockingIOError:
                            continue
                        except OSError as exc:
                            conn.transcript.note(conn.channel, f"send failed: {exc}")
                            raise ConformanceFailure(
                                "the connection stays open while the suite sends",
                                f"send failed after {sent:,} of {len(data):,} octets: {exc}",
                            ) from None
                        conn.transcript.record(conn.channel, SENT, bytes(view[sent : sent + n]))
                        sent += n
    finally:
        sock.setblocking(True)


def _read_available(conn: TcpConnection, sel: selectors.BaseSelector) -> None:
    try:
        chunk = conn.sock.recv(CHUNK)
    except BlockingIOError:
        return
    except OSError as exc:
        conn.transcript.note(conn.channel, f"recv failed: {exc}")
        chunk = b""
    if chunk:
        conn.transcript.record(conn.channel, RECEIVED, chunk)
        conn.buffer += chunk
        return
    conn.transcript.note(conn.channel, "end of stream from the implementation")
    conn.eof = True
    sel.modify(conn.sock, selectors.EVENT_WRITE)


def serve_hello(server: ServerHandle, timeouts: Timeouts, label: str) -> None:
    """framing profile §2.6: "served normally" means that the block `hello`, sent on that
    connection, is answered with `hello`."""
    __tracebackhide__ = True
    with server.connect(label) as conn:
        conn.send(block(b"hello"))
        expect_answer(conn, b"hello", what=f"on {label}: the answer to b'hello'")
        end(conn, timeouts)


# -- §2.1 Block echo -------------------------------------------------------------------------------
ECHO = (
    "The server MUST answer each block with exactly one block whose payload is the same octets, "
    "in the order the blocks were received, and MUST send each answer as soon as it has "
    "received the whole block."
)


@case("framing/2.1/1", MUST, ECHO)
def test_hello(server: ServerHandle, timeouts: Timeouts) -> None:
    with server.connect() as conn:
        conn.send(bytes.fromhex("00 00 00 05 68 65 6c 6c 6f"))
        expect_answer(conn, b"hello")
        end(conn, timeouts)


@case("framing/2.1/2", MUST, ECHO)
def test_any_octets(server: ServerHandle, timeouts: Timeouts) -> None:
    payloads = [bytes(range(256)), bytes(16)]
    with server.connect() as conn:
        conn.send(blocks(payloads))
        expect_answer(conn, payloads[0], what="the answer to the block of the 256 octets 00 … ff")
        expect_answer(conn, payloads[1], what="the answer to the block of 16 NUL octets")
        end(conn, timeouts)


@case("framing/2.1/3", MUST, ECHO)
def test_lengths(server: ServerHandle, timeouts: Timeouts) -> None:
    sizes = [1, 255, 256, 65536, 1 << 20]
    payloads = [pseudo_random(n, f"framing/2.1/3 {n}") for n in sizes]
    with server.connect() as conn:
        send_while_reading(conn, blocks(payloads), timeouts(10.0))
        for i, payload in enumerate(payloads):
            what = f"the answer to block {i + 1} of 5 ({len(payload):,} octets)"
            expect_answer(conn, payload, what=what)
        end(conn, timeouts)


@case("framing/2.1/4", MUST, ECHO)
def test_answers_without_delay(server: ServerHandle, timeouts: Timeouts) -> None:
    with server.connect() as conn:
        for payload in (b"one", b"two", b"three"):
            conn.send(block(payload))
            expect_answer(
                conn, payload, what=f"the answer to {payload!r}, before the next block is sent"
            )
        end(conn, timeouts)


# -- §2.2 Byte order -------------------------------------------------------------------------------
BYTE_ORDER = (
    "The server MUST read each length as an unsigned 32-bit big-endian integer, and MUST write "
    "the lengths of its answers the same way."
)


def echo_one(server: ServerHandle, timeouts: Timeouts, payload: bytes, header: str) -> None:
    __tracebackhide__ = True
    assert block(payload)[:HEADER_SIZE] == bytes.fromhex(header)
    with server.connect() as conn:
        send_while_reading(conn, block(payload), timeouts(5.0))
        expect_answer(conn, payload, what=f"the answer to the block with header {header}")
        end(conn, timeouts)


@case("framing/2.2/1", MUST, BYTE_ORDER)
def test_header_00_00_01_02(server: ServerHandle, timeouts: Timeouts) -> None:
    echo_one(server, timeouts, pseudo_random(258, "framing/2.2/1"), "00 00 01 02")


@case("framing/2.2/2", MUST, BYTE_ORDER)
def test_header_00_00_00_01(server: ServerHandle, timeouts: Timeouts) -> None:
    echo_one(server, timeouts, b"\x2a", "00 00 00 01")


@case("framing/2.2/3", MUST, BYTE_ORDER)
def test_header_00_01_01_03(server: ServerHandle, timeouts: Timeouts) -> None:
    echo_one(server, timeouts, pseudo_random(65795, "framing/2.2/3"), "00 01 01 03")


# -- §2.3 Terminator -------------------------------------------------------------------------------
TERMINATOR_RULE = (
    "When the server receives a zero-length block it MUST answer with a zero-length block "
    "(`00 00 00 00`) and then close the connection. It MUST NOT send anything after that answer."
)


def expect_exactly_then_eof(conn: TcpConnection, wanted: bytes, timeouts: Timeouts) -> None:
    """Read to end-of-stream (the suite never closes first) and accept exactly ``wanted``."""
    __tracebackhide__ = True
    expected = f"{describe(wanted, 64)}, then end-of-stream, with nothing in between or after"
    got = conn.recv_until_eof(limit=len(wanted) + 4096, timeout=timeouts.reply_s, what=expected)
    expect(got == wanted, expected=expected, actual=f"{describe(got, 64)}, then end-of-stream")


@case("framing/2.3/1", MUST, TERMINATOR_RULE)
def test_terminator_alone(server: ServerHandle, timeouts: Timeouts) -> None:
    with server.connect() as conn:
        conn.send(TERMINATOR)
        expect_exactly_then_eof(conn, TERMINATOR, timeouts)


@case("framing/2.3/2", MUST, TERMINATOR_RULE)
def test_terminator_after_data(server: ServerHandle, timeouts: Timeouts) -> None:
    payloads = [b"a", b"bb", b"ccc"]
    with server.connect() as conn:
        for payload in payloads:
            conn.send(block(payload))
        conn.send(TERMINATOR)
        expect_exactly_then_eof(conn, blocks(payloads) + TERMINATOR, timeouts)


# -- §2.4 Segmentation -----------------------------------------------------------------------------
SEGMENTATION = (
    "The server MUST handle a block the same way however its octets are divided among reads: a "
    "header or a payload may arrive in several pieces, and several blocks may arrive in one piece."
)


@case("framing/2.4/1", MUST, SEGMENTATION)
def test_one_octet_at_a_time(server: ServerHandle, timeouts: Timeouts) -> None:
    payloads = [b"abc", pseudo_random(300, "framing/2.4/1"), b"xyz"]
    with server.connect() as conn:
        conn.send_pieces(blocks(payloads), size=1, pause=OCTET_PAUSE)
        for payload in payloads:
            expect_answer(conn, payload)
        end(conn, timeouts)


@case("framing/2.4/2", MUST, SEGMENTATION)
def test_split_headers(server: ServerHandle, timeouts: Timeouts) -> None:
    with server.connect() as conn:
        for split, payload in ((1, b"hello"), (2, b"world"), (3, b"again")):
            header = block(payload)[:HEADER_SIZE]
            conn.send(header[:split])
            time.sleep(SPLIT_PAUSE)
            conn.send(header[split:])
            conn.send(payload)
            expect_answer(
                conn, payload, what=f"the answer to {payload!r}, its header split after {split}"
            )
        end(conn, timeouts)


@case("framing/2.4/3", MUST, SEGMENTATION)
def test_straddling_writes(server: ServerHandle, timeouts: Timeouts) -> None:
    first, second = (pseudo_random(1000, f"framing/2.4/3 {i}") for i in (1, 2))
    data = block(first) + block(second)
    half = HEADER_SIZE + 500
    writes = [data[:half], data[half : 1004 + half], data[1004 + half :]]
    with server.connect() as conn:
        for i, piece in enumerate(writes):
            if i:
                time.sleep(SPLIT_PAUSE)
            conn.send(piece)
        expect_answer(conn, first, what="the answer to the first block of 1,000 octets")
        expect_answer(conn, second, what="the answer to the second block of 1,000 octets")
        end(conn, timeouts)


@case("framing/2.4/4", MUST, SEGMENTATION)
def test_coalesced(server: ServerHandle, timeouts: Timeouts) -> None:
    payloads = [b"one", b"two", b"three", b"four", b"five"]
    with server.connect() as conn:
        conn.send(blocks(payloads) + TERMINATOR)
        for payload in payloads:
            expect_answer(conn, payload)
        end(conn, timeouts, terminator_sent=True)


# -- §2.5 Many blocks per connection ---------------------------------------------------------------
MANY = (
    "The server MUST keep serving a connection until the terminator: it MUST answer any number "
    "of blocks on one connection (the suite sends at least 100)."
)


@case("framing/2.5/1", MUST, MANY)
def test_lock_step(server: ServerHandle, timeouts: Timeouts) -> None:
    with server.connect() as conn:
        for i in range(100):
            payload = f"block {i}".encode()
            conn.send(block(payload))
            expect_answer(conn, payload, what=f"the answer to {payload!r} (block {i + 1} of 100)")
        end(conn, timeouts)


@case("framing/2.5/2", MUST, MANY)
def test_pipelined(server: ServerHandle, timeouts: Timeouts) -> None:
    rng = random.Random("framing/2.5/2")
    payloads = [rng.randbytes(rng.randint(1, 100)) for _ in range(1000)]
    with server.connect() as conn:
        send_while_reading(conn, blocks(payloads), timeouts(5.0))
        for i, payload in enumerate(payloads):
            what = f"the answer to block {i + 1} of 1,000 ({len(payload)} octets)"
            expect_answer(conn, payload, what=what)
        end(conn, timeouts)


# -- §2.6 Robustness -------------------------------------------------------------------------------
ROBUST = (
    "A connection that ends before a block is complete, by end-of-stream or by reset, in the "
    "middle of a header or of a payload, MUST NOT disturb the server: the server MUST keep "
    "serving its other connections and MUST accept and serve new ones."
)
PARTIAL_100 = block(bytes(100))[: HEADER_SIZE + 10]  # a header announcing 100 octets, and 10


@case("framing/2.6/1", MUST, ROBUST)
def test_mid_header_close(server: ServerHandle, timeouts: Timeouts) -> None:
    with server.connect("leaves mid-header") as conn:
        conn.send(b"\x00\x00")
    time.sleep(SETTLE)
    serve_hello(server, timeouts, "a new connection")


@case("framing/2.6/2", MUST, ROBUST)
def test_mid_payload_close(server: ServerHandle, timeouts: Timeouts) -> None:
    with server.connect("leaves mid-payload") as conn:
        conn.send(PARTIAL_100)
    time.sleep(SETTLE)
    serve_hello(server, timeouts, "a new connection")


@case("framing/2.6/3", MUST, ROBUST)
def test_mid_payload_reset(server: ServerHandle, timeouts: Timeouts) -> None:
    conn = server.connect("resets mid-payload")
    conn.send(PARTIAL_100)
    conn.reset()
    time.sleep(SETTLE)
    serve_hello(server, timeouts, "a new connection")


@case("framing/2.6/4", MUST, ROBUST)
def test_other_connections(server: ServerHandle, timeouts: Timeouts) -> None:
    with server.connect("A") as a:
        a.send(block(b"first"))
        expect_answer(a, b"first", what="on A: the answer to b'first'")
        with server.connect("B, leaves mid-payload") as b:
            b.send(PARTIAL_100)
        time.sleep(SETTLE)
        a.send(block(b"second"))
        expect_answer(a, b"second", what="on A, after B left: the answer to b'second'")
        end(a, timeouts)
    serve_hello(server, timeouts, "C")


@case(
    "framing/2.6/5",
    MUST,
    "The server MUST NOT answer an incomplete block. When a client's stream ends, the server "
    "MUST close its side of the connection once it has sent the answers it owes.",
)
def test_half_close_mid_block(server: ServerHandle, timeouts: Timeouts) -> None:
    with server.connect("half-closes mid-block") as conn:
        conn.send(block(b"whole"))
        expect_answer(conn, b"whole")
        conn.send(block(b"0123456789")[: HEADER_SIZE + 3])
        conn.shutdown_write()
        expected = "end-of-stream, with no answer to the incomplete block"
        rest = conn.recv_until_eof(limit=4096, timeout=timeouts.reply_s, what=expected)
        expect(not rest, expected=expected, actual=f"{describe(rest, 64)}, then end-of-stream")
    serve_hello(server, timeouts, "a new connection")


# -- §2.7 Concurrency (SHOULD) ---------------------------------------------------------------------
CONCURRENT = (
    "The server SHOULD serve connections concurrently: a client that stalls in the middle of a "
    "block SHOULD NOT delay the answers to other clients."
)


def stalled_then_resumed(
    server: ServerHandle, timeouts: Timeouts, payload: bytes, cut: int, where: str
) -> None:
    __tracebackhide__ = True
    data = block(payload)
    with server.connect(f"A, stalled mid-{where}") as a:
        a.send(data[:cut])
        time.sleep(SETTLE)
        with server.connect("B") as b:
            b.send(block(b"hello"))
            expect_answer(
                b,
                b"hello",
                what=f"on B, while A is stalled mid-{where}: the answer to b'hello'",
                timeout=timeouts(STALLED_WAIT),
            )
            end(b, timeouts)
        a.send(data[cut:])
        expect_answer(a, payload, what="on A, once its block is complete: the answer to it")
        end(a, timeouts)


@case("framing/2.7/1", SHOULD, CONCURRENT)
def test_stalled_mid_header(server: ServerHandle, timeouts: Timeouts) -> None:
    stalled_then_resumed(server, timeouts, b"abc", 2, "header")


@case("framing/2.7/2", SHOULD, CONCURRENT)
def test_stalled_mid_payload(server: ServerHandle, timeouts: Timeouts) -> None:
    stalled_then_resumed(server, timeouts, b"0123456789", HEADER_SIZE + 3, "payload")
