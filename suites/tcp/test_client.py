"""tcp.client: the upper-casing echo client (tcp PROFILE §3), against the suite's own servers.

Each fake server is named for how it answers. It records what the client sent, and how the
client's stream ended, in a ``Seen``; the cases judge that record and the client's exit status.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable

import pytest

from suites.tcp.protocol import ASCII_LIMIT, excerpt, upper
from wirecheck import (
    MUST,
    CaseRecord,
    ClientRun,
    ClientRunner,
    FakeTcpServer,
    TcpConnection,
    Timeouts,
    case,
    expect,
)
from wirecheck.transcript import SENT

pytestmark = pytest.mark.role("tcp.client")
# Every case carries a spec marker, through wirecheck.case: its clause, level and requirement.

HOST = "127.0.0.1"  # the fake servers' address, and so the client's {host}
CLIENT_TIMEOUT = 15.0  # profile §3: "The client is given 15 s to run"
CHUNK = 65536
SETTLE = 0.5  # profile §3.1: "until it has {bytes} octets and 0.5 s passes without another"
EOF_WITHIN = 5.0  # profile §3.2: end-of-stream "within 5 s of the connection"
LATE_REPLY = 0.3  # profile §3.2/2: seconds between end-of-stream and the whole echo
FLIPPED_OFFSET = 500  # profile §3.3/3
SMALL_BUFFER = 16384  # profile §3.4: SO_RCVBUF and SO_SNDBUF of the suite's server
DEADLOCK_BYTES = 8_000_000  # profile §3.4: far more than the socket buffers hold
DEADLOCK_LIMIT = 30.0  # profile §3.4: exit status 0 within 30 s
STALL = 2.0  # profile §3.4: no octet moved in either direction for 2 s: a deadlock
PIECE = 1000  # profile §3.5/1: pieces of 1,000 octets ...
PIECE_PAUSE = 0.001  # ... 1 ms apart
SPLIT_PAUSE = 0.2  # profile §3.5/2: seconds between the three pieces


# -- what the suite's server saw -------------------------------------------------------------------
@dataclasses.dataclass
class Seen:
    """One connection of the client's: the octets it sent, and how its stream ended."""

    received: bytearray = dataclasses.field(default_factory=bytearray)
    eof_after: float | None = None  # seconds from the connection to the client's end-of-stream
    problem: str = ""  # what went wrong on the suite's side (a write that could not finish)

    def sent_text(self) -> str:
        return excerpt(bytes(self.received))


class Recorder:
    """Every connection a fake server accepted, in order."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._lock = threading.Lock()

    def new(self) -> Seen:
        seen = Seen()
        with self._lock:
            self.seen.append(seen)
        return seen

    def first(self) -> Seen:
        return self.seen[0] if self.seen else Seen(problem="the client never connected")


Handler = Callable[[TcpConnection], None]


def write(conn: TcpConnection, data: bytes, timeout: float) -> str:
    """A blocking write of all of ``data``; "" when done, else why it could not be."""
    conn.sock.settimeout(timeout)
    try:
        conn.sock.sendall(data)
    except TimeoutError:
        conn.transcript.note(conn.channel, f"a write blocked for {timeout:.1f} s: given up")
        return (
            f"a write of {len(data):,} octets could not finish for {timeout:.1f} s: the client "
            "was not reading (both sides blocked in a write: deadlock)"
        )
    except OSError as exc:
        conn.transcript.note(conn.channel, f"send failed: {exc}")
        return f"a write failed ({exc}): the client had closed or reset the connection"
    conn.transcript.record(conn.channel, SENT, data)
    return ""


def read_some(conn: TcpConnection, seen: Seen, started: float, timeout: float) -> bytes:
    """The next octets of the client's (b"" at end-of-stream or after ``timeout`` s)."""
    chunk = conn.recv_some(limit=CHUNK, timeout=timeout)
    seen.received += chunk
    if conn.eof and seen.eof_after is None:
        seen.eof_after = time.monotonic() - started
    return chunk


def read_until(conn: TcpConnection, seen: Seen, size: int, started: float, timeout: float) -> None:
    """Read, without answering, until ``size`` octets or end-of-stream (or ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while len(seen.received) < size and not conn.eof:
        left = deadline - time.monotonic()
        if left <= 0 or (not read_some(conn, seen, started, left) and not conn.eof):
            seen.problem = f"the client sent {len(seen.received):,} octets, then nothing more"
            return


# -- the suite's servers ---------------------------------------------------------------------------
def echo_as_it_reads(
    recorder: Recorder,
    size: int,
    timeouts: Timeouts,
    *,
    settle: float = 0.0,
    until_eof: bool = False,
) -> Handler:
    """profile §3: reads the client's octets and sends their echo as they arrive, with blocking
    writes; once it has received ``size`` octets (and, with ``settle``, no other has come for
    that long), or end-of-stream if that comes first, it closes. With ``until_eof`` it closes
    only after end-of-stream, or gives up 5 s after the connection (§3.2)."""

    def handler(conn: TcpConnection) -> None:
        with conn:
            seen, started = recorder.new(), time.monotonic()
            limit = started + timeouts(EOF_WITHIN if until_eof else CLIENT_TIMEOUT)
            while not conn.eof:
                complete = not until_eof and len(seen.received) >= size
                if complete and not settle:
                    return
                wait = limit - time.monotonic()
                if complete:
                    wait = min(wait, timeouts(settle))
                if wait <= 0:
                    break
                chunk = read_some(conn, seen, started, wait)
                if not chunk:
                    if complete or conn.eof:
                        return
                    break
                seen.problem = write(conn, upper(chunk), timeouts(STALL))
                if seen.problem:
                    return
            if until_eof and not conn.eof:
                seen.problem = f"no end-of-stream {EOF_WITHIN:g} s after the connection"

    return handler


def silent_until_eof_then_echo(recorder: Recorder, size: int, timeouts: Timeouts) -> Handler:
    """profile §3.2/2: reads until end-of-stream, sending nothing; 0.3 s after end-of-stream it
    sends the whole echo in one write and closes."""

    def handler(conn: TcpConnection) -> None:
        with conn:
            seen, started = recorder.new(), time.monotonic()
            read_until(conn, seen, 1 << 62, started, timeouts(EOF_WITHIN))
            if not conn.eof:
                seen.problem = f"no end-of-stream {EOF_WITHIN:g} s after the connection"
                return
            seen.problem = ""
            time.sleep(timeouts(LATE_REPLY))
            write(conn, upper(bytes(seen.received)), timeouts(STALL))

    return handler


Reply = Callable[[bytes], bytes | None]  # the octets to send back (None: reset instead)


def reply_when_complete(recorder: Recorder, size: int, timeouts: Timeouts, reply: Reply) -> Handler:
    """profile §3.3: once it has the ``size`` octets (or end-of-stream), it sends ``reply`` of
    them in one write and closes, or resets the connection when ``reply`` gives None."""

    def handler(conn: TcpConnection) -> None:
        seen, started = recorder.new(), time.monotonic()
        read_until(conn, seen, size, started, timeouts(CLIENT_TIMEOUT))
        answer = reply(bytes(seen.received))
        if answer is None:
            conn.reset()
            return
        with conn:
            write(conn, answer, timeouts(STALL))

    return handler


def echo_in_pieces(
    recorder: Recorder, size: int, timeouts: Timeouts, pieces: list[int], pause: float
) -> Handler:
    """profile §3.5: once it has the ``size`` octets, it sends the echo in pieces of the given
    sizes (the last one takes the rest), ``pause`` seconds apart, and closes."""

    def handler(conn: TcpConnection) -> None:
        with conn:
            seen, started = recorder.new(), time.monotonic()
            read_until(conn, seen, size, started, timeouts(CLIENT_TIMEOUT))
            echo, at = upper(bytes(seen.received)), 0
            for i, piece in enumerate(pieces):
                end = len(echo) if i == len(pieces) - 1 else at + piece
                if i:
                    time.sleep(timeouts(pause))
                if write(conn, echo[at:end], timeouts(STALL)):
                    return
                at = end

    return handler


# -- running the client ----------------------------------------------------------------------------
def converse(
    client: ClientRunner,
    record: CaseRecord,
    size: int,
    handler: Handler,
    *,
    timeout: float = CLIENT_TIMEOUT,
    buffers: int | None = None,
) -> ClientRun:
    """Run the client with ``{bytes}`` = ``size`` against a fake server running ``handler``."""
    with FakeTcpServer(
        handler, record.transcript, host=HOST, rcvbuf=buffers, sndbuf=buffers
    ) as fake:
        run = client.run(port=fake.port, host=HOST, timeout=timeout, bytes=str(size))
        if fake.connections:
            fake.wait_done(client.timeouts(1.0))
        fake.check()
    return run


def how_it_ended(run: ClientRun) -> str:
    if run.timed_out:
        return f"the client was still running after {run.duration:.1f} s and was ended"
    tail = run.stderr.strip().splitlines()[-1:] if run.stderr.strip() else []
    said = f" (standard error: {tail[0][:200]!r})" if tail else ""
    return f"exit status {run.status} after {run.duration:.2f} s{said}"


def expect_success(run: ClientRun, seen: Seen, within: str = "", *, strict: bool = False) -> None:
    """Exit status 0 (``strict``: and nothing went wrong on the suite's side either)."""
    __tracebackhide__ = True
    server_side = f"; the suite's server: {seen.problem}" if seen.problem else ""
    expect(
        run.status == 0 and not (strict and seen.problem),
        expected=f"exit status 0{within}"
        + (", every write of the suite's finished" if strict else ""),
        actual=how_it_ended(run) + server_side,
    )


def expect_failure(run: ClientRun) -> None:
    __tracebackhide__ = True
    expect(
        run.status is not None and run.status != 0,
        expected="a non-zero exit status (the reply is not the echo of the text)",
        actual=how_it_ended(run),
    )


# -- §3.1 Sends the text ---------------------------------------------------------------------------
SENDS = (
    "The client MUST open one connection to `{host}` port `{port}` and send exactly `{bytes}` "
    "octets on it, each in the range 0x00-0x7F (ASCII)."
)


def check_sent(client: ClientRunner, record: CaseRecord, timeouts: Timeouts, size: int) -> None:
    __tracebackhide__ = True
    recorder = Recorder()
    handler = echo_as_it_reads(recorder, size, timeouts, settle=SETTLE)
    run = converse(client, record, size, handler)
    expected = f"exactly {size:,} octets, all below 0x80, on one connection and no other"
    count = len(recorder.seen)
    expect(
        count == 1,
        expected=expected,
        actual=f"{count} connections" if count else f"no connection; {how_it_ended(run)}",
    )
    sent = bytes(recorder.seen[0].received)
    expect(len(sent) == size, expected=expected, actual=f"{len(sent):,} octets: {excerpt(sent)}")
    high = next((i for i, b in enumerate(sent) if b >= ASCII_LIMIT), None)
    expect(
        high is None,
        expected=expected,
        actual=f"octet {high:,} is {sent[high]:02x}" if high is not None else "",
    )


@case("tcp/3.1/1", MUST, SENDS)
def test_sends_1000(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    check_sent(client, record, timeouts, 1000)


@case("tcp/3.1/2", MUST, SENDS)
def test_sends_1(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    check_sent(client, record, timeouts, 1)


@case("tcp/3.1/3", MUST, SENDS)
def test_sends_100000(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    check_sent(client, record, timeouts, 100_000)


# -- §3.2 Half-close -------------------------------------------------------------------------------
HALF_CLOSE = (
    "After its last octet the client MUST shut down its sending side (`shutdown(SHUT_WR)` in the "
    "sockets API, CLOSE in RFC 9293), and it MUST then keep reading until end-of-stream; it MUST "
    "NOT close its socket before."
)


@case("tcp/3.2/1", MUST, HALF_CLOSE, rfc="RFC 9293 §3.6")
def test_shuts_down(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    recorder = Recorder()
    handler = echo_as_it_reads(recorder, 1000, timeouts, until_eof=True)
    run = converse(client, record, 1000, handler)
    seen = recorder.first()
    expect(
        seen.eof_after is not None,
        expected=f"end-of-stream from the client within {EOF_WITHIN:g} s of the connection",
        actual=f"{len(seen.received):,} octets, then {seen.problem or 'no end-of-stream'}",
    )
    expect_success(run, seen)


@case("tcp/3.2/2", MUST, HALF_CLOSE, rfc="RFC 9293 §3.6")
def test_reads_after_shutdown(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    recorder = Recorder()
    run = converse(client, record, 1000, silent_until_eof_then_echo(recorder, 1000, timeouts))
    expect_success(run, recorder.first())


# -- §3.3 Verdict by exit status -------------------------------------------------------------------
VERDICT = (
    "The client MUST exit with status 0 when the reply is exactly the upper-cased text it sent, "
    "followed by end-of-stream, and with a non-zero status in every other case: a reply that "
    "differs in any octet, is shorter or longer, or a connection that fails."
)


def flipped(data: bytes) -> bytes:
    echo = bytearray(upper(data))
    if len(echo) > FLIPPED_OFFSET:
        echo[FLIPPED_OFFSET] ^= 0x01
    return bytes(echo)


def run_verdict(
    client: ClientRunner, record: CaseRecord, timeouts: Timeouts, reply: Reply
) -> tuple[ClientRun, Seen]:
    recorder = Recorder()
    run = converse(client, record, 1000, reply_when_complete(recorder, 1000, timeouts, reply))
    return run, recorder.first()


@case("tcp/3.3/1", MUST, VERDICT)
def test_right_reply(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    run, seen = run_verdict(client, record, timeouts, upper)
    expect_success(run, seen)


@case("tcp/3.3/2", MUST, VERDICT)
def test_reply_not_upper_cased(
    client: ClientRunner, record: CaseRecord, timeouts: Timeouts
) -> None:
    run, _ = run_verdict(client, record, timeouts, bytes)
    expect_failure(run)


@case("tcp/3.3/3", MUST, VERDICT)
def test_reply_one_bit_flipped(
    client: ClientRunner, record: CaseRecord, timeouts: Timeouts
) -> None:
    run, _ = run_verdict(client, record, timeouts, flipped)
    expect_failure(run)


@case("tcp/3.3/4", MUST, VERDICT)
def test_reply_one_short(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    run, _ = run_verdict(client, record, timeouts, lambda data: upper(data)[:-1])
    expect_failure(run)


@case("tcp/3.3/5", MUST, VERDICT)
def test_reply_one_too_many(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    run, _ = run_verdict(client, record, timeouts, lambda data: upper(data) + b"X")
    expect_failure(run)


@case("tcp/3.3/6", MUST, VERDICT)
def test_reset(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    run, _ = run_verdict(client, record, timeouts, lambda data: None)
    expect_failure(run)


# -- §3.4 No deadlock ------------------------------------------------------------------------------
@case(
    "tcp/3.4/1",
    MUST,
    "The client MUST read the reply while it is still sending: it MUST NOT wait for its last "
    "write to complete before it starts reading.",
    rfc="RFC 9293 §3.8.6.1",
)
def test_no_deadlock(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    recorder = Recorder()
    small_buffers_blocking_echo = echo_as_it_reads(recorder, DEADLOCK_BYTES, timeouts)
    run = converse(
        client,
        record,
        DEADLOCK_BYTES,
        small_buffers_blocking_echo,
        timeout=DEADLOCK_LIMIT,
        buffers=SMALL_BUFFER,
    )
    expect_success(run, recorder.first(), f" within {DEADLOCK_LIMIT:g} s", strict=True)


# -- §3.5 Reads until close ------------------------------------------------------------------------
UNTIL_CLOSE = (
    "The client MUST keep reading until end-of-stream: it MUST NOT assume that the reply arrives "
    "in one piece, in a given number of pieces, or without pauses."
)


@case("tcp/3.5/1", MUST, UNTIL_CLOSE)
def test_reply_in_many_pieces(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    recorder = Recorder()
    pieces = [PIECE] * (100_000 // PIECE)
    handler = echo_in_pieces(recorder, 100_000, timeouts, pieces, PIECE_PAUSE)
    run = converse(client, record, 100_000, handler)
    expect_success(run, recorder.first())


@case("tcp/3.5/2", MUST, UNTIL_CLOSE)
def test_reply_with_pauses(client: ClientRunner, record: CaseRecord, timeouts: Timeouts) -> None:
    recorder = Recorder()
    handler = echo_in_pieces(recorder, 1000, timeouts, [1, 499, 500], SPLIT_PAUSE)
    run = converse(client, record, 1000, handler)
    expect_success(run, recorder.first())
